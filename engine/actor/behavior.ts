/**
 * What an actor kind supplies to the runtime.
 *
 * An actor runs one command to completion before the next. Its state is
 * loaded from the LMDB snapshot before the first command and brought up to
 * date from the Log. Commands produce events; the runtime appends a batch of
 * events to the Log as one entry, and only once that append is durable does
 * it write the materialised state to LMDB, answer the callers and run the
 * effects (deliveries, calls to other actors). Deactivation on a crash is not
 * guaranteed: everything an actor needs after one is in the Log.
 */
import type { Caller } from '../envelope.ts';
import type { StateStore } from '../store.ts';

/** One request taken from the mailbox. */
export interface Command {
  m: string;
  a: unknown;
  caller: Caller | undefined;
}

/** What the runtime gives a behaviour besides the state. */
export interface ActorContext {
  /** Full address, `kind:id`. */
  readonly address: string;
  /** The part after `kind:`. */
  readonly id: string;
  readonly partition: number;
  readonly store: StateStore;
  /** Server time in ms. */
  now(): number;
  /** A fresh server message id. */
  nextIdServer(now: number): string;
  /**
   * Most bytes the encoded `r` of a reply may take to cross the Bus now (its
   * `maxPayloadBytes` less the reply envelope): replies that can grow with
   * the data, such as the login sync's pages, stop before it.
   */
  readonly maxReplyBytes: number;
}

/** Room a paged reply keeps for its own fields (keys, array headers, the `next` cursor), bytes. */
export const PAGE_OVERHEAD_BYTES = 512;

/**
 * Bytes the items of one paged reply (or one delivered frame) may take: what
 * the caller asked for (`maxBytes`, when it gives one and it is smaller),
 * else what the Bus carries, less room for the page's own fields. At least 1,
 * so a page always holds one item.
 */
export function pageBudget(ctx: ActorContext, maxBytes?: number): number {
  const transport = ctx.maxReplyBytes;
  const asked = typeof maxBytes === 'number' && maxBytes > 0 ? Math.min(maxBytes, transport) : transport;
  return Math.max(1, asked - PAGE_OVERHEAD_BYTES);
}

/** The outcome of one command: its reply and the events to persist before replying. */
export interface Decision<E> {
  reply?: unknown;
  /** The reply already encoded (the msgpack bytes of what `reply` stands for): sent as it is, in place of `reply`. */
  encodedReply?: Uint8Array;
  events?: E[];
}

export type Effect =
  /** Send an encoded client frame to every online device of `account`, except the socket `exclude`. */
  | { kind: 'deliver'; account: string; frame: Uint8Array; exclude?: string }
  /** Publish `data` on the Bus subject `subject` as it is (a fan-out subject that edges subscribe to). */
  | { kind: 'publish'; subject: string; data: Uint8Array }
  /**
   * Call another actor; retried until it answers (at-least-once, so the
   * target must be idempotent). With `supersede`, a call to the same `to`
   * with the same key made later replaces this one while it has not gone out:
   * only for calls whose arguments are absolute (the later one's result
   * equals that of both), such as a conversation's newest message.
   */
  | { kind: 'call'; to: string; m: string; a: unknown; supersede?: string };

export interface ActorBehavior<S, E> {
  readonly kind: string;
  /** Methods that read materialised LMDB rows: the runtime commits pending events before handling them. */
  readonly reads: ReadonlySet<string>;
  /**
   * Calls whose events may wait to be written with the actor's next Log
   * entry (within the host's `deferWriteMs`): the state and the effects move
   * at once, the answer waits for the write. Only for calls the caller makes
   * again until answered (outboxed call effects), so a crash before the
   * write loses nothing; and only while their effects are deliveries.
   * Their events may write only rows the actor reads at load, never in a
   * `reads` method: such a method does not wait for them to be written.
   */
  readonly defers?: ReadonlySet<string>;
  /** Builds the state from the LMDB snapshot (or afresh); `logSeq` is the Log position it reflects. */
  load(ctx: ActorContext): { state: S; logSeq: number };
  /** Decides one command. Throws a ParleyError to refuse it. Must not do I/O other than LMDB reads. */
  handle(state: S, cmd: Command, ctx: ActorContext): Decision<E>;
  /** Applies one event to the state (in place or by returning a new one); deterministic, no I/O. */
  apply(state: S, event: E, ctx: ActorContext): S;
  /** Writes the materialised rows of `events` and the snapshot at `logSeq`; runs inside one LMDB transaction. */
  persist(state: S, events: readonly E[], logSeq: number, ctx: ActorContext): void;
  /** What to do once `events` are durable. */
  effects(state: S, events: readonly E[], ctx: ActorContext): Effect[];
}
