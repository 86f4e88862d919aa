/**
 * Calling an actor over the Bus: the request goes to the subject of the
 * actor's partition, where only the partition's owner listens.
 *
 * One `ActorClient` per caller (an edge, an actor host) applies the one retry
 * rule: an error's `retryable` column (errors.ts) and the method's retry
 * class (registry.ts) decide whether a failed attempt is tried again.
 */
import type { Bus, ReplyWaiter } from '../bus/bus.ts';
import { decode, encode, encodeMapOfRaw, encodeString, encodeUint, encodingOf, rememberEncoding } from '../protocol/codec.ts';
import { ERRORS, ParleyError } from '../protocol/errors.ts';
import type { RetryClass } from '../protocol/registry.ts';
import type { ActorReply, Caller } from '../envelope.ts';
import { partitionOf, requestSubject } from '../subjects.ts';
import { secondsSince } from '../metrics.ts';
import type { Metrics } from '../metrics.ts';

export interface ActorCallOptions {
  /** Partitions in the cluster (the Config's `partitions`). */
  partitions: number;
  /** Reply deadline of a call, ms (of all its attempts, for a held call). */
  timeoutMs: number;
  /** Observes each attempt's Bus round trip, when metrics are on. */
  metrics?: Metrics;
}

export interface HeldCallOptions {
  /** False once the caller no longer wants the answer (its socket closed): stop retrying. */
  isOpen?: () => boolean;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** The client's request id, sent along so the actor's log lines and INTERNAL errors name the request's correlation id. */
  requestId?: number;
}

/** The bytes an encoded `{r: …}` reply starts with: a one-member fixmap and the key `r` (the codec writes fixmaps). */
export const RESULT_PREFIX: readonly number[] = [0x81, 0xa1, 0x72];

/** First pause between attempts of a held call, ms; it doubles up to HOLD_MAX_DELAY_MS. */
const HOLD_FIRST_DELAY_MS = 20;
const HOLD_MAX_DELAY_MS = 250;
/** Shortest attempt of a call that may be repeated after a TIMEOUT, ms. */
const MIN_ATTEMPT_MS = 250;

/**
 * Whether an attempt that failed with `err` may be tried again for a method
 * of class `retry`: when it surely did not run (UNAVAILABLE), always; when it
 * may have run (TIMEOUT), only if repeating it is harmless.
 */
export function mayRetry(err: unknown, retry: RetryClass): boolean {
  if (!(err instanceof ParleyError)) return false;
  const retryable = ERRORS[err.name].retryable;
  return retryable === 'yes' || (retryable === 'ifIdempotent' && retry !== 'never');
}

/**
 * The caller's encoding, made on its first request and kept with the object
 * (a socket hands the same `Caller` to each of its requests, unchanged).
 */
function callerBytes(caller: Caller): Uint8Array {
  let bytes = encodingOf(caller);
  if (bytes === undefined) {
    // Copied out of the packer's shared buffer, which it would hold for as long as the socket lives.
    bytes = new Uint8Array(encode(caller));
    rememberEncoding(caller, bytes);
  }
  return bytes;
}

/**
 * The encoded `ActorRequest` (what `encode({to, m, a, caller?, q?})` makes),
 * assembled from its members' bytes: arguments already encoded
 * (`rememberEncoding`, as an outboxed call's) and the caller's kept encoding
 * are spliced in.
 */
function requestBytes(to: string, m: string, a: unknown, caller: Caller | undefined, requestId: number | undefined): Uint8Array {
  const members: Array<[string, Uint8Array]> = [['to', encodeString(to)], ['m', encodeString(m)]];
  if (a !== undefined) members.push(['a', encodingOf(a) ?? encode(a)]);
  if (caller !== undefined) {
    members.push(['caller', callerBytes(caller)]);
    if (requestId !== undefined) members.push(['q', encodeUint(requestId)]);
  }
  return encodeMapOfRaw(members);
}

/**
 * The bytes of the `r` of an actor's reply (undefined when it has none),
 * sliced out of an encoded `{r}` without decoding it; throws the actor's
 * error as a ParleyError.
 */
function resultOf(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes[0] === RESULT_PREFIX[0] && bytes[1] === RESULT_PREFIX[1] && bytes[2] === RESULT_PREFIX[2]) return bytes.subarray(3);
  const reply = decode(bytes) as ActorReply;
  if (reply.e !== undefined) throw ParleyError.fromWire(reply.e);
  return reply.r === undefined ? undefined : encode(reply.r);
}

export class ActorClient {
  readonly #bus: Bus;
  readonly #opts: ActorCallOptions;

  constructor(bus: Bus, opts: ActorCallOptions) {
    this.#bus = bus;
    this.#opts = opts;
  }

  /**
   * One attempt of `m(a)` at the actor `to`; resolves with the msgpack bytes
   * of its `r` (undefined when it answered without one), so a caller that
   * only forwards the result need not decode it. Rejects with the actor's
   * ParleyError, or UNAVAILABLE / TIMEOUT from the Bus.
   */
  async callRaw(to: string, m: string, a: unknown, caller: Caller | undefined, timeoutMs = this.#opts.timeoutMs, requestId?: number): Promise<Uint8Array | undefined> {
    const metrics = this.#opts.metrics;
    const startedMs = metrics === undefined ? 0 : performance.now();
    const bytes = await this.#bus.request(requestSubject(partitionOf(to, this.#opts.partitions)), requestBytes(to, m, a, caller, requestId), { timeoutMs });
    metrics?.busRequestSeconds.observe(secondsSince(startedMs));
    return resultOf(bytes);
  }

  /** One attempt of `m(a)`, resolving with its decoded `r`; rejects as `callRaw`. */
  async call(to: string, m: string, a: unknown, caller: Caller | undefined, timeoutMs?: number): Promise<unknown> {
    const r = await this.callRaw(to, m, a, caller, timeoutMs);
    return r === undefined ? undefined : decode(r);
  }

  /**
   * `m(a)` held through a partition handover: a failed attempt that
   * `mayRetry` allows is tried again with backoff until the call's
   * `timeoutMs` has passed in all. A method that may be repeated after a
   * TIMEOUT gets a third of the budget per attempt, so a host that froze
   * with the request costs one attempt, not the whole budget.
   */
  holdRaw(to: string, m: string, a: unknown, caller: Caller | undefined, retry: RetryClass, opts: HeldCallOptions = {}): Promise<Uint8Array | undefined> {
    return new Promise((answered, failed) => this.holdTo(to, m, a, caller, retry, opts, { answered, failed }));
  }

  /**
   * `holdRaw` without a promise: `answer` is told once, after this returns,
   * of the result's bytes or the error the call ended with. What an edge
   * uses for each client request, which then costs two records (the call's
   * and the caller's) rather than a chain of promises.
   */
  holdTo(to: string, m: string, a: unknown, caller: Caller | undefined, retry: RetryClass, opts: HeldCallOptions, answer: HeldAnswer): void {
    let request: Uint8Array;
    try {
      request = requestBytes(to, m, a, caller, opts.requestId);
    } catch (err) {
      queueMicrotask(() => answer.failed(err));
      return;
    }
    const subject = requestSubject(partitionOf(to, this.#opts.partitions));
    new HeldCall(this, this.#bus, this.#opts.metrics, subject, request, to, m, retry, opts, opts.timeoutMs ?? this.#opts.timeoutMs, answer).attempt();
  }

  /** The error a held call ends with: a TIMEOUT names the whole budget, not the last attempt's share. */
  finalError(err: unknown, to: string, m: string, budget: number): unknown {
    if (!(err instanceof ParleyError) || err.name !== 'TIMEOUT') return err;
    return new ParleyError('TIMEOUT', `no reply from ${to} to \`${m}\` within ${budget} ms`, { cause: err });
  }

  /** `holdRaw`, resolving with the decoded `r`. */
  async hold(to: string, m: string, a: unknown, caller: Caller | undefined, retry: RetryClass, opts?: HeldCallOptions): Promise<unknown> {
    const r = await this.holdRaw(to, m, a, caller, retry, opts);
    return r === undefined ? undefined : decode(r);
  }
}

/** What a held call tells its caller, once: the bytes of the result's `r` (undefined without one), or the error it ended with. */
export interface HeldAnswer {
  answered(r: Uint8Array | undefined): void;
  failed(err: unknown): void;
}

/**
 * One held call in progress (see `ActorClient.holdRaw`): the waiter of each
 * of its attempts, which all send the same request bytes. No promise,
 * closure or timer of its own but the pause before a retry.
 */
class HeldCall implements ReplyWaiter {
  private readonly client: ActorClient;
  private readonly bus: Bus;
  private readonly metrics: Metrics | undefined;
  private readonly subject: string;
  private readonly request: Uint8Array;
  private readonly to: string;
  private readonly m: string;
  private readonly retry: RetryClass;
  private readonly opts: HeldCallOptions;
  private readonly budget: number;
  private readonly deadline: number;
  private readonly attemptMs: number;
  private readonly answer: HeldAnswer;
  private pause = HOLD_FIRST_DELAY_MS;
  private startedMs = 0;

  constructor(
    client: ActorClient,
    bus: Bus,
    metrics: Metrics | undefined,
    subject: string,
    request: Uint8Array,
    to: string,
    m: string,
    retry: RetryClass,
    opts: HeldCallOptions,
    budget: number,
    answer: HeldAnswer,
  ) {
    this.client = client;
    this.bus = bus;
    this.metrics = metrics;
    this.subject = subject;
    this.request = request;
    this.to = to;
    this.m = m;
    this.retry = retry;
    this.opts = opts;
    this.budget = budget;
    this.deadline = Date.now() + budget;
    this.attemptMs = retry === 'never' ? budget : Math.max(MIN_ATTEMPT_MS, Math.floor(budget / 3));
    this.answer = answer;
  }

  /** Sends the request once more; one the bus cannot send fails as a reply would have. */
  attempt(): void {
    const left = this.deadline - Date.now();
    if (this.metrics !== undefined) this.startedMs = performance.now();
    const refused = this.bus.requestTo(this.subject, this.request, Math.max(1, Math.min(left, this.attemptMs)), this);
    // Told after `holdTo` returns, as the bus tells its waiters.
    if (refused !== undefined) queueMicrotask(() => this.reject(refused));
  }

  resolve(bytes: Uint8Array): void {
    this.metrics?.busRequestSeconds.observe(secondsSince(this.startedMs));
    let r: Uint8Array | undefined;
    try {
      r = resultOf(bytes);
    } catch (err) {
      // The actor's error, tried again as its kind allows; undecodable bytes end the call.
      this.reject(err as Error);
      return;
    }
    this.answer.answered(r);
  }

  /** An attempt failed: tried again after a pause when the rules allow it and the budget has room, else the call ends. */
  reject(err: Error): void {
    if (!mayRetry(err, this.retry) || this.opts.isOpen?.() === false) {
      this.answer.failed(err);
      return;
    }
    const after = this.deadline - Date.now() - this.pause;
    // After a TIMEOUT, another attempt only with a fair share of the budget: one started with a few ms left
    // can only time out too, and its error would name those few ms instead of the call's budget.
    if (after <= 0 || (err instanceof ParleyError && err.name === 'TIMEOUT' && after < Math.min(MIN_ATTEMPT_MS, this.attemptMs))) {
      this.answer.failed(this.client.finalError(err, this.to, this.m, this.budget));
      return;
    }
    const pause = this.pause;
    this.pause = Math.min(this.pause * 2, HOLD_MAX_DELAY_MS);
    setTimeout(() => this.attempt(), pause);
  }
}
