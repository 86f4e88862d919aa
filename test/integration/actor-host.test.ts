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
import { StateStore } from '../../engine/store.ts';
import { ActorHost } from '../../engine/actor/host.ts';
import { StaticOwnership } from '../../engine/actor/ownership.ts';
import { callActor, callActorHeld } from '../../engine/actor/call.ts';
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
  log: LmdbLog;
  store: StateStore;
  host: ActorHost;
  stop(): Promise<void>;
}

const dirs: string[] = [];
const rigs: Rig[] = [];

async function rig(dataDir: string, over: Partial<{ actorIdleMs: number; mailboxLimit: number }> = {}): Promise<Rig> {
  const bus = new EmbeddedBus();
  const log = new LmdbLog(join(dataDir, 'log'));
  const store = new StateStore(dataDir);
  const host = new ActorHost({
    bus,
    log,
    store,
    ownership: new StaticOwnership(PARTITIONS),
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
  const page = (await callActor(r.bus, userAddress('bob'), 'getServerSessions', a, bob, { partitions: PARTITIONS, timeoutMs: 2000 })) as {
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
  return callActor(r.bus, conv, 'sendText', a, alice, { partitions: PARTITIONS, timeoutMs: 5000 }) as Promise<Message>;
}

async function history(r: Rig): Promise<Message[]> {
  const a = parseRequest('getHistoryMsgs', { scene: 'p2p', to: 'bob', asc: true });
  return ((await callActor(r.bus, conv, 'getHistoryMsgs', a, alice, { partitions: PARTITIONS, timeoutMs: 5000 })) as { msgs: Message[] }).msgs;
}

/** An event for `conv` written straight to the Log, as another owner would. */
function foreignEvent(seq: number, time: number): Uint8Array {
  const msg: StoredMessage = {
    scene: 'p2p', from: 'bob', to: 'alice', type: 'text', text: `foreign ${seq}`, idClient: `f${seq}`, idServer: `9${seq}`, seq, time,
    status: 'success', fromDeviceId: 'b1', fromClientType: 'web', needMsgReceipt: false, isHistoryable: true, isRoamingable: true,
    isSyncable: true, isPushable: true, isOfflinable: true, isUnreadable: true,
  };
  return encode([{ t: 'msg', msg }]);
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
    const next = (await callActorHeld(r.bus, conv, 'sendText', a, alice, { partitions: PARTITIONS, timeoutMs: 5000 })) as Message;
    expect(next.seq).toBe(2);
    expect(await r.log.lastSeq(fence)).toBeGreaterThan(before);
    expect((await history(r)).map((m) => m.text)).toEqual(['one', 'two']);
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
    const err = await rejectionOf(callActor(r.bus, 'planet:mars', 'land', {}, alice, { partitions: PARTITIONS, timeoutMs: 2000 }));
    expect(err).toMatchObject({ name: 'NOT_FOUND' });
  });
});
