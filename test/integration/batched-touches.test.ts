/**
 * Session updates carried together: the touches that many conversations
 * make to one member's user actor in one tick reach it as one `touches`
 * call, which it decides as one command — one Log entry and one
 * `updatesessions` frame for all those sessions, not one of each per
 * conversation. The sessions end exactly as one touch each would leave them,
 * and so they are after a crash right after the sends were acknowledged:
 * the Log, or the outbox rows left, bring every session and its unread count
 * back. Embedded engine with the joint Log (the conversations' entries then
 * commit in one transaction and their effects run in one tick).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { StateStore } from '../../engine/store.ts';
import { rangeOf } from '../../engine/keys.ts';
import { parseRequest } from '../../engine/protocol/methods.ts';
import { decode } from '../../engine/protocol/codec.ts';
import type { ActorRequest, Caller, Delivery } from '../../engine/envelope.ts';
import { deliverySubject, logSubject, p2pAddress, partitionOf, requestSubject, userAddress } from '../../engine/subjects.ts';
import { tempDir } from '../helpers/engine.ts';
import { crashActorRig, startActorRig, type ActorRig } from '../helpers/actor-rig.ts';
import { waitFor } from '../helpers/wait.ts';

const PARTITIONS = 4;
/** Conversations with bob, each sending once in the burst. */
const PEERS = 12;
const bob: Caller = { account: 'bob', deviceId: 'b1', deviceType: 'web', conn: 'e/bob' };
const peers = Array.from({ length: PEERS }, (_, i) => `peer${i}`);
const bobsUser = userAddress('bob');
const bobsLog = logSubject(bobsUser, partitionOf(bobsUser, PARTITIONS));

type Rig = ActorRig;

const dirs: string[] = [];
const rigs: Rig[] = [];

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function rig(dataDir: string): Promise<Rig> {
  const r = await startActorRig(dataDir, { partitions: PARTITIONS, jointLog: true });
  rigs.push(r);
  return r;
}

/** Stops a rig as a crash would: nothing is handed over or drained. */
async function crash(r: Rig): Promise<void> {
  rigs.splice(rigs.indexOf(r), 1);
  await crashActorRig(r);
}

function send(r: Rig, peer: string, k: number): Promise<unknown> {
  const caller: Caller = { account: peer, deviceId: `${peer}-d`, deviceType: 'web', conn: `e/${peer}` };
  const a = parseRequest('sendText', { scene: 'p2p', to: 'bob', text: `${peer} m${k}`, idClient: `${peer}-c${k}` });
  return r.client.call(p2pAddress(peer, 'bob'), 'sendText', a, caller);
}

type SessionView = { id: string; unread: number; lastMsg?: { text: string } };

async function bobsSessions(r: Rig): Promise<Map<string, SessionView>> {
  const page = (await r.client.call(bobsUser, 'getServerSessions', parseRequest('getServerSessions', { limit: 100 }), bob)) as { sessionList: SessionView[] };
  return new Map(page.sessionList.map((s) => [s.id, s]));
}

function outboxRows(store: StateStore): number {
  let n = 0;
  for (const _ of store.db('outbox').getKeys(rangeOf('outbox'))) n++;
  return n;
}

/** Whether every peer's session shows its `k`-th message, with `unread` unread. */
async function settled(r: Rig, k: number, unread: number): Promise<boolean> {
  const sessions = await bobsSessions(r);
  return peers.every((p) => sessions.get(`p2p-${p}`)?.lastMsg?.text === `${p} m${k}` && sessions.get(`p2p-${p}`)?.unread === unread);
}

function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

/** Every conversation sends its first message, and bob's sessions show them all (the actors are then active). */
async function warm(r: Rig): Promise<void> {
  for (const p of peers) await send(r, p, 1);
  await waitFor('every session with its first message', () => settled(r, 1, 1), 10_000);
  await waitFor('an empty outbox', () => outboxRows(r.store) === 0, 10_000);
}

describe('batched session updates', () => {
  it("carry one tick's touches from many conversations to a user actor as one command, one Log entry and one frame", async () => {
    const r = await rig(newDir());
    await warm(r);
    // Requests that reach bob's user actor, and frames delivered to bob's devices, seen beside the host's own subscriptions.
    const requests: ActorRequest[] = [];
    r.bus.subscribe(requestSubject(partitionOf(bobsUser, PARTITIONS)), (msg) => {
      const req = decode(msg.data) as ActorRequest;
      if (req.to === bobsUser) requests.push(req);
    });
    const frames: { ev: string; d: unknown }[] = [];
    r.bus.subscribe(deliverySubject('bob'), (msg) => frames.push(decode((decode(msg.data) as Delivery).f) as { ev: string; d: unknown }));
    const entriesBefore = await r.log.lastSeq(bobsLog);

    // One send per conversation in one turn: their entries commit together and their touches go out in one tick.
    await Promise.all(peers.map((p) => send(r, p, 2)));
    await waitFor('every session with its second message', () => settled(r, 2, 2), 10_000);

    const touches = requests.filter((q) => q.m === 'touch' || q.m === 'touches');
    expect(touches.map((q) => q.m)).toEqual(['touches']);
    const carried = (touches[0]!.a as { touches: { sessionId: string }[] }).touches.map((t) => t.sessionId);
    expect(carried.sort()).toEqual(peers.map((p) => `p2p-${p}`).sort());
    expect(await r.log.lastSeq(bobsLog)).toBe(entriesBefore + 1);
    const updates = frames.filter((f) => f.ev === 'updatesessions');
    expect(updates).toHaveLength(1);
    expect((updates[0]!.d as { id: string }[]).map((s) => s.id).sort()).toEqual(peers.map((p) => `p2p-${p}`).sort());
    await waitFor('an empty outbox', () => outboxRows(r.store) === 0, 10_000);
  });

  it('leave every session and unread count exact after a crash right after the sends are acknowledged', async () => {
    const dir = newDir();
    const first = await rig(dir);
    await warm(first);
    await Promise.all(peers.map((p) => send(first, p, 2)));
    // The touches may or may not have reached bob's user actor yet: either way the restart ends the same.
    await crash(first);

    const second = await rig(dir);
    await waitFor('every session with its second message after the restart', () => settled(second, 2, 2), 10_000);
    await waitFor('an empty outbox', () => outboxRows(second.store) === 0, 10_000);
  });
});
