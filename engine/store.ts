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
 *
 * Rows a message travels into (`conv-msgs`, `user-sessions`, and the
 * `outbox` of calls carrying it) may be written
 * as the engine's own msgpack bytes (`encodedValue`), the ones its codec made
 * for the Log entry and the frames, rather than encoded a second time by
 * lmdb-js. Those databases read a msgpack map as a plain object, as the
 * codec does; rows lmdb-js encoded itself (records) read as before.
 */
import { asBinary, open } from 'lmdb';
import type { Binary, Database as LmdbDatabase, DatabaseOptions, RootDatabase } from 'lmdb';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { keyOf, type StoreKey } from './keys.ts';
import { secondsSince } from './metrics.ts';
import type { Metrics } from './metrics.ts';

/** A database of the state store: values of any msgpack-able type, keys from `keys.ts`. */
export type Database<V = unknown> = LmdbDatabase<V, StoreKey>;

/** Databases whose values may be the engine's own msgpack bytes: their maps read as plain objects. */
const ENCODED_VALUE_DBS: ReadonlySet<string> = new Set(['conv-msgs', 'user-sessions', 'outbox']);

/**
 * A value for `put` that is already msgpack bytes of the engine's codec
 * (`engine/protocol/codec.ts`), stored as they are. Only for the databases
 * in `ENCODED_VALUE_DBS`: a read returns what the codec's `decode` would.
 */
export function encodedValue(bytes: Uint8Array): Binary {
  return asBinary(bytes);
}

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
      // `mapsAsObjects` reaches the database's msgpackr decoder; lmdb-js's typings leave it out.
      const options: DatabaseOptions & { name: string; mapsAsObjects?: boolean } = { name, compression: false, keyEncoding: 'binary' };
      if (ENCODED_VALUE_DBS.has(name)) options.mapsAsObjects = true;
      db = this.root.openDB<unknown, StoreKey>(options);
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
