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

/**
 * Sends `m(a)` to the actor at `to` and resolves with its `r`. Rejects with
 * the actor's ParleyError, or UNAVAILABLE / TIMEOUT from the Bus.
 */
export async function callActor(
  bus: Bus,
  to: string,
  m: string,
  a: unknown,
  caller: Caller | undefined,
  opts: ActorCallOptions,
): Promise<unknown> {
  const request: ActorRequest = caller === undefined ? { to, m, a } : { to, m, a, caller };
  const bytes = await bus.request(requestSubject(partitionOf(to, opts.partitions)), encode(request), {
    timeoutMs: opts.timeoutMs,
  });
  const reply = decode(bytes) as ActorReply;
  if (reply.e !== undefined) throw ParleyError.fromWire(reply.e);
  return reply.r;
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
  opts: ActorCallOptions & { isOpen?: () => boolean; retryTimeouts?: boolean },
): Promise<unknown> {
  const deadline = Date.now() + opts.timeoutMs;
  const attemptMs = opts.retryTimeouts ? Math.max(250, Math.floor(opts.timeoutMs / 3)) : opts.timeoutMs;
  for (let pause = HOLD_FIRST_DELAY_MS; ; pause = Math.min(pause * 2, HOLD_MAX_DELAY_MS)) {
    const left = deadline - Date.now();
    try {
      return await callActor(bus, to, m, a, caller, { partitions: opts.partitions, timeoutMs: Math.max(1, Math.min(left, attemptMs)) });
    } catch (err) {
      const held = err instanceof ParleyError && (err.name === 'UNAVAILABLE' || (err.name === 'TIMEOUT' && opts.retryTimeouts === true));
      if (!held || deadline - Date.now() <= pause || opts.isOpen?.() === false) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
