/**
 * Deferred writes of session updates: a conversation's touch is applied to
 * the member's user actor and its `updatesessions` delivered at once, while
 * its events wait to be written with the actor's next Log entry. Until that
 * entry is durable the touch is not answered, so the conversation's outbox
 * keeps it: a crash in the wait loses nothing, a graceful stop writes it, and
 * a command that does not defer carries the waiting events into its own
 * entry, before its own. A session's next touch does not wait for the one
 * before to be written, so the session never trails its messages. Both Log layouts: the joint one (one transaction
 * for the entry and its rows) and the Log in its own directory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { StateStore } from '../../engine/store.ts';
import { rangeOf } from '../../engine/keys.ts';
import { parseRequest } from '../../engine/protocol/methods.ts';
import type { Caller } from '../../engine/envelope.ts';
import { decode } from '../../engine/protocol/codec.ts';
import type { ActorRequest } from '../../engine/envelope.ts';
import { deliverySubject, logSubject, p2pAddress, partitionOf, requestSubject, userAddress } from '../../engine/subjects.ts';
import { tempDir } from '../helpers/engine.ts';
import { crashActorRig, startActorRig, type ActorRig } from '../helpers/actor-rig.ts';
import { waitFor } from '../helpers/wait.ts';

const PARTITIONS = 4;
const bob: Caller = { account: 'bob', deviceId: 'b1', deviceType: 'web', conn: 'e/2' };
const bobsLog = logSubject(userAddress('bob'), partitionOf(userAddress('bob'), PARTITIONS));

const dirs: string[] = [];
const rigs: ActorRig[] = [];

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

function outboxRows(store: StateStore): number {
  let n = 0;
  for (const _ of store.db('outbox').getKeys(rangeOf('outbox'))) n++;
  return n;
}

function send(r: ActorRig, from: string, k: number): Promise<unknown> {
  const caller: Caller = { account: from, deviceId: `${from}1`, deviceType: 'web', conn: `e/${from}` };
  const a = parseRequest('sendText', { scene: 'p2p', to: 'bob', text: `${from}${k}`, idClient: `${from}-c${k}` });
  return r.client.call(p2pAddress(from, 'bob'), 'sendText', a, caller);
}

interface SessionSeen {
  id: string;
  unread: number;
  lastMsg?: { text: string; seq: number };
}

/** The sessions bob's devices are sent in `updatesessions`, newest last. */
function watchBob(r: ActorRig): SessionSeen[] {
  const seen: SessionSeen[] = [];
  r.bus.subscribe(deliverySubject('bob'), (msg) => {
    const frame = decode((decode(msg.data) as { f: Uint8Array }).f) as { ev: string; d: SessionSeen[] };
    if (frame.ev === 'updatesessions') seen.push(...frame.d);
  });
  return seen;
}

/** Sends alice's first message to bob and waits until bob's devices are sent its session. */
async function sendDelivered(r: ActorRig): Promise<void> {
  const seen = watchBob(r);
  await send(r, 'alice', 1);
  await waitFor('the session delivered to bob', () => seen.some((s) => s.id === 'p2p-alice'));
}

async function bobsSession(r: ActorRig, id: string): Promise<SessionSeen | undefined> {
  const page = (await r.client.call(userAddress('bob'), 'getServerSessions', parseRequest('getServerSessions', {}), bob)) as { sessionList: SessionSeen[] };
  return page.sessionList.find((s) => s.id === id);
}

/** The event types of each of bob's Log entries. */
async function bobsEntries(r: ActorRig): Promise<string[][]> {
  const entries = await r.log.read(bobsLog, 1, 100);
  return entries.map((e) => (decode(e.data) as { t: string }[]).map((ev) => ev.t));
}

describe.each([
  { layout: 'joint Log', jointLog: true },
  { layout: 'Log of its own', jointLog: false },
])('deferred session writes ($layout)', ({ jointLog }) => {
  async function rig(dir: string, deferWriteMs?: number, touchLingerMs?: number): Promise<ActorRig> {
    const r = await startActorRig(dir, {
      partitions: PARTITIONS,
      jointLog,
      ...(deferWriteMs === undefined ? {} : { deferWriteMs }),
      ...(touchLingerMs === undefined ? {} : { touchLingerMs }),
    });
    rigs.push(r);
    return r;
  }

  it('delivers a touch at once, writes the touches of the wait in one entry, and answers them once it is durable', async () => {
    const r = await rig(newDir(), 400);
    const seen = watchBob(r);
    await send(r, 'alice', 1);
    await send(r, 'carol', 1);
    await waitFor('both sessions delivered to bob', () => seen.some((s) => s.id === 'p2p-alice') && seen.some((s) => s.id === 'p2p-carol'));
    // Delivered, not written: bob's Log holds nothing yet, and the touches' outbox rows wait for their answers.
    expect(await r.log.lastSeq(bobsLog)).toBe(0);
    expect(outboxRows(r.store)).toBeGreaterThan(0);
    await waitFor('bob\'s entry', async () => (await bobsEntries(r)).length === 1, 5000);
    expect(await bobsEntries(r)).toEqual([['touch', 'touch']]);
    await waitFor('an empty outbox', () => outboxRows(r.store) === 0, 5000);
    expect(await bobsSession(r, 'p2p-alice')).toMatchObject({ unread: 1, lastMsg: { text: 'alice1' } });
    expect(await bobsSession(r, 'p2p-carol')).toMatchObject({ unread: 1, lastMsg: { text: 'carol1' } });
  });

  it('sends the next touch of a session without waiting for the one before to be written', async () => {
    const r = await rig(newDir(), 1000);
    const seen = watchBob(r);
    for (let k = 1; k <= 5; k++) await send(r, 'alice', k);
    // Every update delivered within the wait, none behind another's write: the session trails no message.
    await waitFor('the fifth message in the session delivered', () => seen.some((s) => s.id === 'p2p-alice' && s.lastMsg?.seq === 5), 900);
    expect(await r.log.lastSeq(bobsLog)).toBe(0);
    expect(seen.at(-1)).toMatchObject({ unread: 5, lastMsg: { text: 'alice5' } });
    await waitFor('bob\'s entry', async () => (await bobsEntries(r)).length === 1, 5000);
    const [entry] = await bobsEntries(r);
    expect(new Set(entry)).toEqual(new Set(['touch']));
    await waitFor('an empty outbox', () => outboxRows(r.store) === 0, 5000);
  });

  it('sends only the newest of a session\'s touches that go out together, and removes the outbox rows of all of them', async () => {
    // Touches linger 300 ms before they go out: the five sends' touches to bob leave in one flush.
    const r = await rig(newDir(), 1000, 300);
    const seen = watchBob(r);
    let touchesToBob = 0;
    r.bus.subscribe(requestSubject(partitionOf(userAddress('bob'), PARTITIONS)), (msg) => {
      const req = decode(msg.data) as ActorRequest & { a: { touches?: unknown[] } };
      if (req.to !== userAddress('bob')) return;
      if (req.m === 'touch') touchesToBob++;
      if (req.m === 'touches') touchesToBob += req.a.touches!.length;
    });
    for (let k = 1; k <= 5; k++) await send(r, 'alice', k);
    await waitFor('the fifth message in the session delivered', () => seen.some((s) => s.id === 'p2p-alice' && s.lastMsg?.seq === 5), 5000);
    expect(seen.filter((s) => s.id === 'p2p-alice')).toHaveLength(1);
    expect(seen[0]).toMatchObject({ unread: 5, lastMsg: { text: 'alice5' } });
    expect(touchesToBob).toBe(1);
    await waitFor('an empty outbox', () => outboxRows(r.store) === 0, 5000);
  });

  it('writes the waiting events first in the entry of a command that does not defer, which answers only after it', async () => {
    const r = await rig(newDir(), 1000);
    await sendDelivered(r);
    expect(await r.log.lastSeq(bobsLog)).toBe(0);
    const reset = (await r.client.call(userAddress('bob'), 'resetSessionUnread', parseRequest('resetSessionUnread', { sessionId: 'p2p-alice' }), bob)) as { session: SessionSeen };
    expect(reset.session).toMatchObject({ unread: 0, lastMsg: { text: 'alice1' } });
    // Answered: the touch and the read are durable, in the order they were applied.
    expect(await bobsEntries(r)).toEqual([['touch', 'read']]);
  });

  it('lets a call that reads materialised rows run without writing the waiting events first: one entry for both', async () => {
    const r = await rig(newDir(), 1000);
    await sendDelivered(r);
    const msg = { type: 'custom', scene: 'p2p', from: 'carol', to: 'bob', idServer: 'n1', content: 'kept', sendToOnlineUsersOnly: false, isPushable: false, needPushNick: false, cc: false };
    await r.client.call(userAddress('bob'), 'postSysMsg', { msg }, undefined);
    // Answered once durable, the touch first: one append, not the touch's and then the notification's.
    expect(await bobsEntries(r)).toEqual([['touch', 'sysmsgPost']]);
  });

  it('loses nothing when the host crashes in the wait: the touch, unanswered, is made again from the outbox', async () => {
    const dir = newDir();
    const first = await rig(dir, 1500);
    await sendDelivered(first);
    // Longer than answered calls' outbox rows wait to be removed: an early answer would have taken the row.
    await new Promise((r) => setTimeout(r, 700));
    expect(await first.log.lastSeq(bobsLog)).toBe(0);
    rigs.splice(rigs.indexOf(first), 1);
    await crashActorRig(first);

    const second = await rig(dir, 0);
    await waitFor('the session after the crash', async () => (await bobsSession(second, 'p2p-alice'))?.lastMsg?.text === 'alice1', 10_000);
    expect(await bobsSession(second, 'p2p-alice')).toMatchObject({ unread: 1, lastMsg: { seq: 1 } });
    await waitFor('an empty outbox', () => outboxRows(second.store) === 0, 10_000);
  });

  it('writes the waiting events at a graceful stop and answers their calls before it ends', async () => {
    const dir = newDir();
    const first = await rig(dir, 1000);
    await sendDelivered(first);
    rigs.splice(rigs.indexOf(first), 1);
    await first.stop();

    const second = await rig(dir, 0);
    // Written and answered before the stop ended: no row left to make again.
    expect(outboxRows(second.store)).toBe(0);
    expect(await bobsEntries(second)).toEqual([['touch']]);
    expect(await bobsSession(second, 'p2p-alice')).toMatchObject({ unread: 1, lastMsg: { text: 'alice1' } });
  });
});
