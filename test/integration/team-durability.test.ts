/**
 * A group across a crash: kill -9 the engine right after the
 * acknowledgements of membership, role, mute and invitation changes and a
 * few messages, restart it on the same data (and the same NATS server), and
 * the group is as it was: profile, members and roles, the mute, the open
 * and answered invitations, the numbering, unread counts and history; a
 * supergroup's pins, reactions, thread index and clear marks likewise, and
 * the recalls it keeps for its members' unread counts.
 */
import { expect, it } from 'vitest';
import type { TeamSysMsg } from '../../engine/protocol/methods/teams.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useCrashableEngines } from '../helpers/crashable-engines.ts';

describeBothModes('groups across kill -9', ({ name, engineOptions }) => {
  const { start, client, dataDir } = useCrashableEngines(engineOptions);

  it('keeps the profile, members, roles, mutes, invitations, numbering and unread', async () => {
    const [o, a, b, c, d] = ['owner', 'ann', 'ben', 'cat', 'dan'].map((x) => `${x}-${name}`);
    let engine = await start();
    const oc = await client(engine, o!);
    const [ac, bc, cc] = [await client(engine, a!), await client(engine, b!), await client(engine, c!)];
    const { team } = await oc.createTeam({ name: 'keep', beInviteMode: 'noVerify', accounts: [a!, b!, d!] });
    await oc.addTeamManagers({ teamId: team.teamId, accounts: [a!] });
    await oc.updateMuteStateInTeam({ teamId: team.teamId, account: b!, mute: true });
    await oc.removeTeamMembers({ teamId: team.teamId, accounts: [d!] });
    await oc.updateTeam({ teamId: team.teamId, beInviteMode: 'needVerify', intro: 'kept' });
    const invites: TeamSysMsg[] = [];
    cc.on('sysmsg', ((m: TeamSysMsg) => invites.push(m)) as never);
    await oc.addTeamMembers({ teamId: team.teamId, accounts: [c!] });
    await waitFor("cat's invitation", () => invites.length === 1);
    await oc.sendText({ scene: 'team', to: team.teamId, text: 'one' });
    const two = await ac.sendText({ scene: 'team', to: team.teamId, text: 'two' });
    await waitFor("ben's session to count two", async () => (await bc.getServerSessions()).sessionList.find((s) => s.id === `team-${team.teamId}`)?.unread === 2);
    engine.process.kill('SIGKILL');
    await engine.exited;

    engine = await start();
    const o2 = await client(engine, o!);
    const b2 = await client(engine, b!);
    const c2 = await client(engine, c!);
    expect(await o2.getTeam({ teamId: team.teamId })).toMatchObject({ intro: 'kept', beInviteMode: 'needVerify', memberNum: 3, owner: o });
    const { members } = await o2.getTeamMembers({ teamId: team.teamId });
    expect(new Map(members.map((m) => [m.account, [m.type, m.mute]]))).toEqual(new Map([[o, ['owner', false]], [a, ['manager', false]], [b, ['normal', true]]]));
    expect((await rejectionOf(b2.sendText({ scene: 'team', to: team.teamId, text: 'x' }))).name).toBe('MUTED');
    const three = await o2.sendText({ scene: 'team', to: team.teamId, text: 'three' });
    expect(three.seq).toBe(two.seq + 1);
    await waitFor("ben's session to count three", async () => (await b2.getServerSessions()).sessionList.find((s) => s.id === `team-${team.teamId}`)?.unread === 3);
    expect((await b2.getHistoryMsgs({ scene: 'team', to: team.teamId, msgTypes: ['text'] })).msgs.map((m) => m.text)).toEqual(['three', 'two', 'one']);
    await c2.acceptTeamInvite({ teamId: team.teamId, from: o!, idServer: invites[0]!.idServer });
    expect((await rejectionOf(c2.acceptTeamInvite({ teamId: team.teamId, from: o!, idServer: invites[0]!.idServer }))).name).toBe('CONFLICT');
    expect((await b2.getTeams()).map((t) => t.teamId)).toContain(team.teamId);
  });

  it("keeps a supergroup's pins, reactions, threads and clear marks", async () => {
    const [o, a] = ['sowner', 'sann'].map((x) => `${x}-${name}`);
    let engine = await start({ PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' });
    const oc = await client(engine, o!);
    const ac = await client(engine, a!);
    const { team } = await oc.createSuperTeam({ name: 'keep', beInviteMode: 'noVerify', accounts: [a!] });
    const scene = 'superTeam' as const;
    const root = await oc.sendText({ scene, to: team.teamId, text: 'root' });
    const ref = { scene, from: root.from, to: root.to, time: root.time, idServer: root.idServer };
    await ac.sendText({ scene, to: team.teamId, text: 'reply', replyMsg: ref });
    await ac.addMsgPin({ msg: ref, pinCustom: 'p' });
    await oc.addQuickComment({ msg: ref, body: 7 });
    await ac.clearServerHistoryMsgs({ scene, to: team.teamId });
    engine.process.kill('SIGKILL');
    await engine.exited;

    engine = await start({ PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' });
    const o2 = await client(engine, o!);
    const a2 = await client(engine, a!);
    expect((await o2.getMsgPins(`superTeam-${team.teamId}`)).pins.map((p) => [p.msg.idServer, p.pinCustom])).toEqual([[root.idServer, 'p']]);
    expect((await o2.getQuickComments({ msgs: [ref] }))[0]!.comments.map((c) => [c.from, c.body])).toEqual([[o, 7]]);
    const thread = await o2.getThreadMsgs({ scene, threadMsgFromAccount: root.from, threadMsgToAccount: root.to, threadMsgIdServer: root.idServer, threadMsgTime: root.time });
    expect([thread.total, thread.msgs.map((m) => m.text)]).toEqual([1, ['reply']]);
    expect((await a2.getHistoryMsgs({ scene, to: team.teamId, msgTypes: ['text'] })).msgs).toEqual([]);
    expect((await o2.getHistoryMsgs({ scene, to: team.teamId, msgTypes: ['text'] })).msgs.map((m) => m.text)).toEqual(['reply', 'root']);
  });

  it("keeps a supergroup's recalls: a member who had not read a recalled message does not count it after the restart", async () => {
    const [o, a] = ['rowner', 'rann'].map((x) => `${x}-${name}`);
    let engine = await start({ PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' });
    const oc = await client(engine, o!);
    const { team } = await oc.createSuperTeam({ name: 'keep', beInviteMode: 'noVerify', accounts: [a!] });
    const scene = 'superTeam' as const;
    const ac = await client(engine, a!);
    await waitFor("the supergroup in ann's list", async () => (await ac.getSuperTeams()).some((t) => t.teamId === team.teamId));
    const one = await oc.sendText({ scene, to: team.teamId, text: 'one' });
    const gone = await oc.sendText({ scene, to: team.teamId, text: 'gone' });
    await oc.recallMsg({ msg: gone });
    engine.process.kill('SIGKILL');
    await engine.exited;

    engine = await start({ PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' });
    const a2 = await client(engine, a!);
    await a2.synced;
    const sid = `superTeam-${team.teamId}`;
    const session = async () => (await a2.getServerSessions()).sessionList.find((x) => x.id === sid);
    await waitFor('the session to show the message left', async () => (await session())?.lastMsg?.idServer === one.idServer);
    expect((await session())?.unread).toBe(1);
  });
});
