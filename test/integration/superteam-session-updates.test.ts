/**
 * Supergroup sessions on the device, over the wire with the SDK, in both
 * modes: the engine writes no session per supergroup message, and the
 * edges send each live one's `updatesessions` — the newest message as
 * `lastMsg`, one more unread for a message of another account that counts,
 * none for the account's own (on its other devices) or for a
 * notification — starting from the counts of the login sync and of a
 * reset, and leaving out a recall once the sessions were read. A member
 * mute's notification reaches every member but the operator with its
 * session update.
 */
import { expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Session } from '../../engine/protocol/methods.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';

describeBothModes('supergroup session updates', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);

  /** The `updatesessions` entries of session `sid` a client hears, in order. */
  function updates(c: ParleyClient, sid: string): Session[] {
    const seen: Session[] = [];
    c.on('updatesessions', (list: Session[]) => seen.push(...list.filter((s) => s.id === sid)));
    return seen;
  }
  const view = (list: Session[]) => list.map((s) => [s.lastMsg?.idServer, s.unread]);

  it('each live message updates the session: lastMsg, and unread for others\' messages from the login count on', async () => {
    const [o, a, b] = [account('owner'), account('ann'), account('ben')];
    const phone = await conns.client(o, { deviceId: 'phone' });
    const { team } = await phone.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a, b] });
    const sid = `superTeam-${team.teamId}`;
    const before = await phone.sendText({ scene: 'superTeam', to: team.teamId, text: 'before ann logs in' });
    const desk = await conns.client(o, { deviceId: 'desk' });
    const ac = await conns.client(a);
    const bc = await conns.client(b);
    await Promise.all([desk.synced, ac.synced, bc.synced]);
    expect((await ac.getServerSessions()).sessionList.find((s) => s.id === sid)).toMatchObject({ unread: 1, lastMsg: { idServer: before.idServer } });
    const [atAnn, atDesk, atBen] = [updates(ac, sid), updates(desk, sid), updates(bc, sid)];

    const m1 = await phone.sendText({ scene: 'superTeam', to: team.teamId, text: 'one' });
    const m2 = await bc.sendText({ scene: 'superTeam', to: team.teamId, text: 'two' });
    await waitFor('ann to hear both', () => atAnn.length === 2);
    expect(view(atAnn)).toEqual([[m1.idServer, 2], [m2.idServer, 3]]);
    // The sender's own messages move the session on its other devices without counting: the desk had nothing unread.
    // The sending device's reply brings its message; it hears no session update of its own send.
    await waitFor('the desk to hear both and ben the first', () => atDesk.length === 2 && atBen.length === 1);
    expect(view(atDesk)).toEqual([[m1.idServer, 0], [m2.idServer, 1]]);
    expect(view(atBen)).toEqual([[m1.idServer, 2]]);
    expect(atAnn[1]).toMatchObject({ id: sid, scene: 'superTeam', to: team.teamId, updateTime: m2.time });

    // A reset starts the count again.
    await ac.resetSuperTeamSessionsUnread([sid]);
    await waitFor("ann's reset to reach her device", () => atAnn.some((s) => s.unread === 0));
    const m3 = await phone.sendText({ scene: 'superTeam', to: team.teamId, text: 'three' });
    await waitFor('ann to hear the third', () => atAnn.some((s) => s.lastMsg?.idServer === m3.idServer));
    expect(atAnn.at(-1)).toMatchObject({ unread: 1, lastMsg: { idServer: m3.idServer } });
    expect((await ac.getServerSessions()).sessionList.find((s) => s.id === sid)?.unread).toBe(1);
  });

  it("the server's session updates set the count again: a recalled message stops counting once the sessions are read", async () => {
    const [o, a] = [account('owner'), account('ann')];
    const oc = await conns.client(o);
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a] });
    const sid = `superTeam-${team.teamId}`;
    const ac = await conns.client(a);
    await Promise.all([oc.synced, ac.synced]);
    const atAnn = updates(ac, sid);
    const gone = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'oops' });
    await waitFor('ann to count it', () => atAnn.some((s) => s.unread === 1));
    const recalls: unknown[] = [];
    ac.on('sysmsg', (d) => recalls.push(d));
    await oc.recallMsg({ msg: gone });
    await waitFor('ann to hear the recall', () => recalls.length === 1);
    expect((await ac.getServerSessions()).sessionList.find((s) => s.id === sid)?.unread).toBe(0);
    const next = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'next' });
    await waitFor('ann to hear the next', () => atAnn.some((s) => s.lastMsg?.idServer === next.idServer));
    expect(atAnn.at(-1)).toMatchObject({ unread: 1 });
  });

  it("a member mute's notification updates every member's session but the operator's, counting nothing", async () => {
    const [o, a, b] = [account('owner'), account('ann'), account('ben')];
    const oc = await conns.client(o);
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a, b] });
    const sid = `superTeam-${team.teamId}`;
    const ac = await conns.client(a);
    const bc = await conns.client(b);
    await Promise.all([oc.synced, ac.synced, bc.synced]);
    const [atOwner, atAnn, atBen] = [updates(oc, sid), updates(ac, sid), updates(bc, sid)];
    await oc.updateSuperTeamMembersMute({ teamId: team.teamId, accounts: [b], mute: true });
    await waitFor('ann and ben to hear the notification', () => atAnn.length === 1 && atBen.length === 1);
    for (const list of [atAnn, atBen]) expect(list[0]).toMatchObject({ unread: 0, lastMsg: { type: 'notification', attach: { type: 'updateMemberMute' } } });
    // A message after it: the owner's session moves with it, never with the notification.
    const after = await ac.sendText({ scene: 'superTeam', to: team.teamId, text: 'after' });
    await waitFor('the owner to hear the message after', () => atOwner.length >= 1);
    expect(view(atOwner)).toEqual([[after.idServer, 1]]);
  });
});
