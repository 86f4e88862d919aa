/**
 * Session updates replaced while they wait: a conversation's touches to a
 * member's user actor go out one at a time per session, and a newer one
 * replaces the one waiting behind the touch on its way. With the member's
 * user actor held (its Log appends wait at a gate), a burst of sends leaves
 * it a handful of commands instead of one per send, yet the session ends
 * exactly as one touch per send would leave it — last message, unread count
 * (messages sent with `isUnreadable: false` left out) — and every outbox row
 * is removed. After a crash with touches waiting, the rows left are made
 * again and the session ends the same. (With deferred writes, the default,
 * touches do not wait in lines: deferred-writes.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Log, LogEntry } from '../../engine/log/log.ts';
import { StateStore } from '../../engine/store.ts';
import { rangeOf } from '../../engine/keys.ts';
import { parseRequest } from '../../engine/protocol/methods.ts';
import type { Caller } from '../../engine/envelope.ts';
import { decode } from '../../engine/protocol/codec.ts';
import type { ActorRequest } from '../../engine/envelope.ts';
import { logSubject, p2pAddress, partitionOf, requestSubject, userAddress } from '../../engine/subjects.ts';
import { tempDir } from '../helpers/engine.ts';
import { crashActorRig, startActorRig, type ActorRig } from '../helpers/actor-rig.ts';
import { waitFor } from '../helpers/wait.ts';

const PARTITIONS = 4;
const BURST = 30;
const alice: Caller = { account: 'alice', deviceId: 'a1', deviceType: 'web', conn: 'e/1' };
const bob: Caller = { account: 'bob', deviceId: 'b1', deviceType: 'web', conn: 'e/2' };
const conv = p2pAddress('alice', 'bob');
const bobsLog = logSubject(userAddress('bob'), partitionOf(userAddress('bob'), PARTITIONS));

/** A Log whose appends to `subject` wait while the gate is closed. */
class GatedAppends implements Log {
  private readonly inner: Log;
  private readonly subject: string;
  private closed = true;
  private readonly waiters: (() => void)[] = [];
  /** Appends to the subject waiting at the gate now. */
  held = 0;

  constructor(inner: Log, subject: string) {
    this.inner = inner;
    this.subject = subject;
  }

  open(): void {
    this.closed = false;
    for (const w of this.waiters.splice(0)) w();
  }

  async append(subject: string, data: Uint8Array, expectedLastSeq: number, expectSubject?: string): Promise<number> {
    if (subject === this.subject && this.closed) {
      this.held++;
      await new Promise<void>((done) => this.waiters.push(done));
      this.held--;
    }
    return this.inner.append(subject, data, expectedLastSeq, expectSubject);
  }

  read(subject: string, fromSeq: number, limit?: number): Promise<LogEntry[]> {
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

type Rig = ActorRig;

const dirs: string[] = [];
const rigs: Rig[] = [];

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function rig(dataDir: string, wrap: (log: Log) => Log = (l) => l): Promise<Rig> {
  // Written at once (no deferred writes): each touch's answer waits for its own append, which the gate holds.
  const r = await startActorRig(dataDir, { partitions: PARTITIONS, jointLog: false, wrap, deferWriteMs: 0 });
  rigs.push(r);
  return r;
}

/** Stops a rig as a crash would: nothing is handed over or drained. */
async function crash(r: Rig): Promise<void> {
  rigs.splice(rigs.indexOf(r), 1);
  await crashActorRig(r);
}

function send(r: Rig, k: number, isUnreadable = true): Promise<unknown> {
  const a = parseRequest('sendText', { scene: 'p2p', to: 'bob', text: `m${k}`, idClient: `c${k}`, isUnreadable });
  return r.client.call(conv, 'sendText', a, alice);
}

async function bobsSession(r: Rig): Promise<{ unread: number; lastMsg?: { text: string; seq: number } } | undefined> {
  const page = (await r.client.call(userAddress('bob'), 'getServerSessions', parseRequest('getServerSessions', {}), bob)) as {
    sessionList: { id: string; unread: number; lastMsg?: { text: string; seq: number } }[];
  };
  return page.sessionList.find((s) => s.id === 'p2p-alice');
}

function outboxRows(store: StateStore): number {
  let n = 0;
  for (const _ of store.db('outbox').getKeys(rangeOf('outbox'))) n++;
  return n;
}

/** Sends the burst one at a time (each send its own batch, so its own touch): every third one with `isUnreadable: false`. */
async function burst(r: Rig): Promise<number> {
  let quiet = 0;
  for (let k = 1; k <= BURST; k++) {
    const loud = k % 3 !== 0;
    if (!loud) quiet++;
    await send(r, k, loud);
  }
  return quiet;
}

function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

describe('coalesced session updates', () => {
  it('replace the touches waiting behind a held one, and leave the session as one touch per send would', async () => {
    let gate!: GatedAppends;
    const r = await rig(newDir(), (log) => (gate = new GatedAppends(log, bobsLog)));
    // Every touch request that reaches bob's user actor, seen beside the host's own subscription.
    let touchesToBob = 0;
    r.bus.subscribe(requestSubject(partitionOf(userAddress('bob'), PARTITIONS)), (msg) => {
      const req = decode(msg.data) as ActorRequest;
      if (req.to === userAddress('bob') && req.m === 'touch') touchesToBob++;
    });
    const quiet = await burst(r);
    // The first touch is held in bob's append; the others waited behind it, each replacing the one before.
    await waitFor('the first touch held at the gate', () => gate.held === 1);
    gate.open();
    await waitFor('the newest message in the session', async () => (await bobsSession(r))?.lastMsg?.seq === BURST, 10_000);
    const session = (await bobsSession(r))!;
    expect(session.lastMsg!.text).toBe(`m${BURST}`);
    expect(session.unread).toBe(BURST - quiet);
    // The held touch and the newest went out (and a repeat of the held one, had it timed out): not one per send.
    expect(touchesToBob).toBeGreaterThanOrEqual(2);
    expect(touchesToBob).toBeLessThanOrEqual(3);
    // Every row, of the touches made and of those replaced, goes once answered.
    await waitFor('an empty outbox', () => outboxRows(r.store) === 0, 10_000);
  });

  it('after a crash with touches waiting, makes the rows left again and the session ends the same', async () => {
    const dir = newDir();
    let gate!: GatedAppends;
    const first = await rig(dir, (log) => (gate = new GatedAppends(log, bobsLog)));
    const quiet = await burst(first);
    await waitFor('the first touch held at the gate', () => gate.held === 1);
    expect(outboxRows(first.store)).toBeGreaterThan(0);
    await crash(first);

    const second = await rig(dir);
    await waitFor('the newest message in the session', async () => (await bobsSession(second))?.lastMsg?.seq === BURST, 10_000);
    const session = (await bobsSession(second))!;
    expect(session.lastMsg!.text).toBe(`m${BURST}`);
    expect(session.unread).toBe(BURST - quiet);
    await waitFor('an empty outbox', () => outboxRows(second.store) === 0, 10_000);
  });
});
