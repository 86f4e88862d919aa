/**
 * The LMDB environment holding actors' materialised, query-shaped state.
 * It is not the source of truth (the Log is): commits are awaited for
 * visibility, while flushing to disk overlaps later transactions
 * (lmdb-js `overlappingSync`, crash-safe). After a crash an actor replays
 * from the Log whatever its snapshot is missing.
 */
import { open } from 'lmdb';
import type { Database, RootDatabase } from 'lmdb';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type { Database };

export class StateStore {
  readonly root: RootDatabase;
  /** Per-actor snapshot: `address → {logSeq, state}`. */
  readonly snapshots: Database;
  private readonly dbs = new Map<string, Database>();

  constructor(dataDir: string) {
    const path = join(dataDir, 'state');
    mkdirSync(path, { recursive: true });
    this.root = open({ path, maxDbs: 64, compression: false });
    this.snapshots = this.db('snapshots');
  }

  /** A named database in the environment, opened once. */
  db(name: string): Database {
    let db = this.dbs.get(name);
    if (db === undefined) {
      db = this.root.openDB({ name, compression: false });
      this.dbs.set(name, db);
    }
    return db;
  }

  /** Runs `fn` in one write transaction with everything queued this turn; resolves once committed. */
  transaction<T>(fn: () => T): Promise<T> {
    return this.root.transaction(fn);
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
