/**
 * Unit tests of the client SDK's logic against a fake edge built here with
 * `ws`: a WebSocketServer on 127.0.0.1, port 0, speaking msgpack frames.
 * Every wait is on an event and bounded by a deadline; no fixed sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawData } from 'ws';
import { decode, encode } from '../../engine/protocol/codec.ts';
import {
  ERRORS,
  ParleyError,
  SendError,
  backoffDelay,
  connect,
  createClient,
} from '../../client/index.ts';
import type {
  ClientEventName,
  ClientEvents,
  ConnectOptions,
  ErrorName,
  Message,
  ParleyClient,
  Session,
} from '../../client/index.ts';
import { parseOptions } from '../../client/options.ts';
import { MAX_LOGIN_SEQS, SyncState } from '../../client/sync-state.ts';

const DEADLINE_MS = 3000;

/** Rejects when `p` has not settled within `ms`. */
function within<T>(p: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

// --- the fake edge -----------------------------------------------------------

interface Received {
  id: number;
  m: string;
  a: Record<string, any>;
  conn: ServerConn;
}

class ServerConn {
  readonly ws: WebSocket;
  readonly closed: Promise<number>;

  constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
  }

  send(frame: unknown): void {
    this.ws.send(encode(frame));
  }

  reply(id: number, r?: unknown): void {
    this.send(r === undefined ? { id } : { id, r });
  }

  fail(id: number, name: ErrorName, message = `${name} for the test`): void {
    this.send({ id, e: { code: ERRORS[name].code, name, message } });
  }

  event(ev: string, d?: unknown): void {
    this.send(d === undefined ? { ev } : { ev, d });
  }

  /** Drops the TCP connection without a close frame, as a crash or network loss would. */
  drop(): void {
    this.ws.terminate();
  }
}

class FakeServer {
  readonly conns: ServerConn[] = [];
  readonly received: Received[] = [];
  /** Answers logins; the default logs `alice` in on `dev-1` and reports the sync done. */
  onLogin: (r: Received) => void = (r) => {
    r.conn.reply(r.id, { account: 'alice', deviceId: 'dev-1', serverTime: 1000 });
    r.conn.event('syncdone', { serverTime: 1001 });
  };
  /** Automatic answers per method; other requests wait for the test in `next()`. */
  auto: Record<string, (r: Received) => void> = {};

  private readonly wss: WebSocketServer;
  private readonly inbox: Received[] = [];
  private waiters: Array<{ m: string; resolve: (r: Received) => void }> = [];
  private connWaiters: Array<{ index: number; resolve: (c: ServerConn) => void }> = [];
  readonly url: string;

  private constructor(wss: WebSocketServer) {
    this.wss = wss;
    const address = wss.address();
    if (typeof address !== 'object' || address === null) throw new Error('no address');
    this.url = `ws://127.0.0.1:${address.port}/v1/ws`;
    wss.on('connection', (ws) => {
      const conn = new ServerConn(ws);
      this.conns.push(conn);
      this.connWaiters = this.connWaiters.filter((w) => {
        if (this.conns.length <= w.index) return true;
        w.resolve(this.conns[w.index]!);
        return false;
      });
      ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(conn, data, isBinary));
    });
  }

  static async start(): Promise<FakeServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await within(new Promise<void>((resolve) => wss.once('listening', () => resolve())), 'the fake server to listen');
    const server = new FakeServer(wss);
    servers.push(server);
    return server;
  }

  private onMessage(conn: ServerConn, data: RawData, isBinary: boolean): void {
    expect(isBinary).toBe(true);
    const frame = decode(data as Buffer) as { id: number; m: string; a?: Record<string, unknown> };
    const r: Received = { id: frame.id, m: frame.m, a: frame.a ?? {}, conn };
    this.received.push(r);
    const w = this.waiters.find((x) => x.m === r.m);
    if (w !== undefined) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(r);
    } else {
      this.inbox.push(r);
    }
    if (r.m === 'login') this.onLogin(r);
    else this.auto[r.m]?.(r);
  }

  /** The next request of method `m` not yet taken (logins included). */
  next(m: string): Promise<Received> {
    const i = this.inbox.findIndex((r) => r.m === m);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return within(new Promise<Received>((resolve) => this.waiters.push({ m, resolve })), `a \`${m}\` request`);
  }

  /** The `index`-th connection (from 0), once it is open. */
  connection(index: number): Promise<ServerConn> {
    const c = this.conns[index];
    if (c !== undefined) return Promise.resolve(c);
    return within(new Promise<ServerConn>((resolve) => this.connWaiters.push({ index, resolve })), `connection #${index}`);
  }

  count(m: string): number {
    return this.received.filter((r) => r.m === m).length;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** A ws:// address where nothing listens: a server is started on port 0 and closed. */
async function refusedUrl(): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await within(new Promise<void>((resolve) => wss.once('listening', () => resolve())), 'a throwaway server');
  const address = wss.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  return `ws://127.0.0.1:${address.port}/v1/ws`;
}

// --- client helpers ----------------------------------------------------------

const servers: FakeServer[] = [];
const clients: ParleyClient[] = [];

afterEach(async () => {
  await within(Promise.all(clients.splice(0).map((c) => c.destroy())), 'clients to close');
  await within(Promise.all(servers.splice(0).map((s) => s.close())), 'servers to close');
});

/** Fast retries, no jitter, so delays are exact. */
function options(url: string | string[], extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    ...(Array.isArray(url) ? { urls: url } : { url }),
    token: 'tok-alice',
    WebSocket,
    requestTimeoutMs: 2000,
    backoff: { initialMs: 5, maxMs: 40, factor: 2, jitter: 0 },
    ...extra,
  };
}

function client(url: string | string[], extra: Partial<ConnectOptions> = {}): ParleyClient {
  const c = createClient(options(url, extra));
  clients.push(c);
  return c;
}

/** Resolves with the next `event` matching `pred`. Register before causing it. */
function nextEvent<K extends ClientEventName>(
  c: ParleyClient,
  event: K,
  pred: (d: ClientEvents[K]) => boolean = () => true,
): Promise<ClientEvents[K]> {
  return within(
    new Promise<ClientEvents[K]>((resolve) => {
      const fn = (d: ClientEvents[K]): void => {
        if (!pred(d)) return;
        c.off(event, fn);
        resolve(d);
      };
      c.on(event, fn);
    }),
    `the \`${event}\` event`,
  );
}

/** Collects every payload of `event`. */
function record<K extends ClientEventName>(c: ParleyClient, event: K): Array<ClientEvents[K]> {
  const out: Array<ClientEvents[K]> = [];
  c.on(event, (d) => {
    out.push(d);
  });
  return out;
}

function msg(seq: number, over: Partial<Message> = {}): Message {
  return {
    scene: 'p2p',
    from: 'bob',
    to: 'alice',
    sessionId: 'p2p-bob',
    target: 'bob',
    flow: 'in',
    type: 'text',
    text: `m${seq}`,
    idClient: `c${seq}`,
    idServer: `s${seq}`,
    seq,
    time: 1000 + seq,
    status: 'success',
    fromDeviceId: 'bob-dev',
    fromClientType: 'web',
    needMsgReceipt: false,
    isHistoryable: true,
    isRoamingable: true,
    isSyncable: true,
    isPushable: true,
    isOfflinable: true,
    isUnreadable: true,
    ...over,
  };
}

function session(id: string, updateTime: number): Session {
  return { id, scene: 'p2p', to: id.slice(4), unread: 0, updateTime, isTop: false };
}

/** The stored message the fake server returns for a send. */
function stored(r: Received, seq: number): Message {
  return msg(seq, {
    from: 'alice',
    to: String(r.a.to),
    sessionId: `p2p-${String(r.a.to)}`,
    flow: 'out',
    text: String(r.a.text),
    idClient: String(r.a.idClient),
  });
}

async function rejection(p: Promise<unknown>, what: string): Promise<ParleyError> {
  const err = await within(p.then(
    () => {
      throw new Error(`${what} resolved; expected a rejection`);
    },
    (e: unknown) => e,
  ), what);
  expect(err).toBeInstanceOf(ParleyError);
  return err as ParleyError;
}

// --- tests -------------------------------------------------------------------

describe('login', () => {
  it('resolves after the login reply, sends the login fields, and `synced` resolves on syncdone', async () => {
    const server = await FakeServer.start();
    const connects: unknown[] = [];
    const c = await connect(
      options(server.url, {
        token: async () => 't1',
        deviceId: 'dev-x',
        deviceType: 'pc',
        on: { connect: (d) => connects.push(d) },
      }),
    );
    clients.push(c);
    const login = await server.next('login');
    expect(login.a).toEqual({ token: 't1', deviceId: 'dev-x', deviceType: 'pc' });
    expect(login.id).toBeGreaterThan(0);
    expect(c.state).toBe('ready');
    expect(c.account).toBe('alice');
    expect(c.deviceId).toBe('dev-1');
    expect(connects).toEqual([{ account: 'alice', deviceId: 'dev-1', serverTime: 1000, url: server.url }]);
    expect(await within(c.synced, 'synced')).toEqual({ serverTime: 1001 });
    expect(await c.waitForSync(1000)).toEqual({ serverTime: 1001 });
  });

  it('rejects with UNAUTHORIZED and does not retry', async () => {
    const server = await FakeServer.start();
    server.onLogin = (r) => {
      r.conn.fail(r.id, 'UNAUTHORIZED', 'token expired');
      r.conn.ws.close(1008);
    };
    const c = client(server.url);
    const retries = record(c, 'willReconnect');
    const err = await rejection(c.connect(), 'connect()');
    expect(err.name).toBe('UNAUTHORIZED');
    expect(err.code).toBe(302);
    expect(err.message).toBe('token expired');
    expect(c.state).toBe('closed');
    expect(retries).toEqual([]);
    expect(server.conns.length).toBe(1);
    expect((await rejection(c.getServerTime(), 'a request after the failed login')).name).toBe('UNAVAILABLE');
  });

  it('rejects bad options naming the field', () => {
    expect(() => createClient({ token: 't', WebSocket })).toThrow(/`url`/);
    expect(() => createClient({ url: 'http://x', token: 't', WebSocket })).toThrow(/`url` must be a ws/);
    expect(() => parseOptions({ url: 'ws://x', token: 't', WebSocket, backoff: { jitter: 2 } })).toThrow(/`backoff.jitter`/);
    expect(() => parseOptions({ url: 'ws://x', token: 't', WebSocket, requestTimeoutMs: 0 })).toThrow(/`requestTimeoutMs`/);
    const parsed = parseOptions({ urls: ['ws://a', 'ws://b'], token: 't', WebSocket });
    expect(parsed.requestTimeoutMs).toBe(10_000);
    expect(parsed.backoff).toEqual({ initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.5 });
    expect(parsed.connectAttempts).toBe(2);
    expect(parsed.reconnect).toBe(true);
  });
});

describe('requests', () => {
  it('pipelines requests and matches out-of-order replies by id', async () => {
    const server = await FakeServer.start();
    const c = await client(server.url).connect();
    const time = c.getServerTime();
    const one = c.getServerSession({ scene: 'p2p', to: 'bob' });
    const page = c.call('getServerSessions', { limit: 10 });
    const [rt, rs, rp] = [await server.next('getServerTime'), await server.next('getServerSession'), await server.next('getServerSessions')];
    expect(rt.id).toBeLessThan(rs.id);
    expect(rs.id).toBeLessThan(rp.id);
    expect(rs.a).toEqual({ scene: 'p2p', to: 'bob' });
    expect(rp.a).toEqual({ limit: 10 });
    rp.conn.reply(rp.id, { sessionList: [session('p2p-carol', 5)], hasMore: false });
    rs.conn.reply(rs.id, { session: session('p2p-bob', 7) });
    rt.conn.reply(rt.id, 424242);
    expect(await within(page, 'getServerSessions')).toEqual({ sessionList: [session('p2p-carol', 5)], hasMore: false });
    expect(await within(one, 'getServerSession')).toEqual({ session: session('p2p-bob', 7) });
    expect(await within(time, 'getServerTime')).toBe(424242);
  });

  it('sends positional and optional arguments as the reference names them', async () => {
    const server = await FakeServer.start();
    server.auto.resetSessionUnread = (r) => r.conn.reply(r.id, { session: session('p2p-bob', 9) });
    server.auto.getServerSessions = (r) => r.conn.reply(r.id, { sessionList: [], hasMore: false });
    server.auto.getHistoryMsgs = (r) => r.conn.reply(r.id, { msgs: [msg(1)] });
    server.auto.addMsgPin = (r) => r.conn.reply(r.id, { ok: true });
    const c = await client(server.url).connect();
    expect(await within(c.resetSessionUnread('p2p-bob'), 'reset')).toEqual({ session: session('p2p-bob', 9) });
    expect((await server.next('resetSessionUnread')).a).toEqual({ sessionId: 'p2p-bob' });
    await within(c.getServerSessions(), 'sessions');
    expect((await server.next('getServerSessions')).a).toEqual({});
    expect(await within(c.getHistoryMsgs({ scene: 'p2p', to: 'bob', limit: 1 }), 'history')).toEqual({ msgs: [msg(1)] });
    expect((await server.next('getHistoryMsgs')).a).toEqual({ scene: 'p2p', to: 'bob', limit: 1 });
    expect(await within(c.request<{ ok: boolean }>('addMsgPin', { x: 1 }), 'a method without a wrapper')).toEqual({ ok: true });
    expect((await rejection(c.request('login', { token: 'x' }), 'login by hand')).name).toBe('BAD_REQUEST');
  });

  it('rejects with a typed ParleyError from the failure frame', async () => {
    const server = await FakeServer.start();
    const c = await client(server.url).connect();
    const p = c.getHistoryMsgs({ scene: 'team', to: '42' });
    const r = await server.next('getHistoryMsgs');
    r.conn.fail(r.id, 'NOT_FOUND', 'no team 42');
    const err = await rejection(p, 'getHistoryMsgs');
    expect(err.name).toBe('NOT_FOUND');
    expect(err.code).toBe(404);
    expect(err.message).toBe('no team 42');

    const send = c.sendText({ scene: 'p2p', to: 'bob', text: 'hi' });
    const s = await server.next('sendText');
    s.conn.fail(s.id, 'BLOCKED');
    const sendErr = await rejection(send, 'sendText');
    expect(sendErr).toBeInstanceOf(SendError);
    expect(sendErr.name).toBe('BLOCKED');
    expect(sendErr.code).toBe(7101);
    expect((sendErr as SendError).idClient).toBe(s.a.idClient);
    expect((sendErr as SendError).args).toEqual(s.a);
  });

  it('rejects with TIMEOUT after requestTimeoutMs and ignores the late reply', async () => {
    const server = await FakeServer.start();
    // Long enough that the answered request in between never times out on a loaded machine.
    const c = await client(server.url, { requestTimeoutMs: 500 }).connect();
    const p = c.getServerTime();
    const r = await server.next('getServerTime');
    const err = await rejection(p, 'getServerTime');
    expect(err.name).toBe('TIMEOUT');
    expect(err.code).toBe(408);
    r.conn.reply(r.id, 1); // too late: must be ignored
    const again = c.getServerTime();
    const r2 = await server.next('getServerTime');
    r2.conn.reply(r2.id, 2);
    expect(await within(again, 'the next request')).toBe(2);

    const send = c.sendText({ scene: 'p2p', to: 'bob', text: 'slow' });
    const s = await server.next('sendText');
    const sendErr = await rejection(send, 'a send that times out');
    expect(sendErr).toBeInstanceOf(SendError);
    expect(sendErr.name).toBe('TIMEOUT');
    expect((sendErr as SendError).idClient).toBe(s.a.idClient);
  });

  it('fills idClient when absent, keeps it when given, and resolves with the stored message', async () => {
    const server = await FakeServer.start();
    server.auto.sendText = (r) => r.conn.reply(r.id, stored(r, 1));
    const c = await client(server.url).connect();
    const sent = await within(c.sendText({ scene: 'p2p', to: 'bob', text: 'hello' }), 'sendText');
    const r = await server.next('sendText');
    expect(r.a.idClient).toMatch(/^[0-9a-f]{32}$/);
    expect(r.a).toEqual({ scene: 'p2p', to: 'bob', text: 'hello', idClient: r.a.idClient });
    expect(sent.idClient).toBe(r.a.idClient);
    expect(sent.seq).toBe(1);

    await within(c.sendText({ scene: 'p2p', to: 'bob', text: 'again', idClient: 'mine-1' }), 'sendText with idClient');
    expect((await server.next('sendText')).a.idClient).toBe('mine-1');
    await within(c.request('sendText', { scene: 'p2p', to: 'bob', text: 'generic' }), 'generic send');
    const other = (await server.next('sendText')).a.idClient;
    expect(other).toMatch(/^[0-9a-f]{32}$/);
    expect(other).not.toBe(r.a.idClient);
    expect(c.cursors.seqs).toEqual({ 'p2p-bob': 1 });
  });
});

describe('events', () => {
  it('dispatches typed, named and lifecycle events; once fires once; off stops', async () => {
    const server = await FakeServer.start();
    const c = client(server.url);
    const msgs = record(c, 'msg');
    const pins: unknown[] = [];
    const onceSeen: Message[] = [];
    const offSeen: Message[] = [];
    const offFn = (m: Message): void => {
      offSeen.push(m);
    };
    c.on('PinMsgChange', (d) => pins.push(d.pin.pinCustom));
    c.once('msg', (m) => onceSeen.push(m));
    c.on('msg', offFn);
    const sessions = nextEvent(c, 'sessions');
    const synced = nextEvent(c, 'syncdone');
    server.onLogin = (r) => {
      r.conn.reply(r.id, { account: 'alice', deviceId: 'dev-1', serverTime: 1 });
      r.conn.event('sessions', [session('p2p-bob', 500)]);
      r.conn.event('syncdone', { serverTime: 2 });
    };
    await c.connect();
    expect(await sessions).toEqual([session('p2p-bob', 500)]);
    await synced;
    c.off('msg', offFn);
    const conn = await server.connection(0);
    const last = nextEvent(c, 'msg', (m) => m.seq === 2);
    conn.event('msg', msg(1));
    conn.event('PinMsgChange', { type: 'add', sessionId: 'p2p-bob', pin: { pinCustom: 'p1' } });
    conn.event('msg', msg(2));
    await last;
    expect(msgs.map((m) => m.seq)).toEqual([1, 2]);
    expect(onceSeen.map((m) => m.seq)).toEqual([1]);
    expect(offSeen).toEqual([]);
    expect(pins).toEqual(['p1']);
    expect(c.cursors).toEqual({ sessions: 500, seqs: { 'p2p-bob': 2 } });
  });

  it('emits `error` for frames that are not msgpack maps and keeps working', async () => {
    const server = await FakeServer.start();
    server.auto.getServerTime = (r) => r.conn.reply(r.id, 7);
    const c = await client(server.url).connect();
    const errors = record(c, 'error');
    const conn = await server.connection(0);
    const second = nextEvent(c, 'error', () => errors.length === 3);
    conn.ws.send(Buffer.from([0xc1])); // a byte msgpack never uses
    conn.ws.send('hello'); // a text frame
    conn.send([1, 2, 3]); // msgpack, but not a map
    await second;
    expect(errors.every((e) => e instanceof ParleyError && e.name === 'BAD_REQUEST')).toBe(true);
    expect(await within(c.getServerTime(), 'a request after bad frames')).toBe(7);
    expect(c.state).toBe('ready');
  });

  it('routes a throwing listener to `error` without stopping the others', async () => {
    const server = await FakeServer.start();
    const c = await client(server.url).connect();
    const seen: number[] = [];
    c.on('msg', () => {
      throw new Error('app bug');
    });
    c.on('msg', (m) => seen.push(m.seq));
    const err = nextEvent(c, 'error');
    (await server.connection(0)).event('msg', msg(1));
    expect((await err).message).toBe('app bug');
    expect(seen).toEqual([1]);
  });

  it('drops a message delivered twice, as msg and in offlinemsgs, and the echo of its own send', async () => {
    const server = await FakeServer.start();
    server.auto.sendText = (r) => r.conn.reply(r.id, stored(r, 8));
    const c = await client(server.url).connect();
    const msgs = record(c, 'msg');
    const offline = record(c, 'offlinemsgs');
    const conn = await server.connection(0);
    const sentinel = nextEvent(c, 'msg', (m) => m.seq === 9);
    conn.event('msg', msg(5));
    conn.event('offlinemsgs', { sessionId: 'p2p-bob', scene: 'p2p', to: 'bob', msgs: [msg(5), msg(6)] });
    conn.event('msg', msg(6));
    conn.event('msg', msg(5));
    conn.event('offlinemsgs', { sessionId: 'p2p-bob', scene: 'p2p', to: 'bob', msgs: [msg(6)] });
    conn.event('msg', msg(3, { sessionId: 'p2p-carol', from: 'carol' })); // seqs are per session
    const sent = await within(c.sendText({ scene: 'p2p', to: 'bob', text: 'mine' }), 'sendText');
    conn.event('msg', { ...sent, flow: 'out' }); // the echo of this device's own send
    conn.event('msg', msg(9));
    await sentinel;
    expect(msgs.map((m) => `${m.sessionId}#${m.seq}`)).toEqual(['p2p-bob#5', 'p2p-carol#3', 'p2p-bob#9']);
    expect(offline.map((o) => o.msgs.map((m) => m.seq))).toEqual([[6]]);
    expect(c.cursors.seqs).toEqual({ 'p2p-bob': 9, 'p2p-carol': 3 });
  });
});

describe('gaps', () => {
  it('fetches the messages missing before a later one and emits the session in seq order', async () => {
    const server = await FakeServer.start();
    const asked: Record<string, any>[] = [];
    server.auto.getHistoryMsgs = (r) => {
      asked.push(r.a);
      r.conn.reply(r.id, { msgs: [msg(2), msg(3)] });
    };
    const c = await client(server.url).connect();
    const msgs = record(c, 'msg');
    const conn = await server.connection(0);
    const last = nextEvent(c, 'msg', (m) => m.seq === 5);
    conn.event('msg', msg(1));
    conn.event('msg', msg(4));
    conn.event('msg', msg(5));
    await last;
    expect(msgs.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ scene: 'p2p', to: 'bob', endTime: msg(4).time, lastMsgId: msg(4).idServer, limit: 2 });
  });

  it("never makes the account's own isSyncable: false message a msg, by session update or gap fill", async () => {
    const server = await FakeServer.start();
    const quiet = msg(2, { from: 'alice', to: 'bob', flow: 'out', isSyncable: false });
    server.auto.getHistoryMsgs = (r) => r.conn.reply(r.id, { msgs: [quiet, msg(3)] });
    const c = await client(server.url).connect();
    const msgs = record(c, 'msg');
    const conn = await server.connection(0);
    conn.event('msg', msg(1));
    conn.event('updatesessions', [{ id: 'p2p-bob', scene: 'p2p', to: 'bob', unread: 0, updateTime: 20, isTop: false, lastMsg: quiet }]);
    const last = nextEvent(c, 'msg', (m) => m.seq === 4);
    conn.event('msg', msg(4));
    await last;
    expect(msgs.map((m) => m.seq)).toEqual([1, 3, 4]);
  });

  it('takes a session update whose last message was never delivered as that message', async () => {
    const server = await FakeServer.start();
    server.auto.getHistoryMsgs = (r) => r.conn.reply(r.id, { msgs: [msg(2)] });
    const c = await client(server.url).connect();
    const msgs = record(c, 'msg');
    const conn = await server.connection(0);
    const third = nextEvent(c, 'msg', (m) => m.seq === 3);
    conn.event('msg', msg(1));
    conn.event('updatesessions', [{ id: 'p2p-bob', scene: 'p2p', to: 'bob', unread: 3, updateTime: 30, isTop: false, lastMsg: msg(3) }]);
    conn.event('msg', msg(3)); // the late delivery is a duplicate now
    await third;
    const sentinel = nextEvent(c, 'msg', (m) => m.seq === 4);
    conn.event('msg', msg(4));
    await sentinel;
    expect(msgs.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('leaves a message a session update carries during the login sync to the sync, and delivers it after syncdone when the sync did not bring it', async () => {
    const server = await FakeServer.start();
    const c = client(server.url);
    const msgs = record(c, 'msg');
    const offline = record(c, 'offlinemsgs');
    const synced = nextEvent(c, 'syncdone');
    server.onLogin = (r) => {
      r.conn.reply(r.id, { account: 'alice', deviceId: 'dev-1', serverTime: 1 });
      // A recall elsewhere re-sends the session (unread changed) while the device syncs.
      r.conn.event('updatesessions', [{ id: 'p2p-bob', scene: 'p2p', to: 'bob', unread: 2, updateTime: 30, isTop: false, lastMsg: msg(3) }]);
      r.conn.event('updatesessions', [{ id: 'p2p-carol', scene: 'p2p', to: 'carol', unread: 1, updateTime: 31, isTop: false, lastMsg: msg(1, { sessionId: 'p2p-carol', from: 'carol' }) }]);
      r.conn.event('offlinemsgs', { sessionId: 'p2p-bob', scene: 'p2p', to: 'bob', msgs: [msg(1), msg(3)] });
      r.conn.event('syncdone', { serverTime: 2 });
    };
    await c.connect();
    await synced;
    // Emitted in the syncdone turn: the one the sync did not bring.
    expect(offline.map((o) => o.msgs.map((m) => m.seq))).toEqual([[1, 3]]);
    expect(msgs.map((m) => `${m.sessionId}#${m.seq}`)).toEqual(['p2p-carol#1']);
    // After the sync, a session update's message is a delivery again.
    const conn = await server.connection(0);
    const fourth = nextEvent(c, 'msg', (m) => m.seq === 4);
    conn.event('updatesessions', [{ id: 'p2p-bob', scene: 'p2p', to: 'bob', unread: 3, updateTime: 40, isTop: false, lastMsg: msg(4) }]);
    await fourth;
    expect(msgs.map((m) => `${m.sessionId}#${m.seq}`)).toEqual(['p2p-carol#1', 'p2p-bob#4']);
  });
});

describe('reconnect', () => {
  it('logs in again with a fresh token and cursors, re-sends the unacknowledged send with the same idClient, fails other in-flight requests', async () => {
    const server = await FakeServer.start();
    let tokens = 0;
    server.onLogin = (r) => {
      r.conn.reply(r.id, { account: 'alice', deviceId: 'dev-1', serverTime: 1 });
      if (r.a.token === 't1') {
        r.conn.event('sessions', [session('p2p-bob', 1000), session('p2p-carol', 900)]);
        r.conn.event('offlinemsgs', { sessionId: 'p2p-bob', scene: 'p2p', to: 'bob', msgs: [msg(1), msg(2)] });
        r.conn.event('msg', msg(3));
        r.conn.event('updatesessions', [session('p2p-bob', 1500)]);
      }
      r.conn.event('syncdone', { serverTime: 2 });
    };
    const c = await client(server.url, { token: () => `t${++tokens}` }).connect();
    await within(c.synced, 'the first sync');

    const disconnected = nextEvent(c, 'disconnect');
    const willReconnect = nextEvent(c, 'willReconnect');
    const reconnected = nextEvent(c, 'connect');
    const send = c.sendText({ scene: 'p2p', to: 'bob', text: 'hello' });
    const time = c.getServerTime();
    const first = await server.next('sendText');
    await server.next('getServerTime');
    first.conn.drop();

    expect((await rejection(time, 'getServerTime in flight')).name).toBe('UNAVAILABLE');
    expect(await disconnected).toMatchObject({ code: 1006, willReconnect: true });
    expect(await willReconnect).toEqual({ attempt: 1, delayMs: 5, url: server.url });

    await server.next('login'); // the first one
    const login = await server.next('login');
    expect(login.a).toEqual({
      token: 't2',
      deviceId: 'dev-1', // the id the server assigned, kept across reconnects
      cursors: { sessions: 1500, seqs: { 'p2p-bob': 3 } },
    });
    const again = await server.next('sendText');
    expect(again.conn).not.toBe(first.conn);
    expect(again.a).toEqual({ ...first.a, resend: true });
    again.conn.reply(again.id, stored(again, 4));
    const sent = await within(send, 'the original send promise');
    expect(sent.idClient).toBe(first.a.idClient);
    expect(sent.seq).toBe(4);
    await reconnected;
    expect(c.state).toBe('ready');
    expect(c.cursors).toEqual({ sessions: 1500, seqs: { 'p2p-bob': 4 } });
    expect(server.count('sendText')).toBe(2);
  });

  it('queues requests made while reconnecting and sends them after the login', async () => {
    const server = await FakeServer.start();
    server.auto.getServerTime = (r) => r.conn.reply(r.id, 99);
    const c = await client(server.url, { backoff: { initialMs: 50, jitter: 0 } }).connect();
    const waiting = nextEvent(c, 'willReconnect');
    (await server.connection(0)).drop();
    await waiting;
    expect(c.state).toBe('reconnecting');
    expect(await within(c.getServerTime(), 'a request made while reconnecting')).toBe(99);
    expect(server.conns.length).toBe(2);
  });

  it('fails over to the next URL with growing backoff delays', async () => {
    const server = await FakeServer.start();
    const dead1 = await refusedUrl();
    const dead2 = await refusedUrl();
    const c = client([dead1, dead2, server.url], { backoff: { initialMs: 10, maxMs: 1000, factor: 2, jitter: 0 } });
    const retries = record(c, 'willReconnect');
    await within(c.connect(), 'connect over three URLs');
    expect(retries.map(({ attempt, delayMs, url }) => ({ attempt, delayMs, url }))).toEqual([
      { attempt: 1, delayMs: 10, url: dead2 },
      { attempt: 2, delayMs: 20, url: server.url },
    ]);
    expect(retries.every((r) => r.error instanceof ParleyError && r.error.name === 'UNAVAILABLE')).toBe(true);
    expect(c.url).toBe(server.url);
    expect(c.state).toBe('ready');
  });

  it('connect() rejects with UNAVAILABLE after connectAttempts', async () => {
    const dead = await refusedUrl();
    const c = client(dead, { connectAttempts: 2 });
    const retries = record(c, 'willReconnect');
    const err = await rejection(c.connect(), 'connect to a dead URL');
    expect(err.name).toBe('UNAVAILABLE');
    expect(retries.length).toBe(1);
    expect(c.state).toBe('closed');
  });

  it('retries when the login reply does not come within loginTimeoutMs', async () => {
    const server = await FakeServer.start();
    const answer = server.onLogin;
    server.onLogin = (r) => {
      if (server.conns.length > 1) answer(r); // the first login goes unanswered
    };
    const c = client(server.url, { loginTimeoutMs: 150, connectAttempts: 2 });
    const retry = nextEvent(c, 'willReconnect');
    await within(c.connect(), 'connect after a login timeout');
    const { error } = await retry;
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).name).toBe('TIMEOUT');
    expect(await (await server.connection(0)).closed).toBeGreaterThan(0);
    expect(server.conns.length).toBe(2);
  });

  it('stops on UNAUTHORIZED at re-login and fails the unacknowledged sends', async () => {
    const server = await FakeServer.start();
    let tokens = 0;
    const answer = server.onLogin;
    server.onLogin = (r) => {
      if (r.a.token === 't1') answer(r);
      else r.conn.fail(r.id, 'UNAUTHORIZED', 'token expired');
    };
    const c = await client(server.url, { token: () => `t${++tokens}` }).connect();
    const failed = nextEvent(c, 'error');
    const send = c.sendText({ scene: 'p2p', to: 'bob', text: 'x' });
    (await server.next('sendText')).conn.drop();
    expect((await failed).name).toBe('UNAUTHORIZED');
    const err = await rejection(send, 'the unacknowledged send');
    expect(err).toBeInstanceOf(SendError);
    expect(err.name).toBe('UNAUTHORIZED');
    expect(c.state).toBe('closed');
    expect(server.count('login')).toBe(2);
  });

  it('does not reconnect after `kicked`', async () => {
    const server = await FakeServer.start();
    const c = await client(server.url).connect();
    const kicked = nextEvent(c, 'kicked');
    const disconnected = nextEvent(c, 'disconnect');
    const retries = record(c, 'willReconnect');
    const conn = await server.connection(0);
    conn.event('kicked', { reason: 'otherDeviceLogin' });
    conn.ws.close(4001, 'kicked');
    expect(await kicked).toEqual({ reason: 'otherDeviceLogin' });
    expect((await disconnected).willReconnect).toBe(false);
    expect(c.state).toBe('closed');
    expect(retries).toEqual([]);
  });

  it('disconnect() closes the socket, fails pending requests and prevents reconnecting; connect() re-opens', async () => {
    const server = await FakeServer.start();
    const c = await client(server.url).connect();
    const retries = record(c, 'willReconnect');
    const disconnects = record(c, 'disconnect');
    const pending = c.getServerTime();
    await server.next('getServerTime');
    const closing = c.disconnect();
    expect((await rejection(pending, 'a request pending at disconnect()')).name).toBe('UNAVAILABLE');
    await within(closing, 'disconnect()');
    expect(await (await server.connection(0)).closed).toBe(1000);
    expect(c.state).toBe('closed');
    expect(retries).toEqual([]);
    expect(disconnects).toEqual([{ code: 1000, reason: expect.any(String), willReconnect: false }]);
    expect((await rejection(c.getServerTime(), 'a request after disconnect()')).name).toBe('UNAVAILABLE');

    await within(c.connect(), 'connect() after disconnect()');
    expect(c.state).toBe('ready');
    expect(server.count('login')).toBe(2);
  });

  it('destroy() forbids further use', async () => {
    const server = await FakeServer.start();
    const c = await client(server.url).connect();
    await within(c.destroy(), 'destroy()');
    expect(c.state).toBe('destroyed');
    expect((await rejection(c.getServerTime(), 'a request after destroy()')).name).toBe('UNAVAILABLE');
    expect((await rejection(c.connect(), 'connect() after destroy()')).name).toBe('UNAVAILABLE');
  });
});

describe('pure parts', () => {
  it('backoffDelay grows by factor, caps at maxMs and jitters downwards', () => {
    const b = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, b))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const j = { ...b, jitter: 0.5 };
    expect(backoffDelay(3, j, () => 0)).toBe(400);
    expect(backoffDelay(3, j, () => 1)).toBe(200);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, j);
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(200);
    }
  });

  it('SyncState forgets the oldest message beyond its window and starts from given cursors', () => {
    const s = new SyncState(2, { sessions: 10, seqs: { 'p2p-bob': 4 } });
    expect(s.loginCursors()).toEqual({ sessions: 10, seqs: { 'p2p-bob': 4 } });
    expect(s.noteMessage(msg(5))).toBe(true);
    expect(s.noteMessage(msg(5))).toBe(false);
    expect(s.noteMessage(msg(6))).toBe(true);
    expect(s.noteMessage(msg(7))).toBe(true); // seq 5 leaves the window
    expect(s.noteMessage(msg(5))).toBe(true);
    expect(s.snapshot()).toEqual({ sessions: 10, seqs: { 'p2p-bob': 7 } });
    expect(new SyncState(10).loginCursors()).toBeUndefined();
  });

  it('SyncState sends at most MAX_LOGIN_SEQS sessions at login, the most recently advanced', () => {
    const s = new SyncState(10);
    for (let i = 0; i <= MAX_LOGIN_SEQS; i++) s.noteMessage(msg(1, { sessionId: `p2p-u${i}` }));
    s.noteMessage(msg(2, { sessionId: 'p2p-u0' }));
    const seqs = s.loginCursors()?.seqs ?? {};
    expect(Object.keys(seqs).length).toBe(MAX_LOGIN_SEQS);
    expect(seqs['p2p-u0']).toBe(2);
    expect(seqs['p2p-u1']).toBeUndefined();
    expect(s.snapshot().seqs['p2p-u1']).toBe(1);
  });
});
