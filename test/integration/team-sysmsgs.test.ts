/**
 * Custom system notifications to a team and a supergroup, over the wire
 * with the SDK in both modes: every other member's devices hear an online
 * one, nobody offline keeps it; a kept one reaches a member's next login;
 * a non-member is refused; the group's history and unread counts are
 * untouched. The admin API sends one as any member.
 */
import { expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Events } from '../../engine/protocol/events.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { useConnections } from '../helpers/connections.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';

const KEY = 'admin-key-team-sysmsgs-0123456789';

describeBothModes('custom system notifications to groups', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_ADMIN_API_KEY: KEY, PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);
  const hear = (c: ParleyClient) => {
    const got: Array<Events['customsysmsg']> = [];
    c.on('customsysmsg', (d) => got.push(d));
    return got;
  };

  for (const scene of ['team', 'superTeam'] as const) {
    it(`${scene}: reaches the other members, online only or kept; refuses a non-member; leaves history alone`, async () => {
      const [o, a, b, x] = [freshAccount('owner'), freshAccount('ann'), freshAccount('bea'), freshAccount('out')];
      const owner = await conns.client(o);
      const ann = await conns.client(a);
      const outsider = await conns.client(x);
      const create = scene === 'team' ? owner.createTeam.bind(owner) : owner.createSuperTeam.bind(owner);
      const { team } = await create({ name: 'g', beInviteMode: 'noVerify', accounts: [a, b] } as never);
      const [ownerHeard, annHeard] = [hear(owner), hear(ann)];

      const live = await ann.sendCustomSysMsg({ scene, to: team.teamId, content: 'typing' });
      expect(live).toMatchObject({ type: 'custom', scene, from: a, to: team.teamId, content: 'typing' });
      await waitFor('the owner hears it', () => ownerHeard.length === 1);
      expect(ownerHeard[0]).toMatchObject({ from: a, content: 'typing' });
      expect(annHeard).toEqual([]);

      await owner.sendCustomSysMsg({ scene, to: team.teamId, content: 'meeting at 3', sendToOnlineUsersOnly: false });
      await waitFor('ann hears the kept one', () => annHeard.length === 1);
      // bea was offline: she gets the kept one at login, not the online-only one.
      const kept: Array<Events['offlinecustomsysmsgs']> = [];
      const bea = await conns.client(b, { on: { offlinecustomsysmsgs: (d: Events['offlinecustomsysmsgs']) => kept.push(d) } });
      await bea.synced;
      expect(kept.flat().map((m) => m.content)).toEqual(['meeting at 3']);

      expect(await rejectionOf(outsider.sendCustomSysMsg({ scene, to: team.teamId, content: 'let me in' }))).toMatchObject({ name: 'NOT_MEMBER' });
      const history = await owner.getHistoryMsgs({ scene, to: team.teamId });
      expect(history.msgs.every((m) => m.type === 'notification')).toBe(true);

      const res = await fetch(`http://127.0.0.1:${engine.port}/v1/admin/sendSysMsg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ from: o, scene, to: team.teamId, content: 'from the backend' }),
      });
      expect(res.status).toBe(200);
      await waitFor('ann hears the backend one', () => annHeard.some((m) => m.content === 'from the backend'));
    });
  }
});
