/**
 * Server sessions over the wire, with the SDK, in both modes: resetting the
 * unread counts of several sessions at once.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Session } from '../../engine/protocol/methods.ts';
import { waitFor, rejectionOf } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount } from '../helpers/accounts.ts';

const account = freshAccount;

describeBothModes('server sessions', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  function client(acct: string, deviceId: string): Promise<ParleyClient> {
    return conns.client(acct, { deviceId });
  }

  async function unreadOf(c: ParleyClient): Promise<Record<string, number>> {
    const { sessionList } = await c.getServerSessions();
    return Object.fromEntries(sessionList.map((s) => [s.id, s.unread]));
  }

  describe('resetSessionsUnread', () => {
    it('zeroes the named sessions on every device, skips unknown ones, leaves the others', async () => {
      const [me, bob, carol, dave] = [account('me'), account('bob'), account('carol'), account('dave')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const [b, c, d] = await Promise.all([client(bob, 'b'), client(carol, 'c'), client(dave, 'd')]);
      for (let i = 0; i < 3; i++) await b.sendText({ scene: 'p2p', to: me, text: `b${i}` });
      for (let i = 0; i < 2; i++) await c.sendText({ scene: 'p2p', to: me, text: `c${i}` });
      await d.sendText({ scene: 'p2p', to: me, text: 'd0' });
      await waitFor('three sessions with unread messages', async () => {
        const u = await unreadOf(phone);
        return u[`p2p-${bob}`] === 3 && u[`p2p-${carol}`] === 2 && u[`p2p-${dave}`] === 1;
      });
      const onDesk: Session[] = [];
      desk.on('updatesessions', (list) => onDesk.push(...list));

      const { sessionList } = await phone.resetSessionsUnread([`p2p-${bob}`, `p2p-${account('nobody')}`, `p2p-${carol}`, `p2p-${bob}`]);
      expect(sessionList.map((s) => [s.id, s.unread])).toEqual([
        [`p2p-${bob}`, 0],
        [`p2p-${carol}`, 0],
      ]);
      expect(await unreadOf(phone)).toMatchObject({ [`p2p-${bob}`]: 0, [`p2p-${carol}`]: 0, [`p2p-${dave}`]: 1 });
      await waitFor('the other device hears of both', () =>
        [bob, carol].every((p) => onDesk.some((s) => s.id === `p2p-${p}` && s.unread === 0)),
      );
      // dave's session was not named: whatever the desk heard of it still counts its message.
      expect(onDesk.filter((s) => s.id === `p2p-${dave}`).every((s) => s.unread === 1)).toBe(true);
      // Again: nothing left to read, the same answer.
      const again = await phone.resetSessionsUnread([`p2p-${bob}`, `p2p-${carol}`]);
      expect(again.sessionList.map((s) => s.unread)).toEqual([0, 0]);
    });

    it('refuses an empty list, too many ids, and a malformed id, naming the argument', async () => {
      const me = await client(account('me'), 'phone');
      for (const [ids, pattern] of [
        [[], /`sessionIds` must have at least 1/],
        [Array.from({ length: 101 }, (_, i) => `p2p-u${i}`), /`sessionIds` must have at most 100 items/],
        [['p2p-ok', 'room-x'], /`sessionIds\[1\]` must be a session id/],
      ] as const) {
        const err = await rejectionOf(me.resetSessionsUnread(ids as unknown as string[]));
        expect(err).toMatchObject({ name: 'BAD_REQUEST' });
        expect(err.message).toMatch(pattern);
      }
    });
  });
});
