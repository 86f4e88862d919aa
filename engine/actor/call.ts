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
