/**
 * Accounts named like Object.prototype members (`__proto__`, `constructor`,
 * `toString`, `hasOwnProperty`) log in, send and receive like any other:
 * unread counts are the right integers, sessions and history are theirs, and
 * the login sync delivers what they have not read. Both modes.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Message, Session } from '../../engine/protocol/methods.ts';
import { tokenFor } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'] as const;
const PLAIN = 'plainpeer';

describeBothModes('accounts named like prototype members', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  function client(account: string): Promise<ParleyClient> {
    return conns.client(account, { reconnect: false });
  }

  /** Waits until `c` lists exactly `expected` (session id → [unread, last text]). */
  async function sessionsAre(c: ParleyClient, who: string, expected: Record<string, [number, string]>): Promise<Session[]> {
    let list: Session[] = [];
    const want = new Map(Object.entries(expected));
    await waitFor(`sessions of ${who}`, async () => {
      list = (await c.getServerSessions()).sessionList;
      return list.length === want.size && list.every((s) => want.get(s.id)?.[0] === s.unread && want.get(s.id)?.[1] === s.lastMsg?.text);
    }).catch((err: Error) => {
      throw new Error(`${err.message}: have ${JSON.stringify(list.map((s) => [s.id, s.unread, s.lastMsg?.text]))}`);
    });
    return list;
  }

  it('log in, message one another and read unread counts, sessions and history', async () => {
    const plain = await client(PLAIN);
    const named = new Map<string, ParleyClient>();
    for (const n of NAMES) named.set(n, await client(n));
    const next = (i: number) => NAMES[(i + 1) % NAMES.length]!;
    const prev = (i: number) => NAMES[(i + NAMES.length - 1) % NAMES.length]!;

    // Each sends two to the next in the ring and one to the plain account, which answers each once.
    for (const [i, n] of NAMES.entries()) {
      const c = named.get(n)!;
      const first = await c.sendText({ scene: 'p2p', to: next(i), text: `${n}→${next(i)} 1` });
      expect(first).toMatchObject({ from: n, to: next(i), seq: 1, sessionId: `p2p-${next(i)}` });
      await c.sendText({ scene: 'p2p', to: next(i), text: `${n}→${next(i)} 2` });
      await c.sendText({ scene: 'p2p', to: PLAIN, text: `${n}→plain` });
      const back = await plain.sendText({ scene: 'p2p', to: n, text: `plain→${n}` });
      expect(back).toMatchObject({ from: PLAIN, to: n, seq: 2, sessionId: `p2p-${n}` });
    }

    for (const [i, n] of NAMES.entries()) {
      const c = named.get(n)!;
      // What the previous one sent (2, unread), what this one sent on (0), and the plain exchange (1).
      const list = await sessionsAre(c, n, {
        [`p2p-${prev(i)}`]: [2, `${prev(i)}→${n} 2`],
        [`p2p-${next(i)}`]: [0, `${n}→${next(i)} 2`],
        [`p2p-${PLAIN}`]: [1, `plain→${n}`],
      });
      for (const s of list) expect(Number.isInteger(s.unread)).toBe(true);
      const { session } = await c.getServerSession({ scene: 'p2p', to: prev(i) });
      expect(session).toMatchObject({ id: `p2p-${prev(i)}`, to: prev(i), unread: 2 });

      const history = await c.getHistoryMsgs({ scene: 'p2p', to: prev(i), asc: true });
      expect(history.msgs.map((m) => [m.from, m.to, m.text, m.flow])).toEqual([
        [prev(i), n, `${prev(i)}→${n} 1`, 'in'],
        [prev(i), n, `${prev(i)}→${n} 2`, 'in'],
      ]);
    }
    const plainSessions = Object.fromEntries(NAMES.map((n) => [`p2p-${n}`, [1, `plain→${n}`] as [number, string]]));
    await sessionsAre(plain, PLAIN, plainSessions);

    // A new device of each logs in: the sync carries the same counts and the unread messages.
    for (const [i, n] of NAMES.entries()) {
      const r = await conns.raw();
      const login = await r.request('login', { token: await tokenFor(n), deviceId: `fresh-${i}` });
      expect(login.r).toMatchObject({ account: n });
      const sessions = (await r.event('sessions')).d as Session[];
      expect(Object.fromEntries(sessions.map((s) => [s.id, s.unread]))).toEqual({ [`p2p-${prev(i)}`]: 2, [`p2p-${next(i)}`]: 0, [`p2p-${PLAIN}`]: 1 });
      await r.event('syncdone');
      const offline = r.received.filter((f) => f.ev === 'offlinemsgs').map((f) => f.d as { sessionId: string; msgs: Message[] });
      const fromPrev = offline.find((o) => o.sessionId === `p2p-${prev(i)}`);
      expect(fromPrev?.msgs.map((m) => m.text)).toEqual([`${prev(i)}→${n} 1`, `${prev(i)}→${n} 2`]);
      const fromPlain = offline.find((o) => o.sessionId === `p2p-${PLAIN}`);
      // Past the read pointer, both directions.
      expect(fromPlain?.msgs.map((m) => m.text)).toEqual([`${n}→plain`, `plain→${n}`]);
    }

    // Reading resets to zero, and the next message counts one again.
    const first = named.get(NAMES[0])!;
    const reset = await first.resetSessionUnread(`p2p-${prev(0)}`);
    expect(reset.session.unread).toBe(0);
    await named.get(prev(0))!.sendText({ scene: 'p2p', to: NAMES[0], text: 'again' });
    await waitFor('one unread after the reset', async () => (await first.getServerSession({ scene: 'p2p', to: prev(0) })).session.unread === 1);
  });
});
