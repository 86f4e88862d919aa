/**
 * The LMDB environment holding actors' materialised, query-shaped state.
 * It is not the source of truth (the Log is): after a crash an actor replays
 * from the Log whatever its snapshot is missing.
 *
 * Two ways to commit. Beside a Log elsewhere (JetStream), commits are
 * awaited for visibility while flushing to disk overlaps later transactions
 * (lmdb-js `overlappingSync`, crash-safe). Holding the embedded Log
 * (`syncCommits`, with `LmdbLog.sharing(store)`), every commit is
 * synchronous — fsynced before it resolves — since a Log entry and the rows
 * it produces commit in one transaction.
 *
 * Every database takes binary keys made by `keys.ts` (typed, length-prefixed
 * parts), never lmdb-js's own encoding of strings and arrays, which lets an
 * identifier holding a NUL reach into another owner's rows. State written by
 * an earlier key format is not read: each actor rebuilds its rows from the
 * Log on its first activation.
 */
import { open } from 'lmdb';
import type { Database as LmdbDatabase, RootDatabase } from 'lmdb';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { keyOf, type StoreKey } from './keys.ts';
import { secondsSince } from './metrics.ts';
import type { Metrics } from './metrics.ts';

/** A database of the state store: values of any msgpack-able type, keys from `keys.ts`. */
export type Database<V = unknown> = LmdbDatabase<V, StoreKey>;

export interface StateStoreOptions {
  /** Commit synchronously (fsync before a transaction resolves): required when the embedded Log shares the environment. Default false. */
  syncCommits?: boolean;
  /** Observes each transaction's time to commit. */
  metrics?: Metrics;
}

export class StateStore {
  readonly root: RootDatabase;
  /** Directory of the environment. */
  readonly path: string;
  /** Per-actor snapshot: `snapshot(address) → {logSeq, state}`. */
  readonly snapshots: Database;
  private readonly dbs = new Map<string, Database>();
  private readonly metrics: Metrics | undefined;

  constructor(dataDir: string, options: StateStoreOptions = {}) {
    const path = join(dataDir, 'state');
    mkdirSync(path, { recursive: true });
    this.root = open({ path, maxDbs: 64, compression: false, overlappingSync: options.syncCommits !== true });
    this.path = path;
    this.snapshots = this.db('snapshots');
    this.metrics = options.metrics;
  }

  /** A named database in the environment, opened once. */
  db<V = unknown>(name: string): Database<V> {
    let db = this.dbs.get(name);
    if (db === undefined) {
      db = this.root.openDB<unknown, StoreKey>({ name, compression: false, keyEncoding: 'binary' });
      this.dbs.set(name, db);
    }
    return db as Database<V>;
  }

  /** The snapshot of the actor at `address`, undefined when it has none. */
  snapshot<T>(address: string): T | undefined {
    return this.snapshots.get(keyOf('snapshot', address)) as T | undefined;
  }

  /** Queues the snapshot of the actor at `address` (inside the caller's transaction). */
  putSnapshot(address: string, snapshot: unknown): void {
    void this.snapshots.put(keyOf('snapshot', address), snapshot);
  }

  /** The environment, for a Log to keep its database in (see `LmdbLog.sharing`). */
  get env(): { env: RootDatabase; path: string } {
    return { env: this.root, path: this.path };
  }

  /** Runs `fn` in one write transaction with everything queued this turn; resolves once committed. */
  transaction<T>(fn: () => T): Promise<T> {
    const metrics = this.metrics;
    if (metrics === undefined) return this.root.transaction(fn);
    const startedMs = performance.now();
    return this.root.transaction(fn).then((r) => {
      metrics.lmdbCommitSeconds.observe(secondsSince(startedMs));
      return r;
    });
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
