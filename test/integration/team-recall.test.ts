/**
 * Recalls in groups over the wire with the SDK, in both modes. In an
 * advanced group, as in p2p, every member hears the `deleteMsg`
 * notification through its notification store, so a member offline at the
 * recall gets it at its next login. In both scenes a recalled message
 * another member had not read leaves that member's unread count (one it had
 * read, or its own, changes nothing): in a supergroup when its session is
 * next read, since no member's actor is told of a recall. Past the recall
 * window nobody recalls, the owner included; notification messages never.
 */
import { afterEach, expect, it } from 'vitest';
import { conversationSettings } from '../../actors/conversation/behavior.ts';
import { RECALL_WINDOW_MS } from '../../actors/conversation/logic.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import { refusal } from '../helpers/groups.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { SysMsg } from '../../engine/protocol/methods.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { heard } from '../helpers/groups.ts';

describeBothModes('recalls in groups', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);

  afterEach(() => {
    conversationSettings.recallWindowMs = RECALL_WINDOW_MS;
  });

  for (const scene of ['team', 'superTeam'] as const) {
    it(`${scene}: past the recall window nobody recalls, the owner included; notification messages are never recalled`, async () => {
      const [o, a] = [account('owner'), account('ann')];
      const oc = await conns.client(o);
      const ac = await conns.client(a);
      const create = scene === 'team' ? oc.createTeam.bind(oc) : oc.createSuperTeam.bind(oc);
      const { team } = await create({ name: 'g', beInviteMode: 'noVerify', accounts: [a] });
      const notes: Message[] = [];
      ac.on('msg', (m: Message) => {
        if (m.type === 'notification') notes.push(m);
      });
      const mute = scene === 'team' ? () => oc.muteTeamAll({ teamId: team.teamId, mute: true }) : () => oc.updateSuperTeamMute({ teamId: team.teamId, mute: true });
      await mute();
      await waitFor('a notification message at ann', () => notes.length > 0);
      await refusal(oc.recallMsg({ msg: notes[0]! }), 'FORBIDDEN', /notification messages cannot be recalled/);
      const m = await oc.sendText({ scene, to: team.teamId, text: 'late' });
      conversationSettings.recallWindowMs = 1;
      await waitFor('the window to pass', () => Date.now() > m.time + 1);
      await refusal(oc.recallMsg({ msg: m }), 'EXPIRED', /recall window of 1 ms/);
      await refusal(ac.recallMsg({ msg: m }), 'FORBIDDEN', /only the sender/);
    });
  }

  for (const scene of ['team', 'superTeam'] as const) {
    it(`${scene}: a message sent before a member joined never counted for it, so its recall takes nothing from its count`, async () => {
      const [o, a, late] = [account('owner'), account('ann'), account('late')];
      const oc = await conns.client(o);
      const create = scene === 'team' ? oc.createTeam.bind(oc) : oc.createSuperTeam.bind(oc);
      const { team } = await create({ name: 'g', beInviteMode: 'noVerify', accounts: [a] });
      const sid = `${scene}-${team.teamId}`;
      const early = await oc.sendText({ scene, to: team.teamId, text: 'before the join' });
      await waitFor('the clock to pass the send', () => Date.now() > early.time);
      if (scene === 'team') await oc.addTeamMembers({ teamId: team.teamId, accounts: [late] });
      else await oc.addSuperTeamMembers({ teamId: team.teamId, accounts: [late] });
      const lc = await conns.client(late);
      await lc.synced;
      const after = await oc.sendText({ scene, to: team.teamId, text: 'after the join' });
      await waitFor('the late member to see the message after', async () => (await lc.getServerSessions()).sessionList.find((s) => s.id === sid)?.lastMsg?.idServer === after.idServer);
      expect(await unreadOf(lc, sid)).toBe(1);
      const heardRecall = heard<SysMsg>(lc, 'sysmsg');
      await oc.recallMsg({ msg: early });
      await waitFor('the late member to hear the recall', () => heardRecall.some((x) => x.type === 'deleteMsg'));
      const seen = await conns.client(a);
      await waitFor("ann's count to lose it", async () => (await unreadOf(seen, sid)) === 1);
      expect(await unreadOf(lc, sid)).toBe(1);
    });
  }

  const unreadOf = async (c: ParleyClient, sid: string) => (await c.getServerSessions()).sessionList.find((s) => s.id === sid)?.unread;

  it("takes a recalled message out of each member's unread count, and reaches members offline at their next login", async () => {
    const [o, m, a, b] = [account('owner'), account('mgr'), account('ann'), account('ben')];
    const oc = await conns.client(o);
    const mc = await conns.client(m);
    const ac = await conns.client(a);
    const { team } = await oc.createTeam({ name: 'g', beInviteMode: 'noVerify', accounts: [m, a, b] });
    await oc.addTeamManagers({ teamId: team.teamId, accounts: [m] });
    const sid = `team-${team.teamId}`;
    const to = { scene: 'team' as const, to: team.teamId };
    const keep = await oc.sendText({ ...to, text: 'keep' });
    const gone = await oc.sendText({ ...to, text: 'gone' });
    const byAnn = await ac.sendText({ ...to, text: 'mine' });
    await waitFor('three unread for the manager', async () => (await unreadOf(mc, sid)) === 3);
    await waitFor('two unread for ann', async () => (await unreadOf(ac, sid)) === 2);

    // The manager reads everything, then the owner recalls one of its messages and the manager one of ann's.
    await mc.resetSessionUnread(sid);
    const atAnn = heard<SysMsg>(ac, 'sysmsg');
    await oc.recallMsg({ msg: gone });
    await mc.recallMsg({ msg: byAnn });
    await waitFor('ann to hear both recalls', () => atAnn.filter((x) => x.type === 'deleteMsg').length === 2);
    await waitFor("ann's count to lose the owner's recalled message", async () => (await unreadOf(ac, sid)) === 1);
    // Read before the recall: the manager's count stays at nothing; the next message counts as before.
    const next = await oc.sendText({ ...to, text: 'next' });
    await waitFor('the manager to see the next message', async () => (await mc.getServerSessions()).sessionList.find((s) => s.id === sid)?.lastMsg?.idServer === next.idServer);
    expect(await unreadOf(mc, sid)).toBe(1);

    // Ben was offline throughout: his login brings both notifications, and a count without the recalled ones.
    const kept: SysMsg[] = [];
    const bc = await conns.client(b, { on: { offlinesysmsgs: ((d: SysMsg[]) => kept.push(...d)) as never } });
    await bc.synced;
    const recalls = kept.filter((x) => x.type === 'deleteMsg');
    expect(recalls.map((x) => [x.from, x.msg?.idServer]).sort()).toEqual([[o, gone.idServer], [m, byAnn.idServer]].sort());
    expect(recalls.every((x) => x.scene === 'team' && x.to === team.teamId)).toBe(true);
    expect(await unreadOf(bc, sid)).toBe(2);
    void keep;
  });

  it("supergroup: a recalled message leaves the unread count of those who had not read it, at login too", async () => {
    const [o, a, b] = [account('owner'), account('ann'), account('ben')];
    const oc = await conns.client(o);
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a, b] });
    const sid = `superTeam-${team.teamId}`;
    const to = { scene: 'superTeam' as const, to: team.teamId };
    const ac = await conns.client(a);
    await ac.synced;
    const one = await oc.sendText({ ...to, text: 'one' });
    const gone = await oc.sendText({ ...to, text: 'gone' });
    await oc.sendText({ ...to, text: 'three' });
    await waitFor('three unread for ann', async () => (await unreadOf(ac, sid)) === 3);
    const atAnn = heard<SysMsg>(ac, 'sysmsg');
    await oc.recallMsg({ msg: gone });
    await waitFor('ann to hear the recall', () => atAnn.some((x) => x.type === 'deleteMsg' && x.msg?.idServer === gone.idServer));
    expect(await unreadOf(ac, sid)).toBe(2);
    // Read up to here, an older recall changes nothing; reading it again changes nothing either.
    await ac.resetSuperTeamSessionsUnread([sid]);
    await oc.recallMsg({ msg: one });
    const next = await oc.sendText({ ...to, text: 'next' });
    await waitFor('ann to see the next message', async () => (await ac.getServerSessions()).sessionList.find((s) => s.id === sid)?.lastMsg?.idServer === next.idServer);
    expect(await unreadOf(ac, sid)).toBe(1);
    expect(await unreadOf(ac, sid)).toBe(1);
    // Ben never read anything: four sent, two recalled.
    const bc = await conns.client(b);
    await bc.synced;
    expect(await unreadOf(bc, sid)).toBe(2);
    expect(await unreadOf(oc, sid)).toBe(0);
  });
});
