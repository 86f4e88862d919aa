/**
 * The embedded Log: one LMDB environment of its own (e.g. `<dataDir>/log`),
 * keys `[subject, seq]`, positions 1, 2, 3, … per subject, values stored as
 * raw bytes.
 *
 * Conditional appends. The check of `expectedLastSeq` and the reservation of
 * the next position happen synchronously, before anything is awaited, against
 * an in-memory table of last positions (a subject missing from it is looked
 * up in LMDB, which is a synchronous read). Of two concurrent appends
 * expecting the same position exactly one wins. The table is bounded
 * (`maxCachedSubjects`): the oldest subjects without writes in flight are
 * forgotten first. As a safety net every put uses LMDB's no-overwrite flag:
 * an entry is never replaced, and a reservation that finds its key taken
 * fails with LogConflictError.
 *
 * Durability. lmdb-js batches every put issued in one event turn into one
 * transaction, committed on its writer thread. Its default on Linux and
 * macOS, `overlappingSync: true`, resolves a put's promise when the
 * transaction is committed — visible, but not yet fsynced (the flush is a
 * separate promise, `db.flushed`); we measured every put resolving before its
 * flush. This Log opens its environment with `overlappingSync: false`
 * instead: LMDB then commits synchronously (fdatasync of the data pages, then
 * the meta page through its O_DSYNC descriptor) before lmdb-js marks the
 * transaction committed, so an append resolves only once it is on disk and
 * neither a kill -9 nor a power loss right after can lose it. The fsync cost
 * is paid once per batch, not per append. Its own environment keeps this
 * setting away from the actor-state store.
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
import { resolve } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
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
/** Appends between two prunings of old recent-append records. */
const RECENT_PRUNE_EVERY = 4096;
const NO_OVERWRITE = { noOverwrite: true } as const;
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
}

export interface LmdbLogOptions {
  /** Subjects whose last position is kept in memory; older idle ones are read from LMDB again. Default 100000. */
  maxCachedSubjects?: number;
}

/** Directories open in this process (see the class comment). */
const openPaths = new Set<string>();

export class LmdbLog implements Log {
  /** Absolute path of the LMDB environment directory. */
  readonly path: string;
  private readonly db: RootDatabase<Uint8Array, Key>;
  private readonly putNew: PutWithOptions;
  /** Last positions, oldest first; entries with writes pending are never evicted. */
  private readonly positions = new Map<string, Position>();
  private readonly maxCached: number;
  private evictAt: number;
  private closed = false;
  private sincePrune = 0;
  /** Set when a commit failed: from then on appends are refused (positions in memory may be ahead of the disk). */
  private failure: unknown = undefined;

  /** Opens (creating if needed) the Log in directory `dir`, e.g. `<dataDir>/log`. */
  constructor(dir: string, options: LmdbLogOptions = {}) {
    this.maxCached = Math.max(1, options.maxCachedSubjects ?? 100_000);
    this.evictAt = this.maxCached;
    const path = resolve(dir);
    if (openPaths.has(path)) throw new Error(`LmdbLog: ${path} is already open in this process`);
    this.db = open<Uint8Array, Key>({ path, encoding: 'binary', overlappingSync: false });
    this.putNew = this.db.put.bind(this.db) as unknown as PutWithOptions;
    openPaths.add(path);
    this.path = path;
  }

  append(subject: string, data: Uint8Array, expectedLastSeq: number, expectSubject: string = subject): Promise<number> {
    if (this.closed) return Promise.reject(new ParleyError('UNAVAILABLE', 'the log is closed'));
    if (this.failure !== undefined) {
      return Promise.reject(
        new ParleyError('UNAVAILABLE', `the log at ${this.path} failed a write and refuses appends until reopened`, {
          cause: this.failure,
        }),
      );
    }
    const refused = badSubject(subject) ?? (expectSubject === subject ? undefined : badSubject(expectSubject, 'fence subject'));
    if (refused !== undefined) return Promise.reject(refused);
    // Check and reserve synchronously: no other append can run in between.
    let pos = this.positions.get(subject);
    const last = pos !== undefined ? pos.last : this.lastOnDisk(subject);
    const checked = expectSubject === subject ? last : this.lastOf(expectSubject);
    if (checked !== expectedLastSeq) return Promise.reject(new LogConflictError(expectSubject, expectedLastSeq));
    const seq = last + 1;
    let written: Promise<boolean>;
    try {
      written = this.putNew([subject, seq], data, NO_OVERWRITE);
      this.noteRecent(subject);
    } catch (err) {
      // Thrown before anything was queued: an unusable key or value.
      return Promise.reject(new ParleyError('BAD_REQUEST', `cannot append to log subject ${subject}`, { cause: err }));
    }
    if (pos === undefined) {
      pos = { last: seq, pending: 1 };
      this.positions.set(subject, pos);
      if (this.positions.size > this.evictAt) this.evict();
    } else {
      pos.last = seq;
      pos.pending++;
    }
    const reserved = pos;
    return written.then(
      (stored) => {
        this.settle(subject, reserved, !stored);
        if (!stored) throw new LogConflictError(expectSubject, expectedLastSeq);
        return seq;
      },
      (err: unknown) => {
        this.settle(subject, reserved, true);
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
   * entry, for recentSubjects(); records older than RECENT_KEEP_MS are
   * removed now and then.
   */
  private noteRecent(subject: string): void {
    const now = Date.now();
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

  /** Waits for the writes in flight, then closes the environment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.db.close();
    } finally {
      openPaths.delete(this.path);
    }
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
