/**
 * The login sync in bounded pages, end to end in both modes: a Bus whose
 * message limit is small (NATS `max_payload: 64 KiB`, the embedded Bus
 * configured alike) so that a session or a session list larger than one Bus
 * message is cheap to build, then a fresh device logging in with the real
 * SDK and with raw frames.
 */
import { describe, expect, it } from 'vitest';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { Message, Session } from '../../engine/protocol/methods.ts';
import { tokenFor } from '../helpers/engine.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { waitFor } from '../helpers/wait.ts';

const MAX_PAYLOAD = 64 * 1024;
const TEXT_CHARS = 1000;
/** The slow-consumer bound of the engine under test, bytes. */
const BOUND = 128 * 1024;

let accountSeq = 0;
function account(name: string): string {
  return `${name}${++accountSeq}y${Date.now().toString(36)}`;
}

describeBothModes('login sync in pages', (mode) => {
  const engine = mode.useEngine({
    env: {
      PARLEY_EMBEDDED_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD),
      PARLEY_REQUEST_TIMEOUT_MS: '3000',
      PARLEY_MAX_BACKPRESSURE_BYTES: String(BOUND),
      PARLEY_DRAIN_TIMEOUT_MS: '1000',
    },
  });
  const conns = useConnections(() => engine.url);

  function client(acct: string, on?: Parameters<typeof connect>[0]['on']): Promise<ParleyClient> {
    return conns.client(acct, on === undefined ? {} : { on });
  }

  function raw(): Promise<RawClient> {
    return conns.raw();
  }

  const text = (i: number) => `${i}:`.padEnd(TEXT_CHARS, 'x');

  it('syncs a session larger than one Bus message completely, in seq order, nothing doubled', async () => {
    const alice = account('alice');
    const bob = account('bob');
    const a = await client(alice);
    const n = 150; // about 3 Bus messages of offline messages
    for (let i = 1; i <= n; i++) await a.sendText({ scene: 'p2p', to: bob, text: text(i) });

    // Raw frames: the order on the wire.
    const r = await raw();
    const login = await r.request('login', { token: await tokenFor(bob) });
    expect(login.e).toBeUndefined();
    await r.event('syncdone', 20_000);
    const sync = r.received.filter((f) => f.ev === 'sessions' || f.ev === 'offlinemsgs' || f.ev === 'syncdone');
    expect(sync[0]!.ev).toBe('sessions');
    expect(sync.at(-1)!.ev).toBe('syncdone');
    const pages = sync.filter((f) => f.ev === 'offlinemsgs');
    expect(pages.length).toBeGreaterThan(1);
    for (const p of pages) expect(p.d).toMatchObject({ sessionId: `p2p-${alice}`, scene: 'p2p', to: alice });
    const seqs = pages.flatMap((p) => p.d.msgs.map((m: Message) => m.seq));
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(pages.flatMap((p) => p.d.msgs.map((m: Message) => m.text))).toEqual(Array.from({ length: n }, (_, i) => text(i + 1)));

    // The SDK: the same messages through its offlinemsgs events, then syncdone.
    const seen: Message[] = [];
    const b = await client(bob, { offlinemsgs: (o) => seen.push(...o.msgs) });
    await b.waitForSync(20_000);
    expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  }, 60_000);

  it('syncs more sessions than one Bus message holds, each with its offline messages', async () => {
    const bob = account('bob');
    const peers = Array.from({ length: 80 }, () => account('peer')); // 80 sessions with a 1 KB last message: over 64 KiB
    const senders = await Promise.all(peers.map((p) => client(p)));
    await Promise.all(senders.map((s) => s.sendText({ scene: 'p2p', to: bob, text: text(1) })));
    // Sessions are kept by the user actor, which hears of each send just after it is acknowledged.
    const watcher = await client(bob);
    await waitFor('bob to have every session', async () => {
      const page = await watcher.getServerSessions({ limit: 100, needLastMsg: false });
      return page.sessionList.length === peers.length;
    }, 10_000);

    const r = await raw();
    await r.request('login', { token: await tokenFor(bob) });
    await r.event('syncdone', 20_000);
    const sessions = r.received.filter((f) => f.ev === 'sessions').flatMap((f) => f.d as Session[]);
    expect(new Set(sessions.map((s) => s.id))).toEqual(new Set(peers.map((p) => `p2p-${p}`)));
    expect(sessions).toHaveLength(peers.length);
    const offline = r.received.filter((f) => f.ev === 'offlinemsgs');
    expect(new Set(offline.map((f) => f.d.sessionId))).toEqual(new Set(peers.map((p) => `p2p-${p}`)));
    expect(offline.flatMap((f) => f.d.msgs)).toHaveLength(peers.length);
    // Every session is announced before its offline messages.
    const announced = new Set<string>();
    for (const f of r.received) {
      if (f.ev === 'sessions') for (const s of f.d as Session[]) announced.add(s.id);
      if (f.ev === 'offlinemsgs') expect(announced.has(f.d.sessionId)).toBe(true);
    }
  }, 60_000);

  it('replays more conversation changes than one page holds, oldest first, each once', async () => {
    const [me, bob] = [account('me'), account('bob')];
    const b = await client(bob);
    const got: Message[] = [];
    const desk = await client(me, { msg: ((m: Message) => got.push(m)) as never });
    const m = await b.sendText({ scene: 'p2p', to: me, text: 'react to me' });
    await waitFor('the desk holds the session', () => got.length === 1 && desk.cursors.sessions >= m.time);
    const cursors = desk.cursors;
    await desk.disconnect();
    // About 45 KB of changes: several pages of a sync whose pages are a quarter of the 128 KiB bound, each read sharing its page.
    const n = 100;
    for (let k = 0; k < n; k += 25) {
      await Promise.all(Array.from({ length: 25 }, (_, j) => b.addQuickComment({ msg: m, body: k + j, custom: `${k + j}:`.padEnd(200, 'c') })));
    }
    const replay = async () => {
      const seen: { body: number; time: number }[] = [];
      const c = await conns.client(me, { deviceId: 'desk', cursors, on: { QuickComment: (d) => seen.push({ body: d.comment.body, time: d.time ?? 0 }) } });
      await c.waitForSync(20_000);
      await c.disconnect();
      return seen;
    };
    let seen: { body: number; time: number }[] = [];
    await waitFor('every change is journaled and replayed', async () => (seen = await replay()).length >= n, 20_000);
    expect(seen.map((c) => c.body).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.time).toBeGreaterThanOrEqual(seen[i - 1]!.time);
  }, 60_000);

  it('closes a device that does not read its sync at the bound, the edge holding no more than the bound for it', async () => {
    const bob = account('bob');
    const peers = Array.from({ length: 6 }, () => account('peer'));
    const perPeer = 200;
    const big = (i: number) => `${i}:`.padEnd(5000, 'w');
    const senders = await Promise.all(peers.map((p) => client(p)));
    // About 6 MB of offline messages: more than the kernel's socket buffers and the bound hold.
    await Promise.all(
      senders.map(async (s) => {
        for (let k = 0; k < perPeer; k += 50) {
          await Promise.all(Array.from({ length: 50 }, (_, j) => s.sendText({ scene: 'p2p', to: bob, text: big(k + j) })));
        }
      }),
    );
    const watcher = await client(bob);
    await waitFor('bob to have every message counted', async () => {
      const page = await watcher.getServerSessions({ limit: 100, needLastMsg: false });
      return page.sessionList.length === peers.length && page.sessionList.every((s) => s.unread === perPeer);
    }, 20_000);

    const edge = engine.edge!;
    const before = edge.stats().connections;
    const r = await raw();
    await waitFor('the socket to be open on the edge', () => edge.stats().connections === before + 1);
    r.sendBytes(encode({ id: 1, m: 'login', a: { token: await tokenFor(bob) } }));
    (r as unknown as { ws: { _socket: { pause(): void } } }).ws._socket.pause();
    await waitFor('the non-reading socket to be closed', () => edge.stats().connections === before, 20_000);
    expect(edge.unsentStats().peakBytes).toBeLessThanOrEqual(BOUND);
    // The other sockets of the account are untouched.
    expect((await watcher.getServerTime())).toBeTypeOf('number');
  }, 90_000);
}, { nats: { extraConfig: `max_payload: ${MAX_PAYLOAD}` } });
