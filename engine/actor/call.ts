/**
 * Calling an actor over the Bus: the request goes to the subject of the
 * actor's partition, where only the partition's owner listens.
 */
import type { Bus } from '../bus/bus.ts';
import { decode, encode } from '../protocol/codec.ts';
import { ParleyError } from '../protocol/errors.ts';
import type { ActorReply, ActorRequest, Caller } from '../envelope.ts';
import { partitionOf, requestSubject } from '../subjects.ts';

export interface ActorCallOptions {
  /** Partitions in the cluster (the Config's `partitions`). */
  partitions: number;
  /** Reply deadline, ms. */
  timeoutMs: number;
}

/** The bytes an encoded `{r: …}` reply starts with: a one-member fixmap and the key `r` (the codec writes fixmaps). */
export const RESULT_PREFIX: readonly number[] = [0x81, 0xa1, 0x72];

/**
 * Sends `m(a)` to the actor at `to` and resolves with the msgpack bytes of
 * its `r` (undefined when it answered without one), so a caller that only
 * forwards the result need not decode it. Rejects with the actor's
 * ParleyError, or UNAVAILABLE / TIMEOUT from the Bus.
 */
export async function callActorRaw(
  bus: Bus,
  to: string,
  m: string,
  a: unknown,
  caller: Caller | undefined,
  opts: ActorCallOptions,
): Promise<Uint8Array | undefined> {
  const request: ActorRequest = caller === undefined ? { to, m, a } : { to, m, a, caller };
  const bytes = await bus.request(requestSubject(partitionOf(to, opts.partitions)), encode(request), {
    timeoutMs: opts.timeoutMs,
  });
  if (bytes[0] === RESULT_PREFIX[0] && bytes[1] === RESULT_PREFIX[1] && bytes[2] === RESULT_PREFIX[2]) {
    return bytes.subarray(3);
  }
  const reply = decode(bytes) as ActorReply;
  if (reply.e !== undefined) throw ParleyError.fromWire(reply.e);
  return reply.r === undefined ? undefined : encode(reply.r);
}

/** Sends `m(a)` to the actor at `to` and resolves with its `r`; rejects as `callActorRaw`. */
export async function callActor(
  bus: Bus,
  to: string,
  m: string,
  a: unknown,
  caller: Caller | undefined,
  opts: ActorCallOptions,
): Promise<unknown> {
  const r = await callActorRaw(bus, to, m, a, caller, opts);
  return r === undefined ? undefined : decode(r);
}

/** First pause between attempts of `callActorHeld`, ms; it doubles up to HOLD_MAX_DELAY_MS. */
const HOLD_FIRST_DELAY_MS = 20;
const HOLD_MAX_DELAY_MS = 250;

/**
 * Like `callActor`, but holds the request through a partition handover: an
 * UNAVAILABLE answer (nobody serves the partition right now, or the actor
 * moved before it took the command) is retried with backoff until
 * `timeoutMs` has passed in all. With `retryTimeouts`, each attempt gets a
 * third of the budget and a TIMEOUT is retried too — for commands that are
 * safe to repeat (sends carry an `idClient`), so a host that froze with the
 * request costs one attempt, not the whole budget.
 */
export async function callActorHeld(
  bus: Bus,
  to: string,
  m: string,
  a: unknown,
  caller: Caller | undefined,
  opts: HeldCallOptions,
): Promise<unknown> {
  const r = await callActorHeldRaw(bus, to, m, a, caller, opts);
  return r === undefined ? undefined : decode(r);
}

export interface HeldCallOptions extends ActorCallOptions {
  /** False once the caller no longer wants the answer (its socket closed): stop retrying. */
  isOpen?: () => boolean;
  /** Retry TIMEOUT too, with a third of the budget per attempt (commands safe to repeat only). */
  retryTimeouts?: boolean;
}

/** `callActorHeld` resolving with the msgpack bytes of `r`, as `callActorRaw`. */
export async function callActorHeldRaw(
  bus: Bus,
  to: string,
  m: string,
  a: unknown,
  caller: Caller | undefined,
  opts: HeldCallOptions,
): Promise<Uint8Array | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  const attemptMs = opts.retryTimeouts ? Math.max(250, Math.floor(opts.timeoutMs / 3)) : opts.timeoutMs;
  for (let pause = HOLD_FIRST_DELAY_MS; ; pause = Math.min(pause * 2, HOLD_MAX_DELAY_MS)) {
    const left = deadline - Date.now();
    try {
      return await callActorRaw(bus, to, m, a, caller, { partitions: opts.partitions, timeoutMs: Math.max(1, Math.min(left, attemptMs)) });
    } catch (err) {
      const held = err instanceof ParleyError && (err.name === 'UNAVAILABLE' || (err.name === 'TIMEOUT' && opts.retryTimeouts === true));
      if (!held || deadline - Date.now() <= pause || opts.isOpen?.() === false) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
