/**
 * The Log is the durable, ordered source of truth. Each subject (one per
 * actor) is an append-only sequence of entries. Positions (`seq`) grow within
 * a subject but need not be contiguous (JetStream positions are stream-wide).
 * Two implementations share one contract suite: `LmdbLog` (embedded) and
 * `JetStreamLog` (cluster).
 */

export interface LogEntry {
  /** Position of the entry; greater than every earlier entry of its subject. */
  readonly seq: number;
  readonly data: Uint8Array;
  /** The entry's subject, where the implementation reports it (JetStream does). */
  readonly subject?: string;
}

/** The subject's last position was not the expected one: another writer appended, or this one is stale. */
export class LogConflictError extends Error {
  override readonly name = 'LogConflictError';
  readonly subject: string;
  readonly expected: number;
  constructor(subject: string, expected: number, options?: { cause?: unknown }) {
    super(`log subject ${subject} is no longer at position ${expected}`, options);
    this.subject = subject;
    this.expected = expected;
  }
}

export interface Log {
  /**
   * Appends `data` to `subject` if the last position of `expectSubject`
   * (default: `subject` itself) is `expectedLastSeq` (0 = it has no entry).
   * Naming another subject lets one marker subject fence every writer of a
   * partition. Resolves with the new position once the entry is durable;
   * rejects with LogConflictError when the expectation fails, and with a
   * ParleyError `UNAVAILABLE` when the store cannot be reached (then the
   * entry may or may not have been written).
   */
  append(subject: string, data: Uint8Array, expectedLastSeq: number, expectSubject?: string): Promise<number>;
  /** Entries of `subject` with position >= `fromSeq`, oldest first, at most `limit` (default 1000). */
  read(subject: string, fromSeq: number, limit?: number): Promise<LogEntry[]>;
  /** Position of the subject's last entry, 0 when it has none. */
  lastSeq(subject: string): Promise<number>;
  /**
   * Subjects within one partition matching `filter` (NATS wildcards, e.g.
   * `parley.log.5.*.*`) that got an entry within `windowMs` before the newest
   * entry matching `filter`, at most `limit` of them: the subjects a writer
   * touched last, whenever it stopped. Recent history only: an
   * implementation may forget appends older than an hour of activity.
   */
  recentSubjects(filter: string, windowMs: number, limit: number): Promise<string[]>;
  close(): Promise<void>;
}
