/**
 * The cluster Log on JetStream. Subjects are `parley.log.<partition>.…`; the
 * Log is split into `streams` streams `PARLEY_LOG_<i>`, stream i holding the
 * partitions p with p % streams === i, so a NATS cluster spreads them over
 * its servers. Streams use file storage and allow direct gets.
 *
 * Appends are core-NATS publishes to the Log subject with the header
 * `Nats-Expected-Last-Subject-Sequence` and a reply subject `<inbox>.<n>`;
 * one wildcard subscription on `<inbox>.*` settles them all by n. (The
 * JetStream client's `publish()` costs a request object, a timer and a
 * subscription lookup per message and tops out far lower.) Timeouts are
 * checked by one sweeper: every request shares the same deadline length, so
 * the pending map, in insertion order, is also in deadline order.
 *
 * Reads use batch direct gets (`$JS.API.DIRECT.GET.<stream>` with
 * `next_by_subj`), which JetStream answers from its per-subject index however
 * many other subjects the stream holds. With replicas, direct gets may be
 * answered by a follower that has not applied the newest entries yet: a read
 * right after an append can miss it (an append with a stale expectation is
 * still refused, so nothing is lost).
 *
 * Positions are stream sequences: they grow per subject but are not
 * contiguous. Expected position 0 means "no entry on this subject yet"
 * (verified against nats-server 2.12 by the contract suite).
 *
 * Clustered (R3) streams refuse a second conditional append to a subject
 * while the first is still being replicated (err_code 10164): append to one
 * subject one at a time, as an actor does.
 */
import { NatsLink, inboxNumber } from '../bus/nats-link.ts';
import { createInbox, headers } from '@nats-io/transport-node';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { StreamConfig } from '@nats-io/jetstream';
import { LogConflictError, type Log, type LogEntry } from './log.ts';
import { ParleyError } from '../protocol/errors.ts';
import { logger } from '../logger.ts';
import { publishError } from '../bus/nats-bus.ts';

export interface JetStreamLogOptions {
  /** Streams the Log is split into. Default 8 (Config.logStreams). Fixed for the life of a cluster. */
  streams?: number;
  /** Actor partitions, to list each stream's subjects. Default 64 (Config.partitions). */
  partitions?: number;
  /** Replicas of each stream (1 or 3). Default 1 (Config.logReplicas). */
  replicas?: number;
  /**
   * How long an append (or a read) waits for JetStream's answer, ms. Default
   * 5000. An append not acknowledged in time fails with UNAVAILABLE and an
   * unknown outcome.
   */
  ackTimeoutMs?: number;
  /**
   * Bytes JetStream sends per direct-get batch before ending it early; a read
   * then asks for the next batch until it has `limit` entries or the subject
   * ends. Default: the server's `max_pending` (64 MB).
   */
  readBatchBytes?: number;
  /** Name of the writing node, stored with each entry as the `Parley-Node` header (for audits). */
  writer?: string;
  /**
   * Ask the stream leader for last positions instead of any replica (direct
   * gets may be answered by a follower that is behind). Default: when
   * `replicas` > 1.
   */
  leaderLastSeq?: boolean;
}

const EXPECTED_LAST_SUBJECT_SEQ = 'Nats-Expected-Last-Subject-Sequence';
/** Most entries recentSubjects() reads before it stops. */
const RECENT_SCAN_MAX = 200_000;
/** Makes the expectation apply to another subject than the one written (nats-server 2.11+). */
const EXPECTED_LAST_SUBJECT_SEQ_SUBJECT = 'Nats-Expected-Last-Subject-Sequence-Subject';
/** Header naming the node that appended an entry. */
export const WRITER_HEADER = 'Parley-Node';
/** err_code of a failed expected-last-subject-sequence check; 10164 is the clustered "in flight" variant. */
const WRONG_LAST_SEQUENCE = 10071;
const WRONG_LAST_SEQUENCE_IN_FLIGHT = 10164;
const SUBJECT_PREFIX = 'parley.log.';
const TD = new TextDecoder();
const TE = new TextEncoder();

/** Name of the stream holding Log partition `partition`. */
export function logStreamName(partition: number, streams: number): string {
  return `PARLEY_LOG_${partition % streams}`;
}

/** The configuration of Log stream `index`. */
export function logStreamConfig(index: number, streams: number, partitions: number, replicas: number): StreamConfig {
  const subjects: string[] = [];
  for (let p = index; p < partitions; p += streams) subjects.push(`${SUBJECT_PREFIX}${p}.>`);
  return {
    name: `PARLEY_LOG_${index}`,
    subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    allow_direct: true,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msgs_per_subject: -1,
    max_msg_size: -1,
    max_consumers: -1,
  } as StreamConfig;
}

/** A request waiting on the shared inbox. */
interface Waiter {
  /** performance.now() after which it fails. */
  readonly deadline: number;
  /** Handles one reply; returns true when the waiter is finished. */
  onMsg(msg: Msg): boolean;
  fail(err: Error): void;
  /** Why it failed when the deadline passed. */
  expired(): Error;
  /** Why it failed when the connection dropped or the log closed. */
  interrupted(reason: string): Error;
}

class AppendWaiter implements Waiter {
  readonly deadline: number;
  private readonly subject: string;
  private readonly expected: number;
  private readonly resolve: (seq: number) => void;
  private readonly reject: (err: Error) => void;

  constructor(deadline: number, subject: string, expected: number, resolve: (seq: number) => void, reject: (err: Error) => void) {
    this.deadline = deadline;
    this.subject = subject;
    this.expected = expected;
    this.resolve = resolve;
    this.reject = reject;
  }

  onMsg(msg: Msg): boolean {
    if (msg.data.length === 0) {
      const code = msg.headers?.code ?? 0;
      this.reject(
        code === 503
          ? new ParleyError('UNAVAILABLE', `no JetStream stream answers for ${this.subject}; nothing was written`)
          : new ParleyError('UNAVAILABLE', `JetStream answered ${code} ${msg.headers?.description ?? ''} to an append to ${this.subject}`),
      );
      return true;
    }
    const text = TD.decode(msg.data);
    // Fast path for the common answer, `{"stream":"…","seq":N}` (with an optional domain).
    const at = text.indexOf('"seq":');
    if (at !== -1 && text.indexOf('"error"') === -1) {
      const seq = parseInt(text.slice(at + 6), 10);
      if (seq > 0) {
        this.resolve(seq);
        return true;
      }
    }
    let ack: { seq?: number; error?: { code?: number; err_code?: number; description?: string } };
    try {
      ack = JSON.parse(text) as typeof ack;
    } catch (err) {
      this.reject(new ParleyError('UNAVAILABLE', `unreadable acknowledgement for ${this.subject}: outcome unknown`, { cause: err }));
      return true;
    }
    const error = ack.error;
    if (error === undefined && typeof ack.seq === 'number' && ack.seq > 0) this.resolve(ack.seq);
    else if (error?.err_code === WRONG_LAST_SEQUENCE || error?.err_code === WRONG_LAST_SEQUENCE_IN_FLIGHT) {
      this.reject(new LogConflictError(this.subject, this.expected, { cause: new Error(error.description) }));
    } else {
      this.reject(
        new ParleyError(
          'UNAVAILABLE',
          `JetStream refused an append to ${this.subject}: ${error?.description ?? text} (${error?.err_code ?? error?.code ?? '?'})`,
        ),
      );
    }
    return true;
  }

  fail(err: Error): void {
    this.reject(err);
  }

  expired(): Error {
    return new ParleyError(
      'UNAVAILABLE',
      `no acknowledgement for an append to ${this.subject} in time: outcome unknown, drop the state and reload from the Log`,
    );
  }

  interrupted(reason: string): Error {
    return new ParleyError('UNAVAILABLE', `${reason} before an append to ${this.subject} was acknowledged: outcome unknown, reload from the Log`);
  }
}

/** One batch direct get; asks for the next batch when JetStream ends one early. */
class ReadWaiter implements Waiter {
  deadline: number;
  readonly stream: string;
  readonly subject: string;
  readonly entries: LogEntry[] = [];
  private readonly limit: number;
  private readonly resolve: (entries: LogEntry[]) => void;
  private readonly reject: (err: Error) => void;
  /** Set when a batch ended short with entries still pending: the position to continue from. */
  continueFrom = 0;

  constructor(
    deadline: number,
    stream: string,
    subject: string,
    limit: number,
    resolve: (e: LogEntry[]) => void,
    reject: (err: Error) => void,
  ) {
    this.deadline = deadline;
    this.stream = stream;
    this.subject = subject;
    this.limit = limit;
    this.resolve = resolve;
    this.reject = reject;
  }

  /** Entries still wanted. */
  remaining(): number {
    return this.limit - this.entries.length;
  }

  onMsg(msg: Msg): boolean {
    const h = msg.headers;
    const code = h?.code ?? 0;
    if (code === 0 && h !== undefined) {
      this.entries.push({ seq: Number(h.last('Nats-Sequence')), data: msg.data, subject: h.last('Nats-Subject') });
      return false;
    }
    if (code === 204) {
      // End of batch. More may be pending when JetStream capped the batch (by bytes or count).
      const pending = Number(h?.last('Nats-Num-Pending') || '0');
      const last = this.entries[this.entries.length - 1];
      if (pending > 0 && last !== undefined && this.entries.length < this.limit) this.continueFrom = last.seq + 1;
      else this.resolve(this.entries);
      return true;
    }
    if (code === 404) {
      this.resolve(this.entries); // nothing (more) at or after the position
      return true;
    }
    this.reject(
      code === 503
        ? new ParleyError('UNAVAILABLE', `no JetStream stream answers reads of ${this.subject}`)
        : new ParleyError('UNAVAILABLE', `JetStream answered ${code} ${h?.description ?? ''} to a read of ${this.subject}`),
    );
    return true;
  }

  fail(err: Error): void {
    this.reject(err);
  }

  expired(): Error {
    return new ParleyError('UNAVAILABLE', `read of log subject ${this.subject} timed out`);
  }

  interrupted(reason: string): Error {
    return new ParleyError('UNAVAILABLE', `${reason} during a read of log subject ${this.subject}`);
  }
}

class LastSeqWaiter implements Waiter {
  readonly deadline: number;
  private readonly field: 'seq' | 'time';
  private readonly subject: string;
  private readonly resolve: (seq: number) => void;
  private readonly reject: (err: Error) => void;

  /** `field` 'time' resolves with the entry's timestamp (ms) instead of its position. */
  constructor(
    deadline: number,
    subject: string,
    resolve: (seq: number) => void,
    reject: (err: Error) => void,
    field: 'seq' | 'time' = 'seq',
  ) {
    this.deadline = deadline;
    this.subject = subject;
    this.resolve = resolve;
    this.reject = reject;
    this.field = field;
  }

  onMsg(msg: Msg): boolean {
    const h = msg.headers;
    const code = h?.code ?? 0;
    if (code === 0 && h !== undefined && this.field === 'time') {
      this.resolve(Date.parse(h.last('Nats-Time-Stamp')));
      return true;
    }
    if (code === 0 && h === undefined) {
      // The stream leader's answer (STREAM.MSG.GET): JSON with the message or an error.
      try {
        const body = JSON.parse(TD.decode(msg.data)) as { message?: { seq?: number }; error?: { code?: number; description?: string } };
        if (typeof body.message?.seq === 'number') this.resolve(body.message.seq);
        else if (body.error?.code === 404) this.resolve(0);
        else this.reject(new ParleyError('UNAVAILABLE', `JetStream answered ${body.error?.code ?? '?'} ${body.error?.description ?? ''} for the last entry of ${this.subject}`));
      } catch (err) {
        this.reject(new ParleyError('UNAVAILABLE', `unreadable answer for the last entry of ${this.subject}`, { cause: err }));
      }
    } else if (code === 0 && h !== undefined) this.resolve(Number(h.last('Nats-Sequence')));
    else if (code === 404) this.resolve(0);
    else {
      this.reject(
        code === 503
          ? new ParleyError('UNAVAILABLE', `no JetStream stream answers for ${this.subject}`)
          : new ParleyError('UNAVAILABLE', `JetStream answered ${code} ${h?.description ?? ''} for the last entry of ${this.subject}`),
      );
    }
    return true;
  }

  fail(err: Error): void {
    this.reject(err);
  }

  expired(): Error {
    return new ParleyError('UNAVAILABLE', `lookup of the last entry of ${this.subject} timed out`);
  }

  interrupted(reason: string): Error {
    return new ParleyError('UNAVAILABLE', `${reason} during the lookup of the last entry of ${this.subject}`);
  }
}

export class JetStreamLog implements Log {
  private readonly nc: NatsConnection;
  private readonly streams: number;
  private readonly partitions: number;
  private readonly replicas: number;
  private readonly ackTimeoutMs: number;
  private readonly readBatchBytes: number | undefined;
  private readonly writer: string | undefined;
  private readonly leaderLastSeq: boolean;
  /** `_INBOX.<nuid>.`; a request's reply subject is this plus its number. */
  private readonly replyPrefix: string;
  private readonly sub: Subscription;
  private readonly link: NatsLink;
  private readonly pending = new Map<number, Waiter>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private nextId = 0;
  private closed = false;

  /** Uses `nc` without owning it: close() leaves the connection open. Call ensureStreams() once before use. */
  constructor(nc: NatsConnection, options: JetStreamLogOptions = {}) {
    this.nc = nc;
    this.streams = positiveInt('streams', options.streams ?? 8);
    this.partitions = positiveInt('partitions', options.partitions ?? 64);
    this.replicas = positiveInt('replicas', options.replicas ?? 1);
    this.ackTimeoutMs = positiveInt('ackTimeoutMs', options.ackTimeoutMs ?? 5000);
    this.readBatchBytes = options.readBatchBytes === undefined ? undefined : positiveInt('readBatchBytes', options.readBatchBytes);
    this.writer = options.writer;
    this.leaderLastSeq = options.leaderLastSeq ?? this.replicas > 1;
    this.replyPrefix = `${createInbox()}.`;
    this.sub = nc.subscribe(`${this.replyPrefix}*`, { callback: (err, msg) => this.onReply(err, msg) });
    this.link = new NatsLink(nc, (reason) => this.failAll(reason));
    this.sweeper = setInterval(() => this.sweep(), Math.min(250, Math.max(10, Math.floor(this.ackTimeoutMs / 10))));
    this.sweeper.unref();
  }

  /**
   * Creates the Log streams, or updates them to this configuration; safe to
   * call from every process at start-up. Changing `streams` or `partitions`
   * of an existing cluster is refused by JetStream (overlapping subjects).
   */
  async ensureStreams(): Promise<void> {
    try {
      await this.ensureStreamsOnce();
    } catch (err) {
      throw new ParleyError('UNAVAILABLE', `cannot set up the Log streams PARLEY_LOG_*: ${(err as Error).message}`, { cause: err });
    }
  }

  private async ensureStreamsOnce(): Promise<void> {
    const jsm = await jetstreamManager(this.nc, { timeout: this.ackTimeoutMs });
    for (let i = 0; i < this.streams; i++) {
      const wanted = logStreamConfig(i, this.streams, this.partitions, this.replicas);
      let current: StreamConfig | undefined;
      try {
        current = (await jsm.streams.info(wanted.name)).config;
      } catch (err) {
        if ((err as { code?: unknown }).code !== 10059) throw err; // 10059: stream not found
      }
      if (current === undefined) {
        await jsm.streams.add(wanted);
        logger.info('log stream created', { stream: wanted.name, subjects: wanted.subjects.length, replicas: this.replicas });
      } else if (
        current.allow_direct !== true ||
        current.num_replicas !== this.replicas ||
        current.subjects.length !== wanted.subjects.length ||
        current.subjects.some((s, k) => s !== wanted.subjects[k])
      ) {
        await jsm.streams.update(wanted.name, { ...current, ...wanted });
        logger.info('log stream updated', { stream: wanted.name, subjects: wanted.subjects.length, replicas: this.replicas });
      }
    }
  }

  append(subject: string, data: Uint8Array, expectedLastSeq: number, expectSubject: string = subject): Promise<number> {
    const refused = this.refuse(subject, 'nothing was written');
    if (refused !== undefined) return Promise.reject(refused);
    const h = headers();
    h.set(EXPECTED_LAST_SUBJECT_SEQ, String(expectedLastSeq));
    if (expectSubject !== subject) h.set(EXPECTED_LAST_SUBJECT_SEQ_SUBJECT, expectSubject);
    if (this.writer !== undefined) h.set(WRITER_HEADER, this.writer);
    return new Promise<number>((resolve, reject) => {
      const waiter = new AppendWaiter(performance.now() + this.ackTimeoutMs, expectSubject, expectedLastSeq, resolve, reject);
      this.send(subject, data, h, waiter);
    });
  }

  read(subject: string, fromSeq: number, limit = 1000): Promise<LogEntry[]> {
    const refused = this.refuse(subject, 'not read');
    if (refused !== undefined) return Promise.reject(refused);
    if (limit <= 0) return Promise.resolve([]);
    return new Promise<LogEntry[]>((resolve, reject) => {
      const waiter = new ReadWaiter(performance.now() + this.ackTimeoutMs, this.streamOf(subject), subject, limit, resolve, reject);
      this.requestBatch(Math.max(fromSeq, 1), waiter);
    });
  }

  lastSeq(subject: string): Promise<number> {
    const refused = this.refuse(subject, 'not read');
    if (refused !== undefined) return Promise.reject(refused);
    const stream = this.streamOf(subject);
    return new Promise<number>((resolve, reject) => {
      const waiter = new LastSeqWaiter(performance.now() + this.ackTimeoutMs, subject, resolve, reject);
      if (this.leaderLastSeq) {
        this.send(`$JS.API.STREAM.MSG.GET.${stream}`, TE.encode(JSON.stringify({ last_by_subj: subject })), undefined, waiter);
      } else {
        this.send(`$JS.API.DIRECT.GET.${stream}.${subject}`, new Uint8Array(0), undefined, waiter);
      }
    });
  }

  async recentSubjects(filter: string, windowMs: number, limit: number): Promise<string[]> {
    const refused = this.refuse(filter, 'not read');
    if (refused !== undefined) throw refused;
    const stream = this.streamOf(filter);
    const ask = (query: Record<string, unknown>, field: 'seq' | 'time') =>
      new Promise<number>((resolve, reject) => {
        const waiter = new LastSeqWaiter(performance.now() + this.ackTimeoutMs, filter, resolve, reject, field);
        this.send(`$JS.API.DIRECT.GET.${stream}`, TE.encode(JSON.stringify(query)), undefined, waiter);
      });
    // The newest matching entry's time ends the window; then pages of entries from its start.
    const newest = await ask({ last_by_subj: filter }, 'time');
    if (newest === 0) return [];
    let from = await ask({ start_time: new Date(newest - windowMs).toISOString(), next_by_subj: filter }, 'seq');
    const found = new Set<string>();
    for (let scanned = 0; from > 0 && found.size < limit && scanned < RECENT_SCAN_MAX; ) {
      const page = await this.read(filter, from, 1000);
      for (const entry of page) if (entry.subject !== undefined) found.add(entry.subject);
      scanned += page.length;
      if (page.length < 1000) break;
      from = page[page.length - 1]!.seq + 1;
    }
    return [...found].slice(0, limit);
  }

  /** Fails what is in flight and stops listening; the connection stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.link.stop();
    this.failAll('the log was closed');
    if (!this.sub.isClosed()) this.sub.unsubscribe();
  }

  /** Why an operation on `subject` cannot start now, or undefined when it can. */
  private refuse(subject: string, consequence: string): Error | undefined {
    if (this.closed) return new ParleyError('UNAVAILABLE', `the log is closed; ${consequence}`);
    if (!this.link.up) return new ParleyError('UNAVAILABLE', `not connected to NATS; ${consequence}`);
    if (this.partitionOf(subject) < 0) return new ParleyError('BAD_REQUEST', `not a Log subject: '${subject}'`);
    return undefined;
  }

  /** The partition (token 3) of a `parley.log.<p>.…` subject, or -1. */
  private partitionOf(subject: string): number {
    if (!subject.startsWith(SUBJECT_PREFIX)) return -1;
    let p = 0;
    let i = SUBJECT_PREFIX.length;
    for (; i < subject.length; i++) {
      const c = subject.charCodeAt(i);
      if (c === 46 /* . */) break;
      if (c < 48 || c > 57) return -1;
      p = p * 10 + (c - 48);
    }
    if (i === SUBJECT_PREFIX.length || i >= subject.length - 1 || p >= this.partitions) return -1;
    return p;
  }

  private streamOf(subject: string): string {
    return `PARLEY_LOG_${this.partitionOf(subject) % this.streams}`;
  }

  private requestBatch(fromSeq: number, waiter: ReadWaiter): void {
    const query = JSON.stringify(
      this.readBatchBytes === undefined
        ? { seq: fromSeq, next_by_subj: waiter.subject, batch: waiter.remaining() }
        : { seq: fromSeq, next_by_subj: waiter.subject, batch: waiter.remaining(), max_bytes: this.readBatchBytes },
    );
    this.send(`$JS.API.DIRECT.GET.${waiter.stream}`, TE.encode(query), undefined, waiter);
  }

  private send(subject: string, data: Uint8Array, h: ReturnType<typeof headers> | undefined, waiter: Waiter): void {
    const id = ++this.nextId;
    this.pending.set(id, waiter);
    try {
      this.nc.publish(subject, data, h === undefined ? { reply: this.replyPrefix + id } : { reply: this.replyPrefix + id, headers: h });
    } catch (err) {
      this.pending.delete(id);
      waiter.fail(publishError(err, subject, 'Log request'));
    }
  }

  private onReply(err: Error | null, msg: Msg): void {
    if (err !== null) {
      logger.error('log reply subscription failed', { err });
      return;
    }
    const id = inboxNumber(msg.subject, this.replyPrefix.length);
    const waiter = this.pending.get(id);
    if (waiter === undefined) return; // answer to a request that already failed
    let finished: boolean;
    try {
      finished = waiter.onMsg(msg);
    } catch (parseErr) {
      this.pending.delete(id);
      waiter.fail(new ParleyError('UNAVAILABLE', 'unreadable answer from JetStream', { cause: parseErr }));
      return;
    }
    if (!finished) return;
    this.pending.delete(id);
    if (waiter instanceof ReadWaiter && waiter.continueFrom > 0) {
      const from = waiter.continueFrom;
      waiter.continueFrom = 0;
      waiter.deadline = performance.now() + this.ackTimeoutMs;
      this.requestBatch(from, waiter);
    }
  }

  /** Fails requests past their deadline; insertion order is deadline order, so it stops at the first live one. */
  private sweep(): void {
    if (this.pending.size === 0) return;
    const now = performance.now();
    for (const [id, waiter] of this.pending) {
      if (waiter.deadline > now) break;
      this.pending.delete(id);
      waiter.fail(waiter.expired());
    }
  }

  private failAll(reason: string): void {
    if (this.pending.size === 0) return;
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.fail(waiter.interrupted(reason));
  }

}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`JetStreamLog: ${name} must be a positive integer, got ${value}`);
  return value;
}

