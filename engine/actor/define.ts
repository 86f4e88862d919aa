/**
 * Declaring an actor kind as tables: one handler per method it owns, one per
 * internal call it receives, and one entry per event type with the event's
 * own `apply` (and row writes where it has them). The tables are typed from
 * the registry, so a declared method without a handler, a handler for
 * nothing declared, a handler replying with the wrong type, or an event type
 * without its `apply`, fails `tsc`. `defineActor` turns the tables into the
 * `ActorBehavior` the host runs, dispatching each command from the table.
 */
import type { Caller } from '../envelope.ts';
import { ParleyError } from '../protocol/errors.ts';
import { registry } from '../protocol/methods.ts';
import type { Args, MethodName, Registry, Results } from '../protocol/methods.ts';
import type { ArgsOf, InternalCall, Owner, ResultOf, RetryClass } from '../protocol/registry.ts';
import type { ActorBehavior, ActorContext, Command, Effect } from './behavior.ts';

/** The methods an actor kind owns, by the `owner` of their declarations. */
export type MethodsOwnedBy<K extends Owner> = { [M in MethodName]: Registry[M]['owner'] extends K ? M : never }[MethodName];

/** What a handler decides: the reply (of the method's result type) and the events to persist before it is sent. */
export interface Outcome<E, R> {
  reply?: R;
  /**
   * The reply already encoded, in place of `reply`: the bytes of a value of
   * type R, which the host sends as they are (a message encoded once needs
   * no object made only to be encoded again).
   */
  encodedReply?: Uint8Array;
  events?: E[];
}

/**
 * Decides one command. Runs one at a time per actor, with the state as the
 * events applied so far left it; may read LMDB rows, no other I/O. Throws a
 * ParleyError to refuse.
 */
export type Handler<S, E, A, R> = (state: S, a: A, caller: Caller | undefined, ctx: ActorContext) => Outcome<E, R>;

export type MethodHandlers<K extends Owner, S, E> = { readonly [M in MethodsOwnedBy<K>]: Handler<S, E, Args<M>, Results[M]> };
export type CallHandlers<C, S, E> = { readonly [N in keyof C]: Handler<S, E, ArgsOf<C[N]>, ResultOf<C[N]>> };

/** One event type's part: how it changes the state, and the rows it writes, if any. */
export interface EventHandler<S, V> {
  /** Deterministic, no I/O; changes the state in place or returns a new one. Also runs when the Log is replayed. */
  apply(state: S, event: V, ctx: ActorContext): S | void;
  /** Writes the event's materialised rows, inside the batch's LMDB transaction. */
  persist?(state: S, event: V, ctx: ActorContext): void;
}

export type EventTable<S, E extends { t: string }> = { readonly [T in E['t']]: EventHandler<S, Extract<E, { t: T }>> };

export interface ActorDefinition<K extends Exclude<Owner, 'edge'>, S, E extends { t: string }, C extends Record<string, InternalCall<any, any>>> {
  readonly kind: K;
  /** The internal calls this kind receives (declared beside it, with `internal`). */
  readonly calls: C;
  /** Builds the state from the LMDB snapshot (or afresh); `logSeq` is the Log position it reflects. */
  load(ctx: ActorContext): { state: S; logSeq: number };
  readonly methods: MethodHandlers<K, S, E>;
  readonly callHandlers: CallHandlers<C, S, E>;
  readonly events: EventTable<S, E>;
  /** After every event's own `persist`: what the batch writes once, such as the snapshot at `logSeq`. */
  persistBatch(state: S, events: readonly E[], logSeq: number, ctx: ActorContext): void;
  /** What to do once the batch's events are durable (deliveries, calls to other actors). */
  effects(state: S, events: readonly E[], ctx: ActorContext): Effect[];
}

/** The behaviour the host runs, with the tables it was made from. */
export interface DefinedActor<S, E> extends ActorBehavior<S, E> {
  /** The handler of each method and internal call. */
  readonly handlers: Readonly<Record<string, Handler<S, E, unknown, unknown>>>;
}

export function defineActor<K extends Exclude<Owner, 'edge'>, S, E extends { t: string }, C extends Record<string, InternalCall<any, any>>>(
  def: ActorDefinition<K, S, E, C>,
): DefinedActor<S, E> {
  const handlers = Object.assign(Object.create(null), def.methods, def.callHandlers) as Record<string, Handler<S, E, unknown, unknown>>;
  const events = def.events as unknown as Record<string, EventHandler<S, E>>;
  const reads = new Set<string>();
  for (const m of Object.keys(def.methods)) if ((registry[m as MethodName] as { reads?: boolean }).reads === true) reads.add(m);
  for (const [name, call] of Object.entries(def.calls)) if (call.reads === true) reads.add(name);
  const defers = new Set<string>();
  for (const [name, call] of Object.entries(def.calls)) if (call.defers === true) defers.add(name);
  const eventOf = (event: E): EventHandler<S, E> => {
    const handler = events[event.t];
    if (handler === undefined) throw new ParleyError('INTERNAL', `actor kind ${def.kind} has no event \`${String(event.t)}\``);
    return handler;
  };
  return {
    kind: def.kind,
    reads,
    defers,
    handlers,
    load: (ctx) => def.load(ctx),
    handle(state: S, cmd: Command, ctx: ActorContext) {
      const handler = handlers[cmd.m];
      if (handler === undefined) throw new ParleyError('BAD_REQUEST', `method \`${cmd.m}\` is not served by ${def.kind} actors`);
      return handler(state, cmd.a, cmd.caller, ctx);
    },
    apply(state: S, event: E, ctx: ActorContext): S {
      const next = eventOf(event).apply(state, event, ctx);
      return next === undefined ? state : next;
    },
    persist(state: S, batch: readonly E[], logSeq: number, ctx: ActorContext) {
      for (const event of batch) eventOf(event).persist?.(state, event, ctx);
      def.persistBatch(state, batch, logSeq, ctx);
    },
    effects: (state, batch, ctx) => def.effects(state, batch, ctx),
  };
}

/** The caller of a command that needs one (every wire method does): UNAUTHORIZED when the command came without. */
export function callerOf(caller: Caller | undefined, m: string): Caller {
  if (caller === undefined) throw new ParleyError('UNAUTHORIZED', `${m} needs a logged-in caller`);
  return caller;
}

/** Only calls safe to repeat may be effects: the host carries them at least once. */
type Repeatable = Exclude<RetryClass, 'never'>;

/**
 * A call to another actor as an effect, typed by the receiving kind's
 * declarations: `callEffect(userCalls, 'touch', to, a)`. `supersede` keys
 * calls with absolute arguments that a later one of the same key may replace
 * before it goes out (see `Effect`).
 */
export function callEffect<C extends Record<string, InternalCall<any, any>>, N extends keyof C & string>(
  calls: C & { readonly [K in N]: { retry: Repeatable } },
  name: N,
  to: string,
  a: ArgsOf<C[N]>,
  supersede?: string,
): Effect {
  void calls;
  return supersede === undefined ? { kind: 'call', to, m: name, a } : { kind: 'call', to, m: name, a, supersede };
}
