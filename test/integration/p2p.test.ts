/**
 * p2p messaging over the wire, with the SDK and with raw frames, in both
 * modes: embedded (in-process Bus, LMDB Log) and cluster (NATS + JetStream).
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { Message, Session } from '../../engine/protocol/methods.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { signDevToken } from '../../engine/auth/jwt-verifier.ts';
import { tokenFor, TEST_SECRET } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { RawClient } from '../helpers/raw-client.ts';

let accountSeq = 0;
/** A fresh account name per test, so tests never share conversations. */
function account(name: string): string {
  return `${name}${++accountSeq}x${Date.now().toString(36)}`;
}

describeBothModes('p2p over the wire', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  function client(acct: string, deviceId?: string): Promise<ParleyClient> {
    return conns.client(acct, deviceId ? { deviceId } : {});
  }

  function raw(): Promise<RawClient> {
    return conns.raw();
  }

  function collect<T>(c: ParleyClient, ev: 'msg' | 'updatesessions'): T[] {
    const out: T[] = [];
    c.on(ev, (d: unknown) => out.push(d as T));
    return out;
  }

  it('answers /healthz with 200', async () => {
    const res = await fetch(`http://127.0.0.1:${engine.port}/healthz`);
    expect(res.status).toBe(200);
  });

  it('logs in: reply, then sessions, then syncdone', async () => {
    const alice = account('alice');
    const r = await raw();
    const login = await r.request('login', { token: await tokenFor(alice), deviceId: 'dev-1' });
    expect(login.r).toMatchObject({ account: alice, deviceId: 'dev-1' });
    expect(typeof login.r.serverTime).toBe('number');
    await r.event('syncdone');
    expect(r.received.map((f) => f.ev ?? `reply:${f.id}`)).toEqual([`reply:${login.id}`, 'sessions', 'myinfo', 'blacklist', 'mutelist', 'friends', 'syncdone']);
    expect(r.received[1]!.d).toEqual([]);
    const time = await r.request('getServerTime');
    expect(Math.abs(time.r - Date.now())).toBeLessThan(5000);
  });

  it('delivers a send to the peer and to the sender’s other devices, not back to the sending socket', async () => {
    const alice = account('alice');
    const bob = account('bob');
    const a1 = await client(alice, 'a1');
    const a2 = await client(alice, 'a2');
    const b1 = await client(bob, 'b1');
    const gotA1 = collect<Message>(a1, 'msg');
    const gotA2 = collect<Message>(a2, 'msg');
    const gotB1 = collect<Message>(b1, 'msg');

    const sent = await a1.sendText({ scene: 'p2p', to: bob, text: 'hello', from: 'mallory' } as never);
    expect(sent).toMatchObject({ scene: 'p2p', from: alice, to: bob, flow: 'out', type: 'text', text: 'hello', seq: 1, status: 'success', sessionId: `p2p-${bob}`, target: bob, fromDeviceId: 'a1' });
    expect(typeof sent.idServer).toBe('string');
    expect(typeof sent.idClient).toBe('string');
    expect(Math.abs(sent.time - Date.now())).toBeLessThan(5000);

    await waitFor('deliveries', () => gotB1.length === 1 && gotA2.length === 1);
    expect(gotB1[0]).toMatchObject({ idServer: sent.idServer, flow: 'in', from: alice, sessionId: `p2p-${alice}`, seq: 1 });
    expect(gotA2[0]).toMatchObject({ idServer: sent.idServer, flow: 'out', sessionId: `p2p-${bob}` });
    // The sending socket got the message as its reply only.
    await b1.getServerTime();
    expect(gotA1).toEqual([]);
  });

  it('numbers concurrent sends from both sides 1..n without gaps, in history exactly once', async () => {
    const alice = account('alice');
    const bob = account('bob');
    const a = await client(alice);
    const b = await client(bob);
    const n = 100;
    const sends: Promise<Message>[] = [];
    for (let i = 0; i < n; i++) {
      sends.push(a.sendText({ scene: 'p2p', to: bob, text: `a${i}` }));
      sends.push(b.sendText({ scene: 'p2p', to: alice, text: `b${i}` }));
    }
    const acks = await Promise.all(sends);
    expect(acks.map((m) => m.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 2 * n }, (_, i) => i + 1));
    // Each side's own messages keep their send order.
    const aSeqs = acks.filter((m) => m.from === alice).map((m) => m.seq);
    expect(aSeqs).toEqual([...aSeqs].sort((x, y) => x - y));

    const all: Message[] = [];
    let page = (await a.getHistoryMsgs({ scene: 'p2p', to: bob, limit: 100 })).msgs;
    while (page.length > 0) {
      all.push(...page);
      const last = page[page.length - 1]!;
      page = (await a.getHistoryMsgs({ scene: 'p2p', to: bob, limit: 100, endTime: last.time, lastMsgId: last.idServer })).msgs;
    }
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 2 * n }, (_, i) => 2 * n - i));
    expect(new Set(all.map((m) => m.idServer)).size).toBe(2 * n);
  });

  it('is idempotent on (from, idClient)', async () => {
    const alice = account('alice');
    const bob = account('bob');
    const a = await client(alice);
    const first = await a.sendText({ scene: 'p2p', to: bob, text: 'once', idClient: 'same-id' });
    const again = await a.sendText({ scene: 'p2p', to: bob, text: 'once', idClient: 'same-id' });
    const third = await a.sendText({ scene: 'p2p', to: bob, text: 'other', idClient: 'other-id' });
    expect(again.idServer).toBe(first.idServer);
    expect(again.seq).toBe(1);
    expect(third.seq).toBe(2);
    // The same idClient from the peer is a different message.
    const b = await client(bob);
    const bobs = await b.sendText({ scene: 'p2p', to: alice, text: 'mine', idClient: 'same-id' });
    expect(bobs.seq).toBe(3);
    const { msgs } = await a.getHistoryMsgs({ scene: 'p2p', to: bob, asc: true });
    expect(msgs.map((m) => m.text)).toEqual(['once', 'other', 'mine']);
  });

  it('pages history with beginTime, endTime, reverse, asc and msgTypes', async () => {
    const alice = account('alice');
    const bob = account('bob');
    const a = await client(alice);
    const sent: Message[] = [];
    for (let i = 0; i < 7; i++) sent.push(await a.sendText({ scene: 'p2p', to: bob, text: `m${i}` }));
    const seqs = (msgs: Message[]) => msgs.map((m) => m.seq);
    expect(seqs((await a.getHistoryMsgs({ scene: 'p2p', to: bob, limit: 3 })).msgs)).toEqual([7, 6, 5]);
    expect(seqs((await a.getHistoryMsgs({ scene: 'p2p', to: bob, limit: 3, asc: true })).msgs)).toEqual([5, 6, 7]);
    expect(seqs((await a.getHistoryMsgs({ scene: 'p2p', to: bob, limit: 2, reverse: true, asc: true })).msgs)).toEqual([1, 2]);
    const third = sent[2]!;
    const forward = await a.getHistoryMsgs({ scene: 'p2p', to: bob, beginTime: third.time, lastMsgId: third.idServer, reverse: true, asc: true, limit: 2 });
    expect(seqs(forward.msgs)).toEqual([4, 5]);
    expect((await a.getHistoryMsgs({ scene: 'p2p', to: bob, msgTypes: ['image'] })).msgs).toEqual([]);
    const back = await a.getHistoryMsgs({ scene: 'p2p', to: bob, endTime: sent[3]!.time, lastMsgId: sent[3]!.idServer, limit: 10 });
    expect(seqs(back.msgs)).toEqual([3, 2, 1]);
  });

  it('keeps sessions with unread counts that reset and sync to every device', async () => {
    const alice = account('alice');
    const bob = account('bob');
    const a = await client(alice);
    const b1 = await client(bob, 'b1');
    const b2 = await client(bob, 'b2');
    const b2updates = collect<Session[]>(b2, 'updatesessions');
    for (let i = 0; i < 3; i++) await a.sendText({ scene: 'p2p', to: bob, text: `m${i}` });
    await b1.sendText({ scene: 'p2p', to: alice, text: 'reply' });
    await a.sendText({ scene: 'p2p', to: bob, text: 'last' });

    const sessionOf = async (c: ParleyClient, id: string, unread: number) => {
      let found: Session | undefined;
      await waitFor(`session ${id} with ${unread} unread`, async () => {
        const { sessionList } = await c.getServerSessions();
        found = sessionList.find((s) => s.id === id);
        return found?.unread === unread && found.lastMsg?.text === 'last';
      });
      return found!;
    };
    const bobsView = await sessionOf(b1, `p2p-${alice}`, 4);
    expect(bobsView).toMatchObject({ scene: 'p2p', to: alice, unread: 4, isTop: false, msgReceiptTime: 0 });
    expect(bobsView.lastMsg).toMatchObject({ text: 'last', flow: 'in', seq: 5 });
    expect(bobsView.updateTime).toBe(bobsView.lastMsg!.time);
    // The sender's own messages never count.
    await sessionOf(a, `p2p-${bob}`, 1);

    const { session } = await b1.getServerSession({ scene: 'p2p', to: alice });
    expect(session.unread).toBe(4);
    await b1.resetSessionUnread(`p2p-${alice}`);
    expect((await b1.getServerSession({ scene: 'p2p', to: alice })).session.unread).toBe(0);
    await waitFor('reset reaching the other device', () => b2updates.flat().some((s) => s.id === `p2p-${alice}` && s.unread === 0));

    const noSession = b1.getServerSession({ scene: 'p2p', to: account('nobody') });
    await expect(noSession).rejects.toMatchObject({ name: 'NOT_FOUND' });
    await expect(b1.resetSessionUnread(`p2p-${account('nobody')}`)).rejects.toMatchObject({ name: 'NOT_FOUND' });
    const page = await b1.getServerSessions({ limit: 1, needLastMsg: false });
    expect(page.sessionList[0]!.lastMsg).toBeUndefined();
  });

  it('delivers offline messages at login, in order, then syncdone; cursors skip what the device has', async () => {
    const alice = account('alice');
    const bob = account('bob');
    const a = await client(alice);
    for (let i = 1; i <= 5; i++) await a.sendText({ scene: 'p2p', to: bob, text: `m${i}` });

    const r = await raw();
    await r.request('login', { token: await tokenFor(bob) });
    const sessions = await r.event('sessions');
    expect(sessions.d.map((s: Session) => s.id)).toContain(`p2p-${alice}`);
    const offline = await r.event('offlinemsgs');
    expect(offline.d).toMatchObject({ sessionId: `p2p-${alice}`, scene: 'p2p', to: alice });
    expect(offline.d.msgs.map((m: Message) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(offline.d.msgs[0]).toMatchObject({ flow: 'in', text: 'm1' });
    await r.event('syncdone');
    // The offline messages come between the sessions and syncdone (live updates may interleave).
    const sync = new Set(['sessions', 'offlinemsgs', 'syncdone']);
    expect(r.received.map((f) => f.ev).filter((e) => e !== undefined && sync.has(e))).toEqual(['sessions', 'offlinemsgs', 'syncdone']);

    const again = await raw();
    await again.request('login', { token: await tokenFor(bob), cursors: { seqs: { [`p2p-${alice}`]: 3 } } });
    const rest = await again.event('offlinemsgs');
    expect(rest.d.msgs.map((m: Message) => m.seq)).toEqual([4, 5]);
    await again.event('syncdone');
  });

  it('refuses bad input with clear errors and keeps serving', async () => {
    const alice = account('alice');
    const bystander = await raw();
    await bystander.request('login', { token: await tokenFor(account('bystander')) });

    const r = await raw();
    const early = await r.request('getServerSessions', {});
    expect(early.e).toMatchObject({ name: 'UNAUTHORIZED', code: 302 });
    await r.request('login', { token: await tokenFor(alice) });
    await r.event('syncdone');

    const unknown = await r.request('launchRocket', {});
    expect(unknown.e).toMatchObject({ name: 'BAD_REQUEST', code: 414 });
    expect(unknown.e!.message).toContain('launchRocket');
    const missing = await r.request('sendText', { scene: 'p2p', to: 'bob' });
    expect(missing.e).toMatchObject({ name: 'BAD_REQUEST' });
    expect(missing.e!.message).toContain('text');
    const invalid = await r.request('getHistoryMsgs', { scene: 'p2p', to: 'bob', limit: 'ten' });
    expect(invalid.e!.message).toContain('limit');
    const noTeam = await r.request('sendText', { scene: 'team', to: '42', text: 'hello?' });
    expect(noTeam.e).toMatchObject({ name: 'NOT_FOUND', code: 404 });

    r.sendBytes('{"id":1}');
    expect((await r.next((f) => f.e !== undefined)).e!.name).toBe('BAD_REQUEST');
    const ok = await r.request('getServerTime');
    expect(typeof ok.r).toBe('number');
    r.sendBytes(new Uint8Array([0xc1, 0xff, 0x00]));
    expect((await r.next((f) => f.e !== undefined)).e!.name).toBe('BAD_REQUEST');
    await r.request('getServerTime');

    // An oversized frame closes that socket only.
    const big = await raw();
    await big.request('login', { token: await tokenFor(account('big')) });
    big.sendBytes(encode({ id: 9, m: 'sendText', a: { scene: 'p2p', to: 'x', text: 'x'.repeat(engine.config.maxFrameBytes + 10) } }));
    const closed = await big.closed;
    expect([1006, 1009]).toContain(closed.code);
    expect((await bystander.request('getServerTime')).r).toBeTypeOf('number');
  });

  it('refuses bad and expired tokens, closing the socket', async () => {
    const bad = await raw();
    const wrong = await bad.request('login', { token: await signDevToken('not-the-secret', 'alice', 60) });
    expect(wrong.e).toMatchObject({ name: 'UNAUTHORIZED' });
    await bad.closed;

    const late = await raw();
    const expired = await late.request('login', { token: await signDevToken(TEST_SECRET, 'alice', -60) });
    expect(expired.e).toMatchObject({ name: 'UNAUTHORIZED' });
    expect(expired.e!.message).toMatch(/expired/);
    await late.closed;

    await expect(connect({ url: engine.url, token: 'garbage', WebSocket })).rejects.toMatchObject({ name: 'UNAUTHORIZED' });
  });
});
