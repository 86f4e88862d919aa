/**
 * Recalls in an advanced group over the wire with the SDK, in both modes, as
 * in p2p: every member hears the `deleteMsg` notification through its
 * notification store, so a member offline at the recall gets it at its next
 * login; and a recalled message another member had not read leaves that
 * member's unread count (one it had read, or its own, changes nothing).
 */
import { expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { SysMsg } from '../../engine/protocol/methods.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { heard } from '../helpers/groups.ts';

describeBothModes('recalls in an advanced group', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

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
});
