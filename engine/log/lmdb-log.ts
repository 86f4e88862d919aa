/**
 * The embedded Log: keys `[subject, seq]`, positions 1, 2, 3, … per subject,
 * values stored as raw bytes. It lives either in an LMDB environment of its
 * own (`new LmdbLog(dir)`), or as the database `log` inside the state
 * store's environment (`LmdbLog.sharing(env, path)`, what an embedded node
 * runs): then `appendWith` commits an entry and the rows it produces in one
 * transaction, with one fsync.
 *
 * Conditional appends. The check of `expectedLastSeq` and the reservation of
 * the next position happen synchronously, before anything is awaited, against
 * an in-memory table of last positions (a subject missing from it is looked
 * up in LMDB, which is a synchronous read). Of two concurrent appends
 * expecting the same position exactly one wins. The table is bounded
 * (`maxCachedSubjects`): the oldest subjects without writes in flight are
 * forgotten first. As a safety net an entry is never replaced: a plain
 * append puts with LMDB's no-overwrite flag, `appendWith` checks the key
 * inside its transaction and rolls the whole of it back (rows included) when
 * the key is taken; either fails with LogConflictError.
 *
 * Durability. lmdb-js batches every write issued in one event turn into one
 * transaction, committed on its writer thread. Its default on Linux and
 * macOS, `overlappingSync: true`, resolves a put's promise when the
 * transaction is committed — visible, but not yet fsynced (the flush is a
 * separate promise, `db.flushed`); we measured every put resolving before its
 * flush. The Log's environment is opened with `overlappingSync: false`
 * instead (by this class, or by the state store it shares): LMDB then
 * commits synchronously (fdatasync of the data pages, then the meta page
 * through its O_DSYNC descriptor) before lmdb-js marks the transaction
 * committed, so an append resolves only once it is on disk and neither a
 * kill -9 nor a power loss right after can lose it. The fsync cost is paid
 * once per batch, not per append.
 *
 * Keys. Entries are `[subject, seq]` and recent-append records
 * `[RECENT, ms, subject]` in lmdb-js's ordered-binary encoding, which writes
 * a string of 64 or more characters as raw UTF-8 (a NUL in it would read as
 * the separator) and turns lone surrogates into U+FFFD. Subjects are
 * therefore restricted to literal NATS subjects in printable ASCII (what
 * engine/subjects.ts makes, identifiers being tokenised there): no byte of
 * one is a NUL or an escape, so a subject's part of a key ends exactly at
 * the separator, no subject's range holds another's entries, and none sorts
 * among the recent records (which start with an escape byte). Any other
 * subject is refused before it reaches LMDB.
 *
 * One instance per directory and process: the in-flight table is what makes
 * the check atomic, so a second instance (or process) writing the same
 * directory would defeat it; opening a directory twice in a process throws.
 */
import { existsSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ABORT, open, type Database, type RootDatabase } from 'lmdb';
import { LogConflictError, type Log, type LogEntry } from './log.ts';
import { ParleyError } from '../protocol/errors.ts';
import { subjectMatches } from '../bus/embedded-bus.ts';

type Key = [subject: string, seq: number];

const MAX_SEQ = Number.MAX_SAFE_INTEGER;
/** Key space of the recent-append records `[RECENT, ms, subject]`; sorts before every subject. */
const RECENT = '\u0000recent';
const EMPTY = new Uint8Array(0);
/** How long recent-append records are kept, ms. */
const RECENT_KEEP_MS = 60 * 60 * 1000;
/**
 * Shortest time between two recent-append records of one subject, ms: the
 * repair scan looks minutes back, so a record per second of writing serves
 * it as one per append would, at a fraction of the writes.
 */
const RECENT_NOTE_EVERY_MS = 1000;
/** Appends between two prunings of old recent-append records. */
const RECENT_PRUNE_EVERY = 4096;
const NO_OVERWRITE = { noOverwrite: true } as const;
/** Name of the Log's database in a shared environment. */
const LOG_DB = 'log';
/** Printable ASCII without space and the wildcards `*` and `>`: a literal NATS subject whose ordered-binary key is its own bytes. */
const LITERAL_SUBJECT = /^[\x21-\x29\x2b-\x3d\x3f-\x7e]+$/;

/** Undefined when `subject` may be a key; else the refusal. */
function badSubject(subject: unknown, name = 'subject'): ParleyError | undefined {
  if (typeof subject === 'string' && LITERAL_SUBJECT.test(subject)) return undefined;
  const shown = typeof subject === 'string' ? JSON.stringify(subject.slice(0, 80)) + (subject.length > 80 ? `… (${subject.length} chars)` : '') : typeof subject;
  return new ParleyError('BAD_REQUEST', `log ${name} ${shown} is not a literal subject of printable ASCII`);
}
/** lmdb-js's asynchronous put takes an options object at run time; its typings only declare the version form. */
type PutWithOptions = (key: Key, value: Uint8Array, options: typeof NO_OVERWRITE) => Promise<boolean>;

/** A subject's last reserved position, and how many of its writes are not committed yet. */
interface Position {
  last: number;
  pending: number;
  /** When the subject's newest recent-append record was queued, ms; 0 when none was since it was cached. */
  notedMs: number;
}

export interface LmdbLogOptions {
  /** Subjects whose last position is kept in memory; older idle ones are read from LMDB again. Default 100000. */
  maxCachedSubjects?: number;
}

/** Directories open in this process (see the class comment). */
const openPaths = new Set<string>();

/** An LMDB environment opened elsewhere (the state store's) that the Log keeps its database in. */
export interface SharedEnvironment {
  readonly env: RootDatabase;
  /** Directory of the environment, which identifies it. */
  readonly path: string;
}

/** Writes that commit in the same transaction as an entry, given the entry's position. */
export type AlongsideEntry = (seq: number) => void;

/**
 * Runs for every append, synchronously while the entry is written: what it
 * writes to the Log's environment commits in the same transaction as the
 * entry (see `LmdbLog.onAppend`).
 */
export type AppendObserver = (subject: string, seq: number) => void;

/** Rows the `alongside` writes of `appendWith` failed to make: the entry was rolled back with them, the Log is intact. */
export class AlongsideWriteError extends Error {
  override readonly name = 'AlongsideWriteError';
}

export class LmdbLog implements Log {
  /** Absolute path of the LMDB environment directory. */
  readonly path: string;
  /** The environment the entries live in: the Log's own, or the one it shares. */
  readonly env: RootDatabase;
  private readonly db: Database<Uint8Array, Key> | RootDatabase<Uint8Array, Key>;
  private readonly ownsEnv: boolean;
  private readonly putNew: PutWithOptions;
  /** Last positions, oldest first; entries with writes pending are never evicted. */
  private readonly positions = new Map<string, Position>();
  private readonly maxCached: number;
  private evictAt: number;
  private closed = false;
  private sincePrune = 0;
  /** Set when a commit failed: from then on appends are refused (positions in memory may be ahead of the disk). */
  private failure: unknown = undefined;
  /** Told of every append (the webhook feed's index); none by default, so appends cost what they did. */
  private observer: AppendObserver | undefined = undefined;

  /**
   * Opens (creating if needed) the Log in directory `dir`, e.g.
   * `<dataDir>/log`, in an environment of its own; or, given a shared
   * environment, in its database `log`. A shared environment must commit
   * synchronously (`overlappingSync: false`): the Log cannot check that.
   */
  constructor(dir: string | SharedEnvironment, options: LmdbLogOptions = {}) {
    this.maxCached = Math.max(1, options.maxCachedSubjects ?? 100_000);
    this.evictAt = this.maxCached;
    const path = resolve(typeof dir === 'string' ? dir : dir.path);
    if (openPaths.has(path)) throw new Error(`LmdbLog: ${path} is already open in this process`);
    if (typeof dir === 'string') {
      // Entries in the root database, as this layout has always kept them.
      const root = open<Uint8Array, Key>({ path, encoding: 'binary', overlappingSync: false });
      this.env = root;
      this.db = root;
      this.ownsEnv = true;
    } else {
      this.env = dir.env;
      this.db = this.env.openDB<Uint8Array, Key>({ name: LOG_DB, encoding: 'binary', compression: false });
      this.ownsEnv = false;
    }
    this.putNew = this.db.put.bind(this.db) as unknown as PutWithOptions;
    openPaths.add(path);
    this.path = path;
  }

  /** The Log kept as the database `log` of `shared` (see the constructor). */
  static sharing(shared: SharedEnvironment, options: LmdbLogOptions = {}): LmdbLog {
    return new LmdbLog(shared, options);
  }

  /**
   * From now on `observer(subject, seq)` runs for every append, in the same
   * turn (a plain append) or transaction (`appendWith`) as the entry's write,
   * so its own writes to this environment commit atomically with the entry.
   * It must not throw for a plain append. One observer; a second replaces it.
   */
  onAppend(observer: AppendObserver | undefined): void {
    this.observer = observer;
  }

  /** True when this Log's entries live in `env`, so that `appendWith` can commit writes to it with an entry. */
  shares(env: RootDatabase): boolean {
    return this.env === env;
  }

  append(subject: string, data: Uint8Array, expectedLastSeq: number, expectSubject: string = subject): Promise<number> {
    const refused = this.refusal(subject, expectedLastSeq, expectSubject);
    if (refused !== undefined) return Promise.reject(refused);
    const seq = this.nextSeq(subject);
    let written: Promise<boolean>;
    try {
      written = this.putNew([subject, seq], data, NO_OVERWRITE);
      this.noteRecent(subject);
      this.observer?.(subject, seq);
    } catch (err) {
      // Thrown before anything was queued: an unusable key or value.
      return Promise.reject(new ParleyError('BAD_REQUEST', `cannot append to log subject ${subject}`, { cause: err }));
    }
    return this.settled(written, subject, this.reserve(subject, seq), seq, expectSubject, expectedLastSeq);
  }

  /**
   * As `append`, and `alongside(seq)` runs inside the transaction that
   * writes the entry, so whatever it writes to the environment commits with
   * the entry, atomically and under the same fsync (or not at all: when it
   * throws, the entry is rolled back too and the promise rejects with
   * AlongsideWriteError). Only for writes to this Log's environment
   * (`shares`); anything else it does is not part of the transaction.
   */
  appendWith(subject: string, data: Uint8Array, expectedLastSeq: number, expectSubject: string, alongside: AlongsideEntry): Promise<number> {
    const refused = this.refusal(subject, expectedLastSeq, expectSubject);
    if (refused !== undefined) return Promise.reject(refused);
    const seq = this.nextSeq(subject);
    const key: Key = [subject, seq];
    let rowsFailed: unknown;
    const written = this.env
      .childTransaction(() => {
        if (this.db.doesExist(key)) return ABORT;
        void this.db.put(key, data);
        this.noteRecent(subject);
        this.observer?.(subject, seq);
        try {
          alongside(seq);
        } catch (err) {
          rowsFailed = err;
          throw err;
        }
        return undefined;
      })
      .then(
        (result) => result !== ABORT,
        (err: unknown) => {
          if (rowsFailed === undefined) throw err;
          return rowsFailed;
        },
      );
    const pos = this.reserve(subject, seq);
    return written.then(
      (outcome) => {
        if (typeof outcome === 'boolean') return this.settled(Promise.resolve(outcome), subject, pos, seq, expectSubject, expectedLastSeq);
        this.settle(subject, pos, true);
        throw new AlongsideWriteError(`rows written with log subject ${subject} failed; the entry was not appended`, { cause: outcome });
      },
      (err: unknown) => this.settled(Promise.reject(err), subject, pos, seq, expectSubject, expectedLastSeq),
    );
  }

  /** Why an append must be refused at once (closed, failed, bad subject, another last position), or undefined. */
  private refusal(subject: string, expectedLastSeq: number, expectSubject: string): Error | undefined {
    if (this.closed) return new ParleyError('UNAVAILABLE', 'the log is closed');
    if (this.failure !== undefined) {
      return new ParleyError('UNAVAILABLE', `the log at ${this.path} failed a write and refuses appends until reopened`, {
        cause: this.failure,
      });
    }
    const refused = badSubject(subject) ?? (expectSubject === subject ? undefined : badSubject(expectSubject, 'fence subject'));
    if (refused !== undefined) return refused;
    // Checked synchronously, and reserved by the caller before it awaits: no other append can run in between.
    if (this.lastOf(expectSubject) !== expectedLastSeq) return new LogConflictError(expectSubject, expectedLastSeq);
    return undefined;
  }

  private nextSeq(subject: string): number {
    return this.lastOf(subject) + 1;
  }

  /** Records `seq` as the subject's last position, with one more write in flight. */
  private reserve(subject: string, seq: number): Position {
    let pos = this.positions.get(subject);
    if (pos === undefined) {
      pos = { last: seq, pending: 1, notedMs: 0 };
      this.positions.set(subject, pos);
      if (this.positions.size > this.evictAt) this.evict();
    } else {
      pos.last = seq;
      pos.pending++;
    }
    return pos;
  }

  /** The append's outcome once `written` (true: stored; false: the key was taken) settles. */
  private settled(written: Promise<boolean>, subject: string, pos: Position, seq: number, expectSubject: string, expectedLastSeq: number): Promise<number> {
    return written.then(
      (stored) => {
        this.settle(subject, pos, !stored);
        if (!stored) throw new LogConflictError(expectSubject, expectedLastSeq);
        return seq;
      },
      (err: unknown) => {
        this.settle(subject, pos, true);
        this.failure ??= err;
        throw new ParleyError('UNAVAILABLE', `append to log subject ${subject} failed`, { cause: err });
      },
    );
  }

  read(subject: string, fromSeq: number, limit = 1000): Promise<LogEntry[]> {
    if (this.closed) return Promise.reject(new ParleyError('UNAVAILABLE', 'the log is closed'));
    const refused = badSubject(subject);
    if (refused !== undefined) return Promise.reject(refused);
    if (limit <= 0) return Promise.resolve([]);
    const entries: LogEntry[] = [];
    // Binary values come back as fresh Buffers, never views of the map.
    for (const { key, value } of this.db.getRange({ start: [subject, Math.max(fromSeq, 1)], end: [subject, MAX_SEQ], limit })) {
      entries.push({ seq: key[1], data: value });
    }
    return Promise.resolve(entries);
  }

  recentSubjects(filter: string, windowMs: number, limit: number): Promise<string[]> {
    if (this.closed) return Promise.reject(new ParleyError('UNAVAILABLE', 'the log is closed'));
    const pattern = filter.split('.');
    const matches = (subject: string) => subjectMatches(pattern, subject.split('.'));
    // Newest first: the first match gives the time the window ends at.
    const found = new Set<string>();
    let newest: number | undefined;
    const start = [RECENT, MAX_SEQ] as unknown as Key;
    const end = [RECENT, 0] as unknown as Key;
    for (const key of this.db.getKeys({ start, end, reverse: true })) {
      const [, ms, subject] = key as unknown as [string, number, string];
      if (!matches(subject)) continue;
      newest ??= ms;
      if (ms < newest - windowMs) break;
      found.add(subject);
      if (found.size >= limit) break;
    }
    return Promise.resolve([...found]);
  }

  /**
   * Records that `subject` was written now, in the same transaction as the
   * entry, for recentSubjects(), at most once per RECENT_NOTE_EVERY_MS;
   * records older than RECENT_KEEP_MS are removed now and then.
   */
  private noteRecent(subject: string): void {
    const now = Date.now();
    // A failed append forgets its subject's position, so the next one writes a record again.
    const pos = this.positions.get(subject);
    if (pos !== undefined) {
      if (now - pos.notedMs < RECENT_NOTE_EVERY_MS) return;
      pos.notedMs = now;
    }
    void this.db.put([RECENT, now, subject] as unknown as Key, EMPTY);
    if (++this.sincePrune < RECENT_PRUNE_EVERY) return;
    this.sincePrune = 0;
    const end = [RECENT, now - RECENT_KEEP_MS] as unknown as Key;
    for (const key of this.db.getKeys({ start: [RECENT, 0] as unknown as Key, end, limit: RECENT_PRUNE_EVERY * 2 })) void this.db.remove(key);
  }

  /** The last reserved position: it includes appends not yet durable, so that it is the position the next append must name. */
  lastSeq(subject: string): Promise<number> {
    if (this.closed) return Promise.reject(new ParleyError('UNAVAILABLE', 'the log is closed'));
    const refused = badSubject(subject);
    if (refused !== undefined) return Promise.reject(refused);
    return Promise.resolve(this.lastOf(subject));
  }

  /** Waits for the writes in flight, then closes the environment (a shared one is left to its owner). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.ownsEnv) await this.env.close();
      else await this.env.committed;
    } finally {
      openPaths.delete(this.path);
    }
  }

  /** Writes `entries` (keys and values as read from another Log's environment) as they are, in one transaction. */
  importRaw(entries: { key: unknown; value: Uint8Array }[]): Promise<void> {
    return this.env.transaction(() => {
      for (const { key, value } of entries) void this.db.put(key as Key, value);
    });
  }

  /** Last position of `subject`, counting appends still in flight. */
  private lastOf(subject: string): number {
    const pos = this.positions.get(subject);
    return pos !== undefined ? pos.last : this.lastOnDisk(subject);
  }

  private lastOnDisk(subject: string): number {
    for (const key of this.db.getKeys({ start: [subject, MAX_SEQ], end: [subject, 0], reverse: true, limit: 1 })) {
      return key[1];
    }
    return 0;
  }

  /** One write of `pos` finished; `forget` (after a refused or failed write) makes the next append read the disk. */
  private settle(subject: string, pos: Position, forget: boolean): void {
    pos.pending--;
    if (forget && this.positions.get(subject) === pos) this.positions.delete(subject);
  }

  /** Forgets the oldest idle subjects down to 90% of the bound; amortised by moving the next trigger up. */
  private evict(): void {
    const target = Math.floor(this.maxCached * 0.9);
    for (const [subject, pos] of this.positions) {
      if (this.positions.size <= target) break;
      if (pos.pending === 0) this.positions.delete(subject);
    }
    this.evictAt = Math.max(this.maxCached, this.positions.size + Math.ceil(this.maxCached / 10));
  }
}

/** Records copied per transaction when a separate Log is adopted. */
const ADOPT_CHUNK = 1000;

/**
 * Moves a Log kept in an environment of its own (`legacyDir`: where earlier
 * versions of the embedded engine kept it, `<dataDir>/log`) into `into`, a
 * Log in a shared environment, before anything appends to it. Every record
 * is copied as it is — same keys, so the same positions, which the actors'
 * snapshots name — and committed durably; only then is the old directory
 * renamed to `<legacyDir>.imported` (kept, not deleted). A crash before the
 * rename copies everything again at the next start, each record over
 * itself. Resolves with what was copied and where the old directory went,
 * undefined when there was nothing to adopt.
 */
export async function adoptSeparateLog(legacyDir: string, into: LmdbLog): Promise<{ records: number; keptAt: string } | undefined> {
  if (!existsSync(join(legacyDir, 'data.mdb'))) return undefined;
  const legacy = open<Uint8Array, Key>({ path: legacyDir, encoding: 'binary', readOnly: true });
  let copied = 0;
  try {
    let chunk: { key: unknown; value: Uint8Array }[] = [];
    for (const { key, value } of legacy.getRange({})) {
      chunk.push({ key, value });
      if (chunk.length < ADOPT_CHUNK) continue;
      await into.importRaw(chunk);
      copied += chunk.length;
      chunk = [];
    }
    if (chunk.length > 0) {
      await into.importRaw(chunk);
      copied += chunk.length;
    }
  } finally {
    await legacy.close();
  }
  const target = existsSync(`${legacyDir}.imported`) ? `${legacyDir}.imported-${Date.now()}` : `${legacyDir}.imported`;
  renameSync(legacyDir, target);
  return { records: copied, keptAt: target };
}
