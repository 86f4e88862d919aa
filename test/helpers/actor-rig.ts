/**
 * One actor host on an embedded Bus, real LMDB files and an actor client:
 * what the suites that drive actors without an edge start, stop and crash.
 */
import { join } from 'node:path';
import { EmbeddedBus } from '../../engine/bus/embedded-bus.ts';
import { LmdbLog } from '../../engine/log/lmdb-log.ts';
import type { Log } from '../../engine/log/log.ts';
import { StateStore } from '../../engine/store.ts';
import { ActorHost } from '../../engine/actor/host.ts';
import { StaticOwnership } from '../../engine/actor/ownership.ts';
import { ActorClient } from '../../engine/actor/call.ts';
import { BEHAVIORS } from '../../engine/node.ts';

export interface ActorRig {
  bus: EmbeddedBus;
  log: Log;
  store: StateStore;
  client: ActorClient;
  stop(): Promise<void>;
}

export interface ActorRigOptions {
  partitions: number;
  /** The Log in the state store's environment (one transaction for both), or in its own directory. */
  jointLog: boolean;
  /** Wraps the Log the host writes to. */
  wrap?: (log: Log) => Log;
  /** The host's `deferWriteMs` (its default when absent). */
  deferWriteMs?: number;
  /** The host's `touchLingerMs` (its default when absent). */
  touchLingerMs?: number;
}

export async function startActorRig(dataDir: string, opts: ActorRigOptions): Promise<ActorRig> {
  const bus = new EmbeddedBus();
  const store = new StateStore(dataDir, opts.jointLog ? { syncCommits: true } : undefined);
  const lmdb = opts.jointLog ? LmdbLog.sharing(store.env) : new LmdbLog(join(dataDir, 'log'));
  const log = opts.wrap === undefined ? lmdb : opts.wrap(lmdb);
  const host = new ActorHost({
    bus,
    log,
    store,
    ownership: new StaticOwnership(opts.partitions),
    behaviors: BEHAVIORS,
    nodeId: 'test',
    partitions: opts.partitions,
    mailboxLimit: 1000,
    actorIdleMs: 60_000,
    callTimeoutMs: 2000,
    ...(opts.deferWriteMs === undefined ? {} : { deferWriteMs: opts.deferWriteMs }),
    ...(opts.touchLingerMs === undefined ? {} : { touchLingerMs: opts.touchLingerMs }),
  });
  await host.start();
  return {
    bus,
    log,
    store,
    client: new ActorClient(bus, { partitions: opts.partitions, timeoutMs: 5000 }),
    async stop() {
      await host.stop();
      await log.close();
      await store.close();
      await bus.close();
    },
  };
}

/** Stops a rig as a crash would: nothing is handed over or drained. */
export async function crashActorRig(r: ActorRig): Promise<void> {
  await r.bus.close();
  await r.log.close();
  await r.store.close();
}
