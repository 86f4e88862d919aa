/**
 * The edge alone, over real sockets: a real uWS server on 127.0.0.1:0, the
 * real EmbeddedBus, `ws` clients, and a stand-in actor responder on
 * `parley.p.>` that the tests steer (answer, fail, hang, or be absent).
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { Edge } from '../../edge/edge.ts';
import { loadUws, supportedAbis } from '../../edge/uws.ts';
import { JwtHs256Verifier, signDevToken } from '../../engine/auth/jwt-verifier.ts';
import { waitFor } from '../helpers/wait.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { EmbeddedBus } from '../../engine/bus/embedded-bus.ts';
import type { BusMessage, BusSubscription } from '../../engine/bus/bus.ts';
import { defaultConfig } from '../../engine/config.ts';
import type { Config } from '../../engine/config.ts';
import { decode, encode } from '../../engine/protocol/codec.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { ActorReply, ActorRequest, Delivery } from '../../engine/envelope.ts';
import { deliverySubject, p2pAddress, userAddress } from '../../engine/subjects.ts';

const SECRET = 'edge-test-secret-0123456789abcdef';
const DEADLINE_MS = 3000;

// ---- stand-in actor ------------------------------------------------------------------------

type Behaviour = (req: ActorRequest) => unknown | Promise<unknown>;

/** Answers `sync` with nothing to sync, echoes other methods' `a` as `r`; `on[m]` overrides. */
/** What the fake actors answer to the login sync's reads when a test sets nothing: an account with nothing to sync. */
const EMPTY_READS: Record<string, unknown> = {
  sync: { sessions: [], fetch: [] },
  signalingSync: { channels: [], signals: [] },
  eventSubs: [],
};

class StubActors {
  readonly requests: ActorRequest[] = [];
  readonly on: Record<string, Behaviour> = {};
  private sub: BusSubscription | undefined;
  private readonly bus: EmbeddedBus;

  constructor(bus: EmbeddedBus) {
    this.bus = bus;
    this.attach();
  }

  attach(): void {
    this.sub = this.bus.subscribe('parley.p.>', (msg) => void this.handle(msg));
  }

  /** Nobody answers any more: requests get UNAVAILABLE. */
  detach(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
  }

  private async handle(msg: BusMessage): Promise<void> {
    const req = decode(msg.data) as ActorRequest;
    this.requests.push(req);
    const behaviour = this.on[req.m];
    let reply: ActorReply;
    try {
      const r = behaviour !== undefined ? await behaviour(req) : (EMPTY_READS[req.m] ?? req.a);
      if (r === HANG) return;
      if (r instanceof Uint8Array) {
        msg.respond(r);
        return;
      }
      reply = { r };
    } catch (err) {
      reply = { e: (err as ParleyError).toWire() };
    }
    msg.respond(encode(reply));
  }
}

/** Returned by a behaviour: never answer. */
const HANG = Symbol('hang');

/** Polls a condition on the event loop until it holds or the deadline passes. */
async function until(cond: () => boolean, what: string, timeoutMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

// ---- fixture -------------------------------------------------------------------------------

interface Fixture {
  edge: Edge;
  bus: EmbeddedBus;
  actors: StubActors;
  port: number;
  config: Config;
  ready: { value: boolean };
}

const started: Array<{ edge: Edge; bus: EmbeddedBus; clients: RawClient[] }> = [];

async function startEdge(overrides: Partial<Config> = {}): Promise<Fixture> {
  const config: Config = {
    ...defaultConfig(),
    host: '127.0.0.1',
    port: 0,
    jwtSecret: SECRET,
    nodeId: 'edge-test',
    requestTimeoutMs: 2000,
    ...overrides,
  };
  const bus = new EmbeddedBus();
  const actors = new StubActors(bus);
  const ready = { value: true };
  const edge = new Edge({ config, bus, verifier: new JwtHs256Verifier(config.jwtSecret), isReady: () => ready.value });
  const { port } = await edge.start();
  started.push({ edge, bus, clients: [] });
  return { edge, bus, actors, port, config, ready };
}

async function connect(fx: Fixture): Promise<RawClient> {
  const client = await RawClient.open(`ws://127.0.0.1:${fx.port}/v1/ws`, { timeoutMs: DEADLINE_MS });
  started.find((s) => s.edge === fx.edge)!.clients.push(client);
  return client;
}

/** Connects and logs in; returns after `syncdone`. */
async function login(fx: Fixture, account: string, extra: Record<string, unknown> = {}): Promise<{ client: RawClient; deviceId: string }> {
  const client = await connect(fx);
  const token = await signDevToken(SECRET, account, 60);
  const reply = await client.request('login', { token, ...extra });
  expect(reply.e).toBeUndefined();
  await client.event('syncdone');
  client.frames.length = 0;
  return { client, deviceId: reply.r.deviceId as string };
}

afterEach(async () => {
  for (const s of started.splice(0)) {
    for (const c of s.clients) c.terminate();
    await s.edge.stop();
    await s.bus.close();
  }
});

// ---- tests ---------------------------------------------------------------------------------

describe('edge: HTTP', () => {
  it('answers /readyz 200 when ready and 503 when not, /healthz 200 while alive; 404 elsewhere', async () => {
    const fx = await startEdge();
    expect(await httpGet(fx.port, '/readyz')).toEqual({ status: 200, body: 'ok' });
    expect(await httpGet(fx.port, '/healthz')).toEqual({ status: 200, body: 'ok' });
    fx.ready.value = false;
    expect((await httpGet(fx.port, '/readyz')).status).toBe(503);
    expect((await httpGet(fx.port, '/healthz')).status).toBe(200);
    fx.ready.value = true;
    await fx.bus.close();
    expect((await httpGet(fx.port, '/readyz')).status).toBe(503);
    expect((await httpGet(fx.port, '/healthz')).status).toBe(200);
    expect((await httpGet(fx.port, '/nope')).status).toBe(404);
    // Without metrics given to the edge, there is no /metrics.
    expect((await httpGet(fx.port, '/metrics')).status).toBe(404);
  });

  it('is not ready without a JWT secret', async () => {
    const fx = await startEdge({ jwtSecret: '' });
    expect((await httpGet(fx.port, '/readyz')).status).toBe(503);
  });
});

describe('edge: login', () => {
  it('replies, then sends sessions, offline messages, groups and syncdone, in that order', async () => {
    const fx = await startEdge({ syncMsgsPerSession: 50 });
    const msg = { scene: 'p2p', from: 'bob', to: 'alice', seq: 3, text: 'hi' };
    fx.actors.on.sync = (req) => ({
      sessions: [{ id: 'p2p-bob', scene: 'p2p', to: 'bob', unread: 1, updateTime: 5, isTop: false }],
      fetch: [
        { sessionId: 'p2p-bob', scene: 'p2p', to: 'bob', address: p2pAddress('alice', 'bob'), fromSeq: 3 },
        { sessionId: 'team-7', scene: 'team', to: '7', address: 'team:7', fromSeq: 10 },
      ],
      echo: req.a,
    });
    fx.actors.on.range = (req) => ((req.to as string).startsWith('conv:') ? { msgs: [msg] } : { msgs: [] });
    const client = await connect(fx);
    const token = await signDevToken(SECRET, 'alice', 60);
    const id = client.send('login', { token, deviceId: 'dev-1', deviceType: 'ios', cursors: { sessions: 4 }, from: 'mallory' });
    await client.event('syncdone');
    const order = client.received.map((f) => (f.id !== undefined ? `reply:${f.id}` : f.ev));
    expect(order).toEqual([`reply:${id}`, 'sessions', 'offlinemsgs', 'myinfo', 'blacklist', 'mutelist', 'friends', 'teams', 'SuperTeams', 'syncdone']);
    const [reply, sessions, offline] = client.received;
    const done = client.received.at(-1);
    expect(client.received.filter((f) => f.ev === 'teams' || f.ev === 'SuperTeams').map((f) => f.d)).toEqual([[], []]);
    expect(reply!.r).toMatchObject({ account: 'alice', deviceId: 'dev-1' });
    expect(typeof reply!.r.serverTime).toBe('number');
    expect(sessions!.d).toHaveLength(1);
    expect(offline!.d).toEqual({ sessionId: 'p2p-bob', scene: 'p2p', to: 'bob', msgs: [msg] });
    expect(typeof done!.d.serverTime).toBe('number');

    const sync = fx.actors.requests.find((r) => r.m === 'sync')!;
    expect(sync.to).toBe(userAddress('alice'));
    expect(sync.a).toEqual({ deviceId: 'dev-1', cursors: { sessions: 4 }, limit: 50, superTeamLimit: 10 });
    expect(sync.caller).toMatchObject({ account: 'alice', deviceId: 'dev-1', deviceType: 'ios' });
    expect(sync.caller!.conn).toMatch(/^edge-test\/\d+$/);
    const ranges = fx.actors.requests.filter((r) => r.m === 'range');
    expect(ranges.map((r) => r.a)).toContainEqual({ viewer: 'alice', fromSeq: 3, limit: 50 });
  });

  it('paces a large login sync by the client instead of closing it as a slow consumer', async () => {
    const fx = await startEdge({ maxBackpressureBytes: 64 * 1024 });
    const sessions = 400;
    fx.actors.on.sync = () => ({
      sessions: [],
      fetch: Array.from({ length: sessions }, (_, i) => ({ sessionId: `team-${i}`, scene: 'team', to: String(i), address: `team:${i}`, fromSeq: 1 })),
    });
    fx.actors.on.range = (req) => ({ msgs: [{ to: req.to, text: 'y'.repeat(16 * 1024) }] });
    const client = await connect(fx);
    client.send('login', { token: await signDevToken(SECRET, 'alice', 60) });
    await client.event('syncdone', 15_000);
    expect(client.received.filter((f) => f.ev === 'offlinemsgs')).toHaveLength(sessions);
    expect(fx.edge.stats().connections).toBe(1);
  }, 30_000);

  /**
   * Stands in for the actors of a large login sync: `sessions` conversations
   * of `perSession` messages of `textBytes` each, served in pages as the
   * real ones do (`maxBytes`, else the Bus's limit; a `next` cursor).
   */
  function largeSync(fx: Fixture, sessions: number, perSession: number, textBytes: number): void {
    fx.actors.on.sync = () => ({
      sessions: Array.from({ length: sessions }, (_, i) => ({ id: `team-${i}`, scene: 'team', to: String(i), unread: perSession, updateTime: 1, isTop: false })),
      fetch: Array.from({ length: sessions }, (_, i) => ({ sessionId: `team-${i}`, scene: 'team', to: String(i), address: `team:${i}`, fromSeq: 1 })),
    });
    fx.actors.on.range = (req) => {
      const a = req.a as { fromSeq: number; limit: number; maxBytes?: number };
      const budget = a.maxBytes ?? (fx.bus.maxPayloadBytes ?? 1024 * 1024) - 1024;
      const msgs = [];
      let seq = a.fromSeq;
      for (let bytes = 0; seq <= perSession && msgs.length < a.limit && (msgs.length === 0 || bytes + textBytes + 100 <= budget); seq++) {
        msgs.push({ to: req.to, seq, text: 'z'.repeat(textBytes) });
        bytes += textBytes + 100;
      }
      return seq <= perSession ? { msgs, next: seq } : { msgs };
    };
  }

  it('closes a socket that does not read its login sync at the bound, never holding more than the bound for it', async () => {
    const bound = 256 * 1024;
    const fx = await startEdge({ maxBackpressureBytes: bound, drainTimeoutMs: 300, syncMsgsPerSession: 1000 });
    largeSync(fx, 8, 1000, 4096); // 32 MiB of offline messages: far more than the kernel's socket buffers hold
    const client = await connect(fx);
    const socket = (client.ws as unknown as { _socket: { pause(): void } })._socket;
    client.send('login', { token: await signDevToken(SECRET, 'alice', 60) });
    socket.pause();
    await until(() => fx.edge.stats().connections === 0, 'the non-reading socket closed', 20_000);
    expect(fx.edge.unsentStats().peakBytes).toBeLessThanOrEqual(bound);
    // It stopped pulling pages once the socket was full: far fewer than the whole sync.
    expect(fx.actors.requests.filter((r) => r.m === 'range').length).toBeLessThan(8 * 1000);
    expect(fx.edge.stats().accounts).toBe(0);
  }, 30_000);

  it('gives a slow but reading client its whole login sync, in seq order, within the bound', async () => {
    const bound = 256 * 1024;
    const fx = await startEdge({ maxBackpressureBytes: bound, drainTimeoutMs: 2000, syncMsgsPerSession: 1000 });
    const sessions = 4;
    const perSession = 300;
    largeSync(fx, sessions, perSession, 4096); // about 5 MiB, 20 times the bound
    const client = await connect(fx);
    const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    // Reads in short bursts: a few milliseconds of reading every 20 ms.
    const reader = setInterval(() => {
      socket.resume();
      setTimeout(() => socket.pause(), 2);
    }, 20);
    try {
      client.send('login', { token: await signDevToken(SECRET, 'alice', 60) });
      socket.pause();
      await client.event('syncdone', 60_000);
    } finally {
      clearInterval(reader);
      socket.resume();
    }
    for (let i = 0; i < sessions; i++) {
      const seqs = client.received.filter((f) => f.ev === 'offlinemsgs' && f.d.sessionId === `team-${i}`).flatMap((f) => f.d.msgs.map((m: { seq: number }) => m.seq));
      expect(seqs).toEqual(Array.from({ length: perSession }, (_, k) => k + 1));
    }
    expect(fx.edge.stats().connections).toBe(1);
    const { peakBytes } = fx.edge.unsentStats();
    expect(peakBytes).toBeLessThanOrEqual(bound);
    expect(peakBytes).toBeGreaterThan(bound / 4); // the sync did wait for the client
  }, 90_000);

  it('sends sessions even when empty, and generates a deviceId when none is given', async () => {
    const fx = await startEdge();
    const client = await connect(fx);
    const reply = await client.request('login', { token: await signDevToken(SECRET, 'alice', 60) });
    expect(reply.r.deviceId).toEqual(expect.any(String));
    expect(reply.r.deviceId.length).toBeGreaterThan(0);
    expect((await client.event('sessions')).d).toEqual([]);
    await client.event('syncdone');
  });

  it('answers a bad token with UNAUTHORIZED and closes the socket', async () => {
    const fx = await startEdge();
    const client = await connect(fx);
    const id = client.send('login', { token: await signDevToken('wrong-secret', 'alice', 60) });
    const reply = await client.reply(id);
    expect(reply.e).toMatchObject({ name: 'UNAUTHORIZED', code: 302 });
    expect((await client.waitClosed()).code).toBe(4001);
  });

  it('answers an expired token with UNAUTHORIZED and closes the socket', async () => {
    const fx = await startEdge();
    const client = await connect(fx);
    const reply = await client.request('login', { token: await signDevToken(SECRET, 'alice', -60) });
    expect(reply.e!.name).toBe('UNAUTHORIZED');
    expect(reply.e!.message).toMatch(/expired/);
    expect((await client.waitClosed()).code).toBe(4001);
  });

  it('answers a missing token with UNAUTHORIZED and closes the socket', async () => {
    const fx = await startEdge();
    const client = await connect(fx);
    expect((await client.request('login', {})).e!.name).toBe('UNAUTHORIZED');
    expect((await client.waitClosed()).code).toBe(4001);
  });

  it('answers any other method before login with UNAUTHORIZED and keeps the socket open', async () => {
    const fx = await startEdge();
    const client = await connect(fx);
    const early = await client.request('sendText', { scene: 'p2p', to: 'bob', text: 'hi' });
    expect(early.e!.name).toBe('UNAUTHORIZED');
    const reply = await client.request('login', { token: await signDevToken(SECRET, 'alice', 60) });
    expect(reply.r.account).toBe('alice');
    await client.event('syncdone');
  });

  it('answers a second login with CONFLICT', async () => {
    const fx = await startEdge();
    const { client } = await login(fx, 'alice');
    const again = await client.request('login', { token: await signDevToken(SECRET, 'alice', 60) });
    expect(again.e!.name).toBe('CONFLICT');
  });

  it('closes a socket that does not log in in time', async () => {
    const fx = await startEdge({ loginTimeoutMs: 200 });
    const client = await connect(fx);
    expect((await client.waitClosed()).code).toBe(4002);
    expect(client.received[0]!.e!.name).toBe('UNAUTHORIZED');
  });

  it('retries a failing sync, then closes with 1011 when it keeps failing', async () => {
    const fx = await startEdge({ requestTimeoutMs: 300 });
    let calls = 0;
    fx.actors.on.sync = () => {
      calls++;
      if (calls === 1) throw new ParleyError('UNAVAILABLE', 'moving');
      return { sessions: [], fetch: [] };
    };
    await login(fx, 'alice');
    expect(calls).toBe(2);

    fx.actors.on.sync = () => {
      throw new ParleyError('UNAVAILABLE', 'down');
    };
    const client = await connect(fx);
    const reply = await client.request('login', { token: await signDevToken(SECRET, 'bob', 60) });
    expect(reply.r.account).toBe('bob');
    expect((await client.waitClosed()).code).toBe(1011);
  });

  it('takes the account from the token, never from the arguments', async () => {
    const fx = await startEdge();
    const { client } = await login(fx, 'alice');
    const reply = await client.request('sendText', { scene: 'p2p', to: 'bob', text: 'hi', from: 'mallory' });
    expect(reply.r).toEqual({ scene: 'p2p', to: 'bob', text: 'hi', idClient: expect.stringMatching(/^[0-9a-f]{16}-[0-9a-z]+$/) });
    const req = fx.actors.requests.find((r) => r.m === 'sendText')!;
    expect(req.to).toBe(p2pAddress('alice', 'bob'));
    expect(req.caller!.account).toBe('alice');
  });
});

describe('edge: frames', () => {
  it('rejects a text frame with BAD_REQUEST and keeps serving', async () => {
    const fx = await startEdge();
    const { client } = await login(fx, 'alice');
    client.sendBytes('{"id":1,"m":"getServerTime"}');
    const f = await client.next((x) => x.e !== undefined);
    expect(f).toMatchObject({ id: 0, e: { name: 'BAD_REQUEST', code: 414 } });
    const time = await client.request('getServerTime');
    expect(typeof time.r).toBe('number');
  });

  it('rejects bytes that are not one msgpack value, echoing a salvageable id', async () => {
    const fx = await startEdge();
    const { client } = await login(fx, 'alice');
    client.sendBytes(new Uint8Array([0xc1]));
    expect(await client.next((x) => x.e !== undefined)).toMatchObject({ id: 0, e: { name: 'BAD_REQUEST' } });
    await client.request('getServerTime');
    const trailing = new Uint8Array([...encode({ id: 7, m: 'getServerTime' }), 0x01]);
    client.sendBytes(trailing);
    expect((await client.reply(7)).e!.name).toBe('BAD_REQUEST');
  });

  it('closes the socket with 1007 on a second malformed frame in a row', async () => {
    const fx = await startEdge();
    const { client } = await login(fx, 'alice');
    client.sendBytes('garbage');
    client.sendBytes(new Uint8Array([0xc1, 0xc1]));
    expect((await client.waitClosed()).code).toBe(1007);
  });

  it('rejects values that are not requests, with the id when there is one', async () => {
    const fx = await startEdge();
    const { client } = await login(fx, 'alice');
    client.sendBytes(encode([1, 2, 3]));
    expect(await client.next((x) => x.e !== undefined)).toMatchObject({ id: 0, e: { name: 'BAD_REQUEST' } });
    client.sendBytes(encode({ id: 9 }));
    expect((await client.reply(9)).e!.message).toMatch(/`m`/);
    client.sendBytes(encode({ id: 10, m: 'getServerTime', a: [1] }));
    expect((await client.reply(10)).e!.message).toMatch(/`a`/);
    client.sendBytes(encode({ id: -1, m: 'getServerTime' }));
    expect(await client.next((x) => x.e !== undefined)).toMatchObject({ id: 0, e: { name: 'BAD_REQUEST' } });
  });

  it('answers an unknown method with BAD_REQUEST naming it', async () => {
    const fx = await startEdge();
    const { client } = await login(fx, 'alice');
    const reply = await client.request('launchRockets', {});
    expect(reply.e!.name).toBe('BAD_REQUEST');
    expect(reply.e!.message).toMatch(/launchRockets/);
  });

  it('answers invalid arguments with BAD_REQUEST naming the argument', async () => {
    const fx = await startEdge();
    const { client } = await login(fx, 'alice');
    const missing = await client.request('sendText', { scene: 'p2p', to: 'bob' });
    expect(missing.e!.name).toBe('BAD_REQUEST');
    expect(missing.e!.message).toMatch(/`text`/);
    const wrong = await client.request('sendText', { scene: 'group', to: 'bob', text: 'x' });
    expect(wrong.e!.message).toMatch(/`scene`/);
    expect(fx.actors.requests.filter((r) => r.m === 'sendText')).toHaveLength(0);
  });

  it('drops the connection of an oversized frame and keeps serving the others', async () => {
    const fx = await startEdge({ maxFrameBytes: 64 * 1024 });
    const { client: big } = await login(fx, 'alice');
    const { client: other } = await login(fx, 'bob');
    big.send('sendText', { scene: 'p2p', to: 'bob', text: 'x'.repeat(100 * 1024) });
    expect([1006, 1009]).toContain((await big.waitClosed()).code);
    const reply = await other.request('sendText', { scene: 'p2p', to: 'alice', text: 'still here' });
    expect(reply.r.text).toBe('still here');
  });
});

describe('edge: requests', () => {
  it('answers pipelined requests out of order', async () => {
    const fx = await startEdge();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    fx.actors.on.sendText = async (req) => {
      const a = req.a as { text: string };
      if (a.text === 'slow') await gate;
      return a;
    };
    const { client } = await login(fx, 'alice');
    const slow = client.send('sendText', { scene: 'p2p', to: 'bob', text: 'slow' });
    const fast = client.send('sendText', { scene: 'team', to: '42', text: 'fast' });
    expect((await client.reply(fast)).r.text).toBe('fast');
    release();
    expect((await client.reply(slow)).r.text).toBe('slow');
    const ids = client.received.filter((f) => f.id === fast || f.id === slow).map((f) => f.id);
    expect(ids).toEqual([fast, slow]);
    expect(fx.actors.requests.find((r) => (r.a as { text?: string }).text === 'fast')!.to).toBe('team:42');
  });

  it('routes session methods to the user actor', async () => {
    const fx = await startEdge();
    const { client } = await login(fx, 'alice');
    await client.request('getServerSessions', { limit: 10 });
    await client.request('resetSessionUnread', { sessionId: 'p2p-bob' });
    const reqs = fx.actors.requests.filter((r) => r.m === 'getServerSessions' || r.m === 'resetSessionUnread');
    expect(reqs.map((r) => r.to)).toEqual([userAddress('alice'), userAddress('alice')]);
    expect(reqs[0]!.a).toMatchObject({ limit: 10, needLastMsg: true });
  });

  it('answers TIMEOUT when the actor does not reply in time', async () => {
    const fx = await startEdge({ requestTimeoutMs: 200 });
    fx.actors.on.sendText = () => HANG;
    const { client } = await login(fx, 'alice');
    const reply = await client.request('sendText', { scene: 'p2p', to: 'bob', text: 'hi' });
    expect(reply.e).toMatchObject({ name: 'TIMEOUT', code: 408 });
  });

  it('answers UNAVAILABLE when no actor host comes within the request timeout', async () => {
    const fx = await startEdge({ requestTimeoutMs: 300 });
    const { client } = await login(fx, 'alice');
    fx.actors.detach();
    const reply = await client.request('sendText', { scene: 'p2p', to: 'bob', text: 'hi' });
    expect(reply.e).toMatchObject({ name: 'UNAVAILABLE', code: 415 });
  });

  it('holds a request while no actor host serves its partition, and answers once one does', async () => {
    const fx = await startEdge({ requestTimeoutMs: 5000 });
    const { client } = await login(fx, 'alice');
    fx.actors.detach();
    let attempts = 0;
    // The edge's held calls send each attempt through `requestTo`.
    const requestTo = fx.bus.requestTo.bind(fx.bus);
    fx.bus.requestTo = (subject, data, timeoutMs, waiter) => {
      attempts++;
      return requestTo(subject, data, timeoutMs, waiter);
    };
    const pending = client.request('sendText', { scene: 'p2p', to: 'bob', text: 'held' });
    await waitFor('the edge to retry', () => attempts >= 3);
    fx.actors.attach();
    const reply = await pending;
    expect(reply.r).toMatchObject({ text: 'held' });
    // Every attempt carried the same idClient, so the actor can deduplicate.
    const ids = new Set(fx.actors.requests.filter((r) => r.m === 'sendText').map((r) => (r.a as { idClient: string }).idClient));
    expect(ids.size).toBe(1);
  });

  it("passes an actor's error through", async () => {
    const fx = await startEdge();
    fx.actors.on.sendText = () => {
      throw new ParleyError('BLOCKED', 'bob blocks you');
    };
    const { client } = await login(fx, 'alice');
    const reply = await client.request('sendText', { scene: 'p2p', to: 'bob', text: 'hi' });
    expect(reply.e).toEqual({ code: 7101, name: 'BLOCKED', message: 'bob blocks you' });
  });

  it('answers INTERNAL with a correlation id when something unexpected fails', async () => {
    const fx = await startEdge();
    fx.actors.on.sendText = () => new Uint8Array([0x81]); // a truncated map: the edge cannot decode the reply
    const { client } = await login(fx, 'alice');
    const reply = await client.request('sendText', { scene: 'p2p', to: 'bob', text: 'hi' });
    expect(reply.e!.name).toBe('INTERNAL');
    // The request's correlation id: the socket's ref and the request id.
    expect(reply.e!.message).toMatch(new RegExp(`correlation id edge-test/\\d+#${reply.id}\\)`));
  });

  it('limits requests in flight per socket', async () => {
    const fx = await startEdge();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    fx.actors.on.sendText = async (req) => {
      await gate;
      return req.a;
    };
    const { client } = await login(fx, 'alice');
    const ids = Array.from({ length: 257 }, (_, i) => client.send('sendText', { scene: 'p2p', to: 'bob', text: `m${i}` }));
    expect((await client.reply(ids[256]!)).e!.name).toBe('RATE_LIMITED');
    release();
    expect((await client.reply(ids[0]!)).r.text).toBe('m0');
    expect((await client.reply(ids[255]!)).r.text).toBe('m255');
  });

  it('answers getServerTime itself', async () => {
    const fx = await startEdge();
    const { client } = await login(fx, 'alice');
    const before = Date.now();
    const reply = await client.request('getServerTime');
    expect(reply.r).toBeGreaterThanOrEqual(before);
  });
});

describe('edge: delivery', () => {
  function deliver(fx: Fixture, account: string, frame: unknown, x?: string): void {
    const delivery: Delivery = x === undefined ? { f: encode(frame) } : { x, f: encode(frame) };
    fx.bus.publish(deliverySubject(account), encode(delivery));
  }

  async function connOf(fx: Fixture, client: RawClient): Promise<string> {
    const n = fx.actors.requests.length;
    await client.request('getServerSessions', {});
    return fx.actors.requests.slice(n).find((r) => r.m === 'getServerSessions')!.caller!.conn;
  }

  it("reaches every socket of the account except the excluded one, and nobody else's", async () => {
    const fx = await startEdge();
    const a1 = (await login(fx, 'alice')).client;
    const a2 = (await login(fx, 'alice')).client;
    const a3 = (await login(fx, 'alice')).client;
    const bob = (await login(fx, 'bob')).client;
    for (const c of [a1, a2, a3]) c.frames.length = 0;
    const ref1 = await connOf(fx, a1);
    deliver(fx, 'alice', { ev: 'msg', d: { n: 1 } }, ref1);
    deliver(fx, 'alice', { ev: 'msg', d: { n: 2 } });
    deliver(fx, 'bob', { ev: 'msg', d: { n: 3 } });
    for (const c of [a2, a3]) {
      expect((await c.event('msg')).d).toEqual({ n: 1 });
      expect((await c.event('msg')).d).toEqual({ n: 2 });
    }
    expect((await a1.event('msg')).d).toEqual({ n: 2 });
    expect((await bob.event('msg')).d).toEqual({ n: 3 });
    expect(a1.received.filter((f) => f.ev === 'msg')).toHaveLength(1);
    expect(bob.received.filter((f) => f.ev === 'msg')).toHaveLength(1);
  });

  it('drops the bus subscription when the last socket of the account closes', async () => {
    const fx = await startEdge();
    const a1 = (await login(fx, 'alice')).client;
    const a2 = (await login(fx, 'alice')).client;
    await login(fx, 'bob');
    expect(fx.edge.stats()).toEqual({ connections: 3, accounts: 2 });
    a1.terminate();
    await until(() => fx.edge.stats().connections === 2, 'first close');
    expect(fx.edge.stats().accounts).toBe(2);
    a2.terminate();
    await until(() => fx.edge.stats().accounts === 1, 'last alice socket closed');
  });

  it('tells the other devices when a device logs in or out', async () => {
    const fx = await startEdge();
    const { client: a1, deviceId: d1 } = await login(fx, 'alice', { deviceId: 'phone', deviceType: 'ios' });
    const { client: a2 } = await login(fx, 'alice', { deviceId: 'laptop', deviceType: 'pc' });
    const change = await a1.event('loginportschange');
    expect(change.d).toMatchObject([{ account: 'alice', online: true, deviceId: 'laptop', type: 'pc' }]);
    expect(typeof change.d[0].time).toBe('number');
    expect(d1).toBe('phone');

    const { client: a3 } = await login(fx, 'alice', { deviceId: 'tablet', deviceType: 'android' });
    expect((await a2.event('loginportschange')).d).toMatchObject([{ online: true, deviceId: 'tablet' }]);
    // a2 heard a3's login but never its own
    expect(a2.received.filter((f) => f.ev === 'loginportschange').map((f) => f.d[0].deviceId)).toEqual(['tablet']);

    a3.terminate();
    expect((await a1.next((f) => f.ev === 'loginportschange' && f.d[0].online === false)).d).toMatchObject([
      { online: false, deviceId: 'tablet', type: 'android' },
    ]);
  });

  it('closes a slow consumer and keeps serving the others', async () => {
    const fx = await startEdge({ maxBackpressureBytes: 64 * 1024 });
    const slow = (await login(fx, 'alice')).client;
    const other = (await login(fx, 'bob')).client;
    // Stop reading: the kernel buffers fill, then the edge's own buffer.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const payload = { ev: 'msg', d: { text: 'x'.repeat(16 * 1024) } };
    await until(
      () => {
        if (fx.edge.stats().accounts === 1) return true;
        for (let i = 0; i < 64; i++) deliver(fx, 'alice', payload);
        return false;
      },
      'slow consumer closed',
      15_000,
    );
    expect(fx.edge.stats().connections).toBe(1);
    const reply = await other.request('sendText', { scene: 'p2p', to: 'alice', text: 'fine' });
    expect(reply.r.text).toBe('fine');
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await slow.waitClosed(10_000);
  }, 30_000);
});

describe('edge: shutdown', () => {
  it('closes every socket and drops every subscription on stop', async () => {
    const fx = await startEdge();
    const a = (await login(fx, 'alice')).client;
    const b = await connect(fx);
    await fx.edge.stop();
    expect(fx.edge.stats()).toEqual({ connections: 0, accounts: 0 });
    const [ca, cb] = await Promise.all([a.waitClosed(), b.waitClosed()]);
    expect([1001, 1006]).toContain(ca.code);
    expect([1001, 1006]).toContain(cb.code);
  });
});

describe('edge: uWebSockets.js', () => {
  it('loads the native binary for this Node', () => {
    expect(supportedAbis()).toContain(process.versions.modules);
    const uws = loadUws();
    expect(typeof uws.App).toBe('function');
    expect(typeof uws.us_socket_local_port).toBe('function');
  });
});
