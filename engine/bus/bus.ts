/**
 * The Bus carries encoded bytes between edges and actor hosts: request/reply
 * and publish/subscribe on dot-separated subjects with NATS wildcards
 * (`*` one token, `>` the rest). Two implementations share one contract
 * suite: `EmbeddedBus` (in-process) and `NatsBus` (NATS core).
 */
import type { ReplyWaiter } from './pending-requests.ts';

export type { ReplyWaiter };

/** One message received by a subscription. */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Present when the sender expects a reply. */
  readonly reply: string | undefined;
  /** Answers a request; a no-op when there is no reply subject. */
  respond(data: Uint8Array): void;
}

export interface BusSubscription {
  readonly subject: string;
  /** Stops delivery at once; messages already on their way are dropped. */
  unsubscribe(): void;
  /** Stops new deliveries, and resolves once messages already on their way have reached the handler. */
  drain(): Promise<void>;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group only. */
  queue?: string;
}

export interface RequestOptions {
  /** How long to wait for the reply, in milliseconds. */
  timeoutMs: number;
}

export interface Bus {
  /**
   * Sends a request and resolves with the first reply. Rejects with a
   * ParleyError: `UNAVAILABLE` when nobody subscribes to the subject (or the
   * connection is down), `TIMEOUT` when no reply comes within `timeoutMs`.
   */
  request(subject: string, data: Uint8Array, opts: RequestOptions): Promise<Uint8Array>;
  /**
   * `request` without a promise: `waiter` is told of the reply or the
   * failure, once, after this returns. A request that cannot be sent at all
   * (the bus is closed or down, nobody subscribes, a bad subject, too large)
   * is not: the error is returned instead.
   */
  requestTo(subject: string, data: Uint8Array, timeoutMs: number, waiter: ReplyWaiter): Error | undefined;
  /** Fire-and-forget publish; never throws for lack of subscribers. */
  publish(subject: string, data: Uint8Array): void;
  /** Handlers run for each matching message; a throwing handler does not break the subscription. */
  subscribe(subject: string, handler: (msg: BusMessage) => void, opts?: SubscribeOptions): BusSubscription;
  /** Resolves when everything published so far has reached the server (embedded: at once). */
  flush(): Promise<void>;
  /** True while the bus can carry messages. */
  readonly connected: boolean;
  /**
   * Largest message the bus carries, bytes: NATS's `max_payload` as the
   * server announced it (1 MiB unless configured), the configured limit of
   * the embedded bus. A publish or request over it fails with `TOO_LARGE`;
   * whoever builds a reply must keep it under this too.
   */
  readonly maxPayloadBytes: number;
  close(): Promise<void>;
}
