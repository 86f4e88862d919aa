/**
 * The Bus contract: one suite, run against the in-process EmbeddedBus and the
 * NatsBus on a real nats-server. Each test gets two handles on one network:
 * `a` sends and `b` listens (the same object in embedded mode, two
 * connections over NATS), so the NATS run also crosses connections.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus, BusMessage } from '../../engine/bus/bus.ts';
import { EmbeddedBus } from '../../engine/bus/embedded-bus.ts';
import { NatsBus } from '../../engine/bus/nats-bus.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import { startNatsServer, useNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';
import { setupOrFail } from '../helpers/setup-or-fail.ts';

interface BusNetwork {
  /** The sending side. */
  a: Bus;
  /** The listening side; may be `a` itself. */
  b: Bus;
  close(): Promise<void>;
}

interface BusTarget {
  /** Called once before the suite (start servers). */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A fresh network for one test. */
  network(): Promise<BusNetwork>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

/** Subscribes and records every message; `b.flush()` makes sure the server knows the subscription. */
function recorder(): { msgs: BusMessage[]; texts: () => string[]; handler: (m: BusMessage) => void } {
  const msgs: BusMessage[] = [];
  return { msgs, texts: () => msgs.map((m) => text(m.data)), handler: (m) => void msgs.push(m) };
}

function busContract(name: string, target: BusTarget): void {
  describe(`Bus contract: ${name}`, () => {
    let net: BusNetwork;
    let a: Bus;
    let b: Bus;

    setupOrFail(() => target.setup());
    afterAll(() => target.teardown());
    beforeEach(async () => {
      net = await target.network();
      a = net.a;
      b = net.b;
    });
    afterEach(() => net?.close());

    it('is connected while open', () => {
      expect(a.connected).toBe(true);
      expect(b.connected).toBe(true);
    });

    it('carries a message of maxPayloadBytes, refuses a larger one with TOO_LARGE, and drops a reply over it', async () => {
      const max = a.maxPayloadBytes;
      expect(Number.isSafeInteger(max) && max > 0).toBe(true);
      b.subscribe('t.max', (m) => m.respond(m.data));
      b.subscribe('t.max.grow', (m) => m.respond(new Uint8Array(max + 1)));
      await b.flush();
      const full = new Uint8Array(max).fill(7);
      const echoed = await a.request('t.max', full, { timeoutMs: 5000 });
      expect(echoed.byteLength).toBe(max);
      const over = new Uint8Array(max + 1);
      expect((await rejectionOf(a.request('t.max', over, { timeoutMs: 5000 }))).name).toBe('TOO_LARGE');
      let thrown: unknown;
      try {
        a.publish('t.max', over);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ParleyError);
      expect((thrown as ParleyError).name).toBe('TOO_LARGE');
      // A reply the bus refuses never arrives: the requester times out (so replies must be paged under the limit).
      expect((await rejectionOf(a.request('t.max.grow', bytes('x'), { timeoutMs: 300 }))).name).toBe('TIMEOUT');
      expect(a.connected).toBe(true);
    });

    it('delivers a publish to every subscriber of the subject', async () => {
      const r1 = recorder();
      const r2 = recorder();
      b.subscribe('t.pub.one', r1.handler);
      b.subscribe('t.pub.one', r2.handler);
      const other = recorder();
      b.subscribe('t.pub.other', other.handler);
      await b.flush();
      a.publish('t.pub.one', bytes('hello'));
      await waitFor('both subscribers', () => r1.msgs.length === 1 && r2.msgs.length === 1);
      expect(other.msgs).toEqual([]);
      expect(r1.msgs[0]!.subject).toBe('t.pub.one');
      expect(text(r1.msgs[0]!.data)).toBe('hello');
      expect(r1.msgs[0]!.reply).toBeUndefined();
    });

    it('publishing with no subscriber is not an error', async () => {
      a.publish('t.nobody.listens', bytes('x'));
      await a.flush();
    });

    it('matches `*` to exactly one token', async () => {
      const r = recorder();
      b.subscribe('t.star.*.x', r.handler);
      const done = recorder();
      b.subscribe('t.star.done', done.handler);
      await b.flush();
      for (const s of ['t.star.a.x', 't.star.a.b.x', 't.star.x', 't.star.b.x', 't.star.a.x.y']) a.publish(s, bytes(s));
      a.publish('t.star.done', bytes('done'));
      // Messages from one publisher arrive in order, so once `done` is here the others would be too.
      await waitFor('sentinel', () => done.msgs.length === 1);
      expect(r.texts()).toEqual(['t.star.a.x', 't.star.b.x']);
    });

    it('matches `>` to one or more trailing tokens', async () => {
      const r = recorder();
      b.subscribe('t.gt.>', r.handler);
      const done = recorder();
      b.subscribe('t.done', done.handler);
      await b.flush();
      for (const s of ['t.gt', 't.gt.a', 't.gt.a.b.c', 't.gtx.a']) a.publish(s, bytes(s));
      a.publish('t.done', bytes('done'));
      await waitFor('sentinel', () => done.msgs.length === 1);
      expect(r.texts()).toEqual(['t.gt.a', 't.gt.a.b.c']);
      expect(r.msgs.map((m) => m.subject)).toEqual(['t.gt.a', 't.gt.a.b.c']);
    });

    it('gives each message to exactly one member of a queue group, and all to plain subscribers', async () => {
      const q1 = recorder();
      const q2 = recorder();
      const plain = recorder();
      b.subscribe('t.queue', q1.handler, { queue: 'workers' });
      b.subscribe('t.queue', q2.handler, { queue: 'workers' });
      b.subscribe('t.queue', plain.handler);
      await b.flush();
      const n = 200;
      for (let i = 0; i < n; i++) a.publish('t.queue', bytes(String(i)));
      await waitFor('all messages', () => q1.msgs.length + q2.msgs.length === n && plain.msgs.length === n);
      const got = [...q1.texts(), ...q2.texts()].map(Number).sort((x, y) => x - y);
      expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
      // Both members take a share (random on NATS: all 200 to one member has probability 2^-199).
      expect(q1.msgs.length).toBeGreaterThan(0);
      expect(q2.msgs.length).toBeGreaterThan(0);
    });

    it('answers a request with the first reply', async () => {
      b.subscribe('t.echo', (m) => {
        expect(m.reply).toBeTypeOf('string');
        m.respond(bytes(`echo:${text(m.data)}`));
      });
      await b.flush();
      const reply = await a.request('t.echo', bytes('ping'), { timeoutMs: 5000 });
      expect(text(reply)).toBe('echo:ping');
    });

    it('serves many concurrent requests and matches each reply to its request', async () => {
      b.subscribe('t.square', (m) => m.respond(bytes(String(Number(text(m.data)) ** 2))), { queue: 'sq' });
      b.subscribe('t.square', (m) => m.respond(bytes(String(Number(text(m.data)) ** 2))), { queue: 'sq' });
      await b.flush();
      const replies = await Promise.all(
        Array.from({ length: 500 }, (_, i) => a.request('t.square', bytes(String(i)), { timeoutMs: 10_000 })),
      );
      expect(replies.map((r) => Number(text(r)))).toEqual(Array.from({ length: 500 }, (_, i) => i * i));
    });

    it('rejects a request nobody subscribes to with UNAVAILABLE, without waiting for the timeout', async () => {
      const started = Date.now();
      const err = await rejectionOf(a.request('t.nobody.home', bytes('?'), { timeoutMs: 10_000 }));
      expect(err).toBeInstanceOf(ParleyError);
      expect(err.name).toBe('UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('rejects a request whose responder stays silent with TIMEOUT', async () => {
      const r = recorder();
      b.subscribe('t.silent', r.handler);
      await b.flush();
      const started = Date.now();
      const err = await rejectionOf(a.request('t.silent', bytes('?'), { timeoutMs: 150 }));
      expect(err).toBeInstanceOf(ParleyError);
      expect(err.name).toBe('TIMEOUT');
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(r.msgs.length).toBe(1);
    });

    it('stops delivery after unsubscribe', async () => {
      const r = recorder();
      const sub = b.subscribe('t.unsub', r.handler);
      const done = recorder();
      b.subscribe('t.unsub.done', done.handler);
      await b.flush();
      a.publish('t.unsub', bytes('1'));
      await waitFor('first message', () => r.msgs.length === 1);
      sub.unsubscribe();
      sub.unsubscribe(); // idempotent
      await b.flush();
      a.publish('t.unsub', bytes('2'));
      a.publish('t.unsub.done', bytes('done'));
      await waitFor('sentinel', () => done.msgs.length === 1);
      expect(r.texts()).toEqual(['1']);
      expect(sub.subject).toBe('t.unsub');
    });

    it('drains: what was published before the drain is handled, nothing after', async () => {
      const r = recorder();
      const sub = b.subscribe('t.drain', r.handler);
      await b.flush();
      for (let i = 0; i < 200; i++) b.publish('t.drain', bytes(`m${i}`));
      await sub.drain();
      expect(r.msgs).toHaveLength(200);
      const after = recorder();
      b.subscribe('t.drain.done', after.handler);
      await b.flush();
      a.publish('t.drain', bytes('late'));
      a.publish('t.drain.done', bytes('done'));
      await waitFor('sentinel', () => after.msgs.length === 1);
      expect(r.msgs).toHaveLength(200);
    });

    it('carries bytes intact, never the sender’s object', async () => {
      const small = Uint8Array.from({ length: 256 }, (_, i) => i);
      const large = new Uint8Array(200_000);
      for (let i = 0; i < large.length; i++) large[i] = (i * 7919) & 0xff;
      const r = recorder();
      b.subscribe('t.bytes', r.handler);
      b.subscribe('t.bytes.req', (m) => m.respond(m.data));
      await b.flush();
      a.publish('t.bytes', small);
      a.publish('t.bytes', large);
      a.publish('t.bytes', new Uint8Array(0));
      await waitFor('three messages', () => r.msgs.length === 3);
      expect(Array.from(r.msgs[0]!.data)).toEqual(Array.from(small));
      expect(r.msgs[0]!.data === small).toBe(false);
      expect(Buffer.from(r.msgs[1]!.data).equals(Buffer.from(large))).toBe(true);
      expect(r.msgs[1]!.data === large).toBe(false);
      expect(r.msgs[2]!.data.length).toBe(0);
      const echoed = await a.request('t.bytes.req', large, { timeoutMs: 5000 });
      expect(echoed === large).toBe(false);
      expect(Buffer.from(echoed).equals(Buffer.from(large))).toBe(true);
    });

    it('keeps delivering to other subscribers, and to itself, when a handler throws', async () => {
      let thrown = 0;
      const ok = recorder();
      b.subscribe('t.throw', () => {
        thrown++;
        throw new Error('handler bug (expected in this test)');
      });
      b.subscribe('t.throw', ok.handler);
      await b.flush();
      for (let i = 0; i < 3; i++) a.publish('t.throw', bytes(String(i)));
      await waitFor('all delivered', () => ok.msgs.length === 3 && thrown === 3);
      expect(ok.texts()).toEqual(['0', '1', '2']);
      expect(a.connected && b.connected).toBe(true);
    });

    it('delivers one publisher’s messages in order', async () => {
      const r = recorder();
      b.subscribe('t.order.*', r.handler);
      await b.flush();
      const n = 2000;
      for (let i = 0; i < n; i++) a.publish(`t.order.${i % 3}`, bytes(String(i)));
      await waitFor('all messages', () => r.msgs.length === n);
      expect(r.texts().map(Number)).toEqual(Array.from({ length: n }, (_, i) => i));
    });

    it('is not connected once closed, and refuses requests with UNAVAILABLE', async () => {
      const other = await target.network();
      await other.close();
      const bus = other.a;
      expect(bus.connected).toBe(false);
      const err = await rejectionOf(bus.request('t.echo', bytes('x'), { timeoutMs: 1000 }));
      expect(err.name).toBe('UNAVAILABLE');
    });

    it('fails a request still waiting for its reply with UNAVAILABLE when it closes', async () => {
      const other = await target.network();
      other.b.subscribe('t.silent', () => {});
      await other.b.flush();
      const waiting = rejectionOf(other.a.request('t.silent', bytes('x'), { timeoutMs: 10_000 }));
      await other.a.flush();
      const started = Date.now();
      await other.close();
      expect((await waiting).name).toBe('UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });
}

busContract('EmbeddedBus', {
  setup: async () => {},
  teardown: async () => {},
  network: async () => {
    const bus = new EmbeddedBus();
    return { a: bus, b: bus, close: () => bus.close() };
  },
});

let server: NatsServer | undefined;
busContract('NatsBus', {
  setup: async () => {
    server = await startNatsServer({ jetstream: false });
  },
  teardown: async () => {
    await server?.stop();
  },
  network: async () => {
    const a = await NatsBus.connect(server!.url, 'contract-a');
    const b = await NatsBus.connect(server!.url, 'contract-b');
    return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) };
  },
});

describe('EmbeddedBus specifics', () => {
  it('takes its payload limit from its options', async () => {
    const bus = new EmbeddedBus({ maxPayloadBytes: 1000 });
    try {
      expect(bus.maxPayloadBytes).toBe(1000);
      expect((await rejectionOf(bus.request('t.x', new Uint8Array(1001), { timeoutMs: 100 }))).name).toBe('TOO_LARGE');
      expect(() => new EmbeddedBus({ maxPayloadBytes: 0 })).toThrow(/maxPayloadBytes/);
    } finally {
      await bus.close();
    }
  });
});

describe('NatsBus: a server with a small max_payload', () => {
  const server = useNatsServer({ jetstream: false, extraConfig: 'max_payload: 65536' });

  it('reports the max_payload the server announced', async () => {
    const bus = await NatsBus.connect(server().url, 'small-payload');
    try {
      expect(bus.maxPayloadBytes).toBe(65536);
      expect((await rejectionOf(bus.request('t.x', new Uint8Array(65537), { timeoutMs: 1000 }))).name).toBe('TOO_LARGE');
    } finally {
      await bus.close();
    }
  });
});

describe('NatsBus specifics', () => {
  const server = useNatsServer({ jetstream: false });

  it('refuses payloads over the server max_payload with TOO_LARGE', async () => {
    const bus = await NatsBus.connect(server().url, 'too-large');
    try {
      const huge = new Uint8Array(2 * 1024 * 1024);
      const err = await rejectionOf(bus.request('t.huge', huge, { timeoutMs: 1000 }));
      expect(err.name).toBe('TOO_LARGE');
      expect(() => bus.publish('t.huge', huge)).toThrow(/max_payload/);
      expect(bus.connected).toBe(true);
    } finally {
      await bus.close();
    }
  });

  it('fails requests fast with UNAVAILABLE while disconnected and recovers after a restart', async () => {
    const nats = server();
    const a = await NatsBus.connect(nats.url, 'outage-a');
    const b = await NatsBus.connect(nats.url, 'outage-b');
    try {
      b.subscribe('t.outage', (m) => m.respond(m.data));
      b.subscribe('t.outage.slow', () => {});
      await b.flush();
      expect(text(await a.request('t.outage', bytes('1'), { timeoutMs: 5000 }))).toBe('1');

      const inFlight = rejectionOf(a.request('t.outage.slow', bytes('x'), { timeoutMs: 60_000 }));
      await nats.kill('SIGKILL');
      // The request in flight fails as soon as the client notices, not after its 60 s timeout.
      const lost = await inFlight;
      expect(lost.name).toBe('UNAVAILABLE');
      await waitFor('disconnect noticed', () => !a.connected);

      const started = Date.now();
      const down = await rejectionOf(a.request('t.outage', bytes('2'), { timeoutMs: 60_000 }));
      expect(down.name).toBe('UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(1000);
      a.publish('t.outage', bytes('dropped')); // never throws, never buffers

      await nats.restart();
      await waitFor('reconnect', () => a.connected && b.connected, 15_000);
      await b.flush(); // subscriptions are re-sent on reconnect
      expect(text(await a.request('t.outage', bytes('3'), { timeoutMs: 5000 }))).toBe('3');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
