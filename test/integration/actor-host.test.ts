/**
 * The actor runtime with real parts (embedded Bus, LMDB Log, LMDB state):
 * activation from a snapshot plus catch-up from the Log, fencing by the
 * expected Log position, passivation, and bounded mailboxes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedBus } from '../../engine/bus/embedded-bus.ts';
import { LmdbLog } from '../../engine/log/lmdb-log.ts';
import type { Log, LogEntry } from '../../engine/log/log.ts';
import { StateStore } from '../../engine/store.ts';
import { ActorHost } from '../../engine/actor/host.ts';
import { StaticOwnership } from '../../engine/actor/ownership.ts';
import type { OwnershipListener, PartitionOwnership } from '../../engine/actor/ownership.ts';
import { ActorClient } from '../../engine/actor/call.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { parseRequest } from '../../engine/protocol/methods.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import type { Caller } from '../../engine/envelope.ts';
import { fenceSubject, logSubject, p2pAddress, partitionOf, requestSubject, userAddress } from '../../engine/subjects.ts';
import { BEHAVIORS } from '../../engine/node.ts';
import type { StoredMessage } from '../../actors/conversation/logic.ts';
import { tempDir } from '../helpers/engine.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';

const PARTITIONS = 8;

interface Rig {
  bus: EmbeddedBus;
  log: Log;
  store: StateStore;
  host: ActorHost;
  stop(): Promise<void>;
}

const dirs: string[] = [];
const rigs: Rig[] = [];

interface RigOptions {
  actorIdleMs: number;
  mailboxLimit: number;
  /** Wraps the rig's Log (e.g. to slow its reads). */
  wrapLog: (log: Log) => Log;
  /** Default: one host owning every partition. */
  ownership: PartitionOwnership;
}

async function rig(dataDir: string, over: Partial<RigOptions> = {}): Promise<Rig> {
  const bus = new EmbeddedBus();
  const lmdb = new LmdbLog(join(dataDir, 'log'));
  const log = over.wrapLog === undefined ? lmdb : over.wrapLog(lmdb);
  const store = new StateStore(dataDir);
  const host = new ActorHost({
    bus,
    log,
    store,
    ownership: over.ownership ?? new StaticOwnership(PARTITIONS),
    behaviors: BEHAVIORS,
    nodeId: 'test',
    partitions: PARTITIONS,
    mailboxLimit: over.mailboxLimit ?? 1000,
    actorIdleMs: over.actorIdleMs ?? 60_000,
    callTimeoutMs: 2000,
  });
  await host.start();
  const r: Rig = {
    bus,
    log,
    store,
    host,
    async stop() {
      await host.stop();
      await log.close();
      await store.close();
      await bus.close();
    },
  };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Stops a rig as a crash would: nothing is handed over or drained. */
async function crash(r: Rig): Promise<void> {
  rigs.splice(rigs.indexOf(r), 1);
  await r.bus.close();
  await r.log.close();
  await r.store.close();
}

/** Bob's session with alice as his user actor reports it, if any. */
async function bobsSession(r: Rig): Promise<{ id: string; unread: number; lastMsg?: { text: string } } | undefined> {
  const bob: Caller = { account: 'bob', deviceId: 'b1', deviceType: 'web', conn: 'e/2' };
  const a = parseRequest('getServerSessions', {});
  const page = (await new ActorClient(r.bus, { partitions: PARTITIONS, timeoutMs: 2000 }).call(userAddress('bob'), 'getServerSessions', a, bob)) as {
    sessionList: { id: string; unread: number; lastMsg?: { text: string } }[];
  };
  return page.sessionList.find((x) => x.id === 'p2p-alice');
}

function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

const alice: Caller = { account: 'alice', deviceId: 'a1', deviceType: 'web', conn: 'e/1' };
const conv = p2pAddress('alice', 'bob');

/** The idClient defaults to the text with anything an identifier may not hold turned into `_`: one text, one idClient. */
function send(r: Rig, text: string, idClient = text.replace(/[^A-Za-z0-9_.@+=-]/g, '_')): Promise<Message> {
  const a = parseRequest('sendText', { scene: 'p2p', to: 'bob', text, idClient });
  return new ActorClient(r.bus, { partitions: PARTITIONS, timeoutMs: 5000 }).call(conv, 'sendText', a, alice) as Promise<Message>;
}

async function history(r: Rig): Promise<Message[]> {
  const a = parseRequest('getHistoryMsgs', { scene: 'p2p', to: 'bob', asc: true });
  return ((await new ActorClient(r.bus, { partitions: PARTITIONS, timeoutMs: 5000 }).call(conv, 'getHistoryMsgs', a, alice)) as { msgs: Message[] }).msgs;
}

/** An event for `conv` written straight to the Log, as another owner would. */
/** Writes one message to `subject` in the Log of `dataDir` only: history a fresh host must read before it decides. */
async function seedLog(dataDir: string, subject: string): Promise<void> {
  const seed = new LmdbLog(join(dataDir, 'log'));
  await seed.append(subject, foreignEvent(1, Date.now()), 0);
  await seed.close();
}

function foreignEvent(seq: number, time: number): Uint8Array {
  const msg: StoredMessage = {
    scene: 'p2p', from: 'bob', to: 'alice', type: 'text', text: `foreign ${seq}`, idClient: `f${seq}`, idServer: `9${seq}`, seq, time,
    status: 'success', fromDeviceId: 'b1', fromClientType: 'web', needMsgReceipt: false, isHistoryable: true, isRoamingable: true,
    isSyncable: true, isPushable: true, isOfflinable: true, isUnreadable: true,
  };
  return encode([{ t: 'msg', msg }]);
}

/**
 * A Log whose reads of `subject` wait until `open()`: an activation that
 * catches up on that subject stays loading, as on a host replaying a long Log.
 */
class GatedLog implements Log {
  private readonly inner: Log;
  private readonly subject: string;
  private opened = false;
  private readonly waiters: (() => void)[] = [];
  /** Reads of the subject waiting for the gate now. */
  held = 0;

  constructor(inner: Log, subject: string) {
    this.inner = inner;
    this.subject = subject;
  }

  open(): void {
    this.opened = true;
    for (const w of this.waiters.splice(0)) w();
  }

  append(subject: string, data: Uint8Array, expectedLastSeq: number, expectSubject?: string): Promise<number> {
    return this.inner.append(subject, data, expectedLastSeq, expectSubject);
  }

  async read(subject: string, fromSeq: number, limit?: number): Promise<LogEntry[]> {
    if (subject === this.subject && !this.opened) {
      this.held++;
      await new Promise<void>((done) => this.waiters.push(done));
      this.held--;
    }
    return this.inner.read(subject, fromSeq, limit);
  }

  lastSeq(subject: string): Promise<number> {
    return this.inner.lastSeq(subject);
  }

  recentSubjects(filter: string, windowMs: number, limit: number): Promise<string[]> {
    return this.inner.recentSubjects(filter, windowMs, limit);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Ownership of every partition that a test takes away and gives back, as leases lapse and are taken again. */
class ManualOwnership implements PartitionOwnership {
  private listener: OwnershipListener | undefined;
  private readonly held = new Set<number>();

  async start(listener: OwnershipListener): Promise<void> {
    this.listener = listener;
    for (let p = 0; p < PARTITIONS; p++) {
      this.held.add(p);
      listener.acquired(p);
    }
  }

  owns(partition: number): boolean {
    return this.held.has(partition);
  }

  async stop(): Promise<void> {
    this.held.clear();
  }

  lose(partition: number): Promise<void> {
    this.held.delete(partition);
    return Promise.resolve(this.listener!.released(partition));
  }

  acquire(partition: number): void {
    this.held.add(partition);
    this.listener!.acquired(partition);
  }
}

describe('actor host', () => {
  it('activates from the snapshot and catches up with Log entries the snapshot lacks', async () => {
    const dir = newDir();
    let r = await rig(dir);
    await send(r, 'one');
    await send(r, 'two');
    await r.stop();
    rigs.splice(rigs.indexOf(r), 1);

    // Entries appended after the snapshot was written (as if the process died between the two).
    const log = new LmdbLog(join(dir, 'log'));
    const subject = logSubject(conv, partitionOf(conv, PARTITIONS));
    await log.append(subject, foreignEvent(3, Date.now()), await log.lastSeq(subject));
    await log.close();

    r = await rig(dir);
    const third = await send(r, 'four');
    expect(third.seq).toBe(4);
    expect((await history(r)).map((m) => m.text)).toEqual(['one', 'two', 'foreign 3', 'four']);
  });

  it('is fenced when another owner takes the partition: its appends are refused and it stops serving', async () => {
    const dir = newDir();
    const r = await rig(dir);
    await send(r, 'one');
    const p = partitionOf(conv, PARTITIONS);
    const subject = logSubject(conv, p);
    // Another owner fences the partition and writes.
    const fence = fenceSubject(p);
    const theirs = await r.log.append(fence, encode({ node: 'other' }), await r.log.lastSeq(fence));
    await r.log.append(subject, foreignEvent(2, Date.now()), theirs, fence);

    const refused = await rejectionOf(send(r, 'stale'));
    expect(refused).toMatchObject({ name: 'UNAVAILABLE' });
    expect((await r.log.read(subject, 0)).length).toBe(2);
    // It no longer serves the partition at all.
    const again = await rejectionOf(send(r, 'stale'));
    expect(again).toMatchObject({ name: 'UNAVAILABLE' });
    expect((await r.log.read(subject, 0)).length).toBe(2);
  });

  it('fences a partition anew after an append whose outcome is unknown, then reloads the actor', async () => {
    const r = await rig(newDir());
    await send(r, 'one');
    const p = partitionOf(conv, PARTITIONS);
    const fence = fenceSubject(p);
    const before = await r.log.lastSeq(fence);
    const append = r.log.append.bind(r.log);
    let failNext = true;
    r.log.append = (subject, data, expected, expectSubject) => {
      if (failNext && subject === logSubject(conv, p)) {
        failNext = false;
        return Promise.reject(new ParleyError('UNAVAILABLE', 'outcome unknown'));
      }
      return append(subject, data, expected, expectSubject);
    };
    expect(await rejectionOf(send(r, 'lost?'))).toMatchObject({ name: 'UNAVAILABLE' });
    // The edge holds requests while the partition is fenced again.
    const a = parseRequest('sendText', { scene: 'p2p', to: 'bob', text: 'two', idClient: 'two' });
    const next = (await new ActorClient(r.bus, { partitions: PARTITIONS, timeoutMs: 5000 }).hold(conv, 'sendText', a, alice, 'never')) as Message;
    expect(next.seq).toBe(2);
    expect(await r.log.lastSeq(fence)).toBeGreaterThan(before);
    expect((await history(r)).map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('answers a resend queued behind its original during a slow activation with the original, storing it once', async () => {
    const dir = newDir();
    const p = partitionOf(conv, PARTITIONS);
    const subject = logSubject(conv, p);
    // The conversation has history in the Log but none in this host's LMDB: a fresh host taking the partition.
    await seedLog(dir, subject);
    let gated: GatedLog | undefined;
    const r = await rig(dir, { wrapLog: (log) => (gated = new GatedLog(log, subject)) });
    // Count the requests reaching the partition; the host's own subscription gets each one as well.
    let arrived = 0;
    const counter = r.bus.subscribe(requestSubject(p), () => arrived++);

    // The original and the edge's retry after its per-attempt timeout: same idClient, both waiting in one mailbox.
    const a = parseRequest('sendText', { scene: 'p2p', to: 'bob', text: 'once', idClient: 'c1' });
    const original = new ActorClient(r.bus, { partitions: PARTITIONS, timeoutMs: 5000 }).call(conv, 'sendText', a, alice) as Promise<Message>;
    const retry = new ActorClient(r.bus, { partitions: PARTITIONS, timeoutMs: 5000 }).call(conv, 'sendText', a, alice) as Promise<Message>;
    await waitFor('both sends to wait in the mailbox of the loading conversation', () => arrived === 2 && gated!.held > 0);
    counter.unsubscribe();
    gated!.open();

    const [first, second] = await Promise.all([original, retry]);
    expect(second).toEqual(first);
    expect(first.seq).toBe(2);
    expect((await history(r)).map((m) => `${m.seq}:${m.idClient}`)).toEqual(['1:f1', '2:c1']);
  });

  it('after an append of unknown outcome, does not fence out an owner that fenced the partition meanwhile', async () => {
    const r = await rig(newDir());
    const p = partitionOf(conv, PARTITIONS);
    const fence = fenceSubject(p);
    // A second conversation of the same partition, active in this host's memory.
    let peer = '';
    for (let i = 0; peer === '' && i < 1000; i++) if (partitionOf(p2pAddress('alice', `carol${i}`), PARTITIONS) === p) peer = `carol${i}`;
    const other = p2pAddress('alice', peer);
    const sendTo = (to: string, text: string, opts: { held?: boolean } = {}) => {
      const a = parseRequest('sendText', { scene: 'p2p', to, text, idClient: text });
      const address = p2pAddress('alice', to);
      // Held as the edge holds a send: through UNAVAILABLE answers, and past an attempt lost in the handover.
      const opt = { partitions: PARTITIONS, timeoutMs: 1500 };
      return (opts.held ? new ActorClient(r.bus, { ...opt }).hold(address, 'sendText', a, alice, 'idClient') : new ActorClient(r.bus, opt).call(address, 'sendText', a, alice)) as Promise<Message>;
    };
    await sendTo('bob', 'one');
    await sendTo(peer, 'two');

    // While this host's next append is on its way, another owner fences the partition and writes to the
    // second conversation; the append's outcome stays unknown to this host.
    let theirs = 0;
    const append = r.log.append.bind(r.log);
    let failNext = true;
    r.log.append = async (subject, data, expected, expectSubject) => {
      if (failNext && subject === logSubject(conv, p)) {
        failNext = false;
        theirs = await append(fence, encode({ node: 'other' }), await r.log.lastSeq(fence));
        await append(logSubject(other, p), foreignEvent(2, Date.now()), theirs, fence);
        throw new ParleyError('UNAVAILABLE', 'outcome unknown');
      }
      return append(subject, data, expected, expectSubject);
    };
    expect(await rejectionOf(sendTo('bob', 'lost'))).toMatchObject({ name: 'UNAVAILABLE' });

    // The partition is the other owner's now: this host neither fences it again nor decides anything in it.
    expect(await rejectionOf(sendTo(peer, 'stale', { held: true }))).toMatchObject({ name: 'UNAVAILABLE' });
    expect(await r.log.lastSeq(fence)).toBe(theirs);
    expect((await r.log.read(logSubject(other, p), 0)).length).toBe(2);
  });

  it('keeps the partition when its new fence marker landed but the answer was lost', async () => {
    const r = await rig(newDir());
    await send(r, 'one');
    const p = partitionOf(conv, PARTITIONS);
    const fence = fenceSubject(p);
    const append = r.log.append.bind(r.log);
    let failConv = true;
    let loseFenceAnswer = true;
    r.log.append = async (subject, data, expected, expectSubject) => {
      if (failConv && subject === logSubject(conv, p)) {
        failConv = false;
        throw new ParleyError('UNAVAILABLE', 'outcome unknown');
      }
      if (!failConv && loseFenceAnswer && subject === fence) {
        loseFenceAnswer = false;
        await append(subject, data, expected, expectSubject);
        throw new ParleyError('UNAVAILABLE', 'no acknowledgement in time');
      }
      return append(subject, data, expected, expectSubject);
    };
    expect(await rejectionOf(send(r, 'lost?'))).toMatchObject({ name: 'UNAVAILABLE' });
    const a = parseRequest('sendText', { scene: 'p2p', to: 'bob', text: 'two', idClient: 'two' });
    const next = (await new ActorClient(r.bus, { partitions: PARTITIONS, timeoutMs: 5000 }).hold(conv, 'sendText', a, alice, 'never')) as Message;
    expect(next.seq).toBe(2);
    expect(loseFenceAnswer).toBe(false);
    expect((await history(r)).map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('serves a partition taken again while its release was still waiting for a loading actor', async () => {
    const dir = newDir();
    const p = partitionOf(conv, PARTITIONS);
    const subject = logSubject(conv, p);
    await seedLog(dir, subject);
    let gated: GatedLog | undefined;
    const ownership = new ManualOwnership();
    const r = await rig(dir, { ownership, wrapLog: (log) => (gated = new GatedLog(log, subject)) });
    const first = send(r, 'during the release');
    await waitFor('the conversation to be loading', () => gated!.held > 0);

    // The lease lapses (a stalled host) and is taken again while the release waits for the loading actor.
    const released = ownership.lose(p);
    ownership.acquire(p);
    gated!.open();
    await released;
    // Decided while the partition is this host's again, or refused by the release: either is sound.
    const stored = await first.then(
      () => true,
      (err: unknown) => (expect(err).toMatchObject({ name: 'UNAVAILABLE' }), false),
    );

    // The partition is served again once the release is over.
    const a = parseRequest('sendText', { scene: 'p2p', to: 'bob', text: 'after', idClient: 'after' });
    const next = (await new ActorClient(r.bus, { partitions: PARTITIONS, timeoutMs: 3000 }).hold(conv, 'sendText', a, alice, 'never')) as Message;
    expect(next.seq).toBe(stored ? 3 : 2);
  });

  it('makes calls cut short by a crash again after a restart (the session reaches the recipient)', async () => {
    const dir = newDir();
    const r = await rig(dir);
    // The recipient's user actor cannot be reached: the conversation's session update keeps retrying.
    const bobs = requestSubject(partitionOf(userAddress('bob'), PARTITIONS));
    const request = r.bus.request.bind(r.bus);
    r.bus.request = (subject, data, opts) =>
      subject === bobs ? Promise.reject(new ParleyError('UNAVAILABLE', 'unreachable')) : request(subject, data, opts);
    await send(r, 'while bob is unreachable');
    await crash(r);

    const again = await rig(dir);
    await waitFor('bob’s session', async () => (await bobsSession(again))?.unread === 1);
  });

  it('after a crash between the Log append and the local write, a restart replays the event and makes its calls', async () => {
    const dir = newDir();
    const r = await rig(dir);
    await send(r, 'first');
    // The next local write fails as if the process died right after the append was durable.
    const transaction = r.store.transaction.bind(r.store);
    r.store.transaction = () => Promise.reject(new Error('power cut'));
    const crashed = await rejectionOf(send(r, 'acked by the Log only'));
    expect(crashed).toMatchObject({ name: 'UNAVAILABLE' });
    r.store.transaction = transaction;
    await crash(r);

    // Nobody writes to the conversation after the restart: the repair alone brings bob's session up to date.
    const again = await rig(dir);
    await waitFor('bob’s session to show both messages', async () => {
      const s = await bobsSession(again);
      return s?.unread === 2 && s.lastMsg?.text === 'acked by the Log only';
    });
  });

  it('passivates idle actors and reactivates them with their state', async () => {
    const r = await rig(newDir(), { actorIdleMs: 100 });
    await send(r, 'one');
    await waitFor('a user actor to be touched', () => r.host.activeCount >= 2);
    await waitFor('idle actors to leave memory', () => r.host.activeCount === 0, 5000);
    expect((await send(r, 'two')).seq).toBe(2);
    expect((await send(r, 'one')).seq).toBe(1);
  });

  it('refuses commands past the mailbox bound with UNAVAILABLE and loses none it accepted', async () => {
    const r = await rig(newDir(), { mailboxLimit: 4 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => send(r, `m${i}`)));
    const refused = results.filter((x) => x.status === 'rejected');
    const accepted = results.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
    expect(refused.length).toBeGreaterThan(0);
    for (const x of refused) expect((x as PromiseRejectedResult).reason).toMatchObject({ name: 'UNAVAILABLE' });
    expect(accepted.map((m) => m.seq).sort((a, b) => a - b)).toEqual(accepted.map((_, i) => i + 1));
    expect((await history(r)).length).toBe(accepted.length);
  });

  it('answers an unknown actor kind with NOT_FOUND', async () => {
    const r = await rig(newDir());
    const err = await rejectionOf(new ActorClient(r.bus, { partitions: PARTITIONS, timeoutMs: 2000 }).call('planet:mars', 'land', {}, alice));
    expect(err).toMatchObject({ name: 'NOT_FOUND' });
  });
});
