/**
 * The actor host's outbox: a call effect left unanswered by an earlier run
 * (an outbox row under its typed key) is made again when the host starts,
 * and its row is removed once answered. Another kind's rows in the same
 * database are not taken for calls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedBus } from '../../engine/bus/embedded-bus.ts';
import { LmdbLog } from '../../engine/log/lmdb-log.ts';
import { StateStore } from '../../engine/store.ts';
import { ActorHost } from '../../engine/actor/host.ts';
import { StaticOwnership } from '../../engine/actor/ownership.ts';
import { ActorClient } from '../../engine/actor/call.ts';
import { keyOf, rangeOf } from '../../engine/keys.ts';
import { parseRequest } from '../../engine/protocol/methods.ts';
import type { Caller } from '../../engine/envelope.ts';
import type { Effect } from '../../engine/actor/behavior.ts';
import type { TouchArgs } from '../../actors/user/calls.ts';
import { p2pAddress, userAddress } from '../../engine/subjects.ts';
import { BEHAVIORS } from '../../engine/node.ts';
import { tempDir } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';

const PARTITIONS = 4;
const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function touch(account: string, peer: string, text: string): Effect {
  const address = p2pAddress(account, peer);
  const msg = { scene: 'p2p', from: peer, to: account, type: 'text', text, seq: 1, time: 1000, idClient: 'c', idServer: '1', status: 'success' } as TouchArgs['msg'];
  const a: TouchArgs = { sessionId: `p2p-${peer}`, scene: 'p2p', to: peer, address, seq: 1, own: 0, msg };
  return { kind: 'call', to: userAddress(account), m: 'touch', a };
}

describe('actor host outbox', () => {
  it('makes the calls an earlier run left unanswered, then removes their rows', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const store = new StateStore(dir);
    const outbox = store.db('outbox');
    const conv = p2pAddress('alice', 'bob');
    await store.transaction(() => {
      void outbox.put(keyOf('outbox', conv, 'old-node', 1000, 1), touch('bob', 'alice', 'from the outbox'));
      // Same database, another kind: never replayed as a call.
      void outbox.put(keyOf('snapshot', conv), touch('carol', 'alice', 'not a call'));
    });

    const bus = new EmbeddedBus();
    const log = new LmdbLog(join(dir, 'log'));
    const host = new ActorHost({
      bus,
      log,
      store,
      ownership: new StaticOwnership(PARTITIONS),
      behaviors: BEHAVIORS,
      nodeId: 'test',
      partitions: PARTITIONS,
      mailboxLimit: 100,
      actorIdleMs: 60_000,
      callTimeoutMs: 2000,
    });
    stops.push(async () => {
      await host.stop();
      await log.close();
      await store.close();
      await bus.close();
    });
    await host.start();

    const sessionsOf = async (account: string) => {
      const caller: Caller = { account, deviceId: 'd', deviceType: 'web', conn: 'e/1' };
      const page = (await new ActorClient(bus, {
        partitions: PARTITIONS,
        timeoutMs: 2000,
      }).call(userAddress(account), 'getServerSessions', parseRequest('getServerSessions', {}), caller)) as { sessionList: { id: string; unread: number; lastMsg?: { text: string } }[] };
      return page.sessionList;
    };
    await waitFor('the replayed touch', async () => (await sessionsOf('bob')).some((s) => s.id === 'p2p-alice' && s.lastMsg?.text === 'from the outbox'));
    await waitFor('the answered row to go', () => [...outbox.getRange(rangeOf('outbox'))].length === 0);
    expect([...outbox.getRange(rangeOf('snapshot'))]).toHaveLength(1);
    expect(await sessionsOf('carol')).toEqual([]);
  });
});
