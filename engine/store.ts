/**
 * The LMDB environment holding actors' materialised, query-shaped state.
 * It is not the source of truth (the Log is): commits are awaited for
 * visibility, while flushing to disk overlaps later transactions
 * (lmdb-js `overlappingSync`, crash-safe). After a crash an actor replays
 * from the Log whatever its snapshot is missing.
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

/** A database of the state store: values of any msgpack-able type, keys from `keys.ts`. */
export type Database<V = unknown> = LmdbDatabase<V, StoreKey>;

export class StateStore {
  readonly root: RootDatabase;
  /** Per-actor snapshot: `snapshot(address) → {logSeq, state}`. */
  readonly snapshots: Database;
  private readonly dbs = new Map<string, Database>();

  constructor(dataDir: string) {
    const path = join(dataDir, 'state');
    mkdirSync(path, { recursive: true });
    this.root = open({ path, maxDbs: 64, compression: false });
    this.snapshots = this.db('snapshots');
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

  /** Runs `fn` in one write transaction with everything queued this turn; resolves once committed. */
  transaction<T>(fn: () => T): Promise<T> {
    return this.root.transaction(fn);
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
