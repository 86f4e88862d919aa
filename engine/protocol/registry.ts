/**
 * The vocabulary of method and event declarations.
 *
 * A wire method is declared once, in the file of its feature under
 * `methods/`: its arguments (one schema: validation, defaults, limits, the
 * TypeScript type and the JSON Schema), its result type, who answers it (the
 * edge, or an actor kind and how the actor's address follows from the caller
 * and the arguments), how it may be repeated, the errors it may return and a
 * line of documentation. Routing, retries, the actors' handler tables, the
 * SDK's typed methods and the README's method table are all derived from
 * these declarations, so a method cannot be half added: a declared method
 * without a handler, or a handler without a declaration, fails `tsc`.
 *
 * Calls between actors (a conversation touching a member's session, the
 * edge fetching a sync page) are declared the same way, by the kind that
 * receives them (`internal`), without argument validation: only the engine
 * sends them. Browser-safe.
 */
import type { ErrorName } from './errors.ts';
import type { InputOf, ObjectOf, ObjectSchema, Shape } from './schema.ts';

/** Who answers a method: the edge itself, or the actor kind that owns it. */
export type Owner = 'edge' | 'conv' | 'user' | 'presence' | 'channel' | 'team' | 'superTeam' | 'userTeams' | 'pushToken';

/**
 * How a method may be repeated after an attempt whose outcome is unknown (a
 * TIMEOUT: the actor may have done it):
 * - `idClient`: it stores a message and is idempotent on `(from, idClient)`;
 *   the edge gives it an `idClient` when the client sent none, then retries;
 * - `idempotent`: a read, or a write of absolute values (a read pointer
 *   moved to a seq), so doing it twice has the effect of once;
 * - `never`: repeated only when it surely did not run (UNAVAILABLE).
 */
export type RetryClass = 'idClient' | 'idempotent' | 'never';

declare const CARRIES: unique symbol;
/** Carries a type in a declaration; nothing at run time. */
export interface Carries<T> {
  readonly [CARRIES]?: T;
}
/** The result type of a declaration: `result: returns<Message>()`. */
export function returns<T>(): Carries<T> {
  return {};
}
/** The argument type of an internal call: `args: takes<TouchArgs>()`. */
export const takes: <T>() => Carries<T> = returns;

/** What every method declaration says. */
interface MethodBase<S extends Shape, R, P extends keyof S & string> {
  /** One line for the method table and the SDK's documentation. */
  readonly doc: string;
  /** Validation, defaults and limits; the TypeScript type and the JSON Schema of the arguments. */
  readonly args: ObjectSchema<S>;
  readonly result: Carries<R>;
  readonly retry: RetryClass;
  /** Errors it may return besides BAD_REQUEST / TOO_LARGE (bad arguments) and UNAVAILABLE / TIMEOUT / INTERNAL (any call). */
  readonly errors: readonly ErrorName[];
  /** The SDK method takes this one argument itself instead of a map (`resetSessionUnread(sessionId)`). */
  readonly positional?: P;
}

/** A method the edge answers itself. */
export interface EdgeMethod<S extends Shape, R, P extends keyof S & string = never> extends MethodBase<S, R, P> {
  readonly owner: 'edge';
}

/** A method an actor of kind `O` answers. */
export interface ActorMethod<S extends Shape, R, O extends Exclude<Owner, 'edge'>, P extends keyof S & string = never> extends MethodBase<S, R, P> {
  readonly owner: O;
  /** The owning actor's address (`kind:id`) from the caller's account and the validated arguments. */
  readonly address: (account: string, a: ObjectOf<S>) => string;
  /** It reads rows the actor materialises: the actor commits what it holds pending before handling it. */
  readonly reads?: boolean;
}

export type AnyMethod = EdgeMethod<any, any, any> | ActorMethod<any, any, Exclude<Owner, 'edge'>, any>;

/** Declares a method the edge answers itself. */
export function edgeMethod<S extends Shape, R, P extends keyof S & string = never>(d: Omit<EdgeMethod<S, R, P>, 'owner'>): EdgeMethod<S, R, P> {
  return { owner: 'edge', ...d };
}

/** Declares a method an actor answers. */
export function actorMethod<S extends Shape, R, O extends Exclude<Owner, 'edge'>, P extends keyof S & string = never>(
  d: ActorMethod<S, R, O, P>,
): ActorMethod<S, R, O, P> {
  return d;
}

/** A call one part of the engine makes to an actor; declared by the kind that answers it. */
export interface InternalCall<A, R> {
  readonly doc: string;
  readonly args: Carries<A>;
  readonly result: Carries<R>;
  readonly retry: RetryClass;
  readonly reads?: boolean;
  /** Its events may be written with the actor's next Log entry, its answer waiting for that (`ActorBehavior.defers`). */
  readonly defers?: boolean;
}

/** Declares an internal call; its retry class stays a literal type, so only repeatable calls can be effects. */
export function internal<A, R, Y extends RetryClass>(d: InternalCall<A, R> & { readonly retry: Y }): InternalCall<A, R> & { readonly retry: Y } {
  return d;
}

/** An event the edge sends to clients: `{ev, d}` with `d` of type `D`. */
export interface EventDeclaration<D> {
  readonly doc: string;
  readonly payload: Carries<D>;
}

export function event<D>(doc: string): EventDeclaration<D> {
  return { doc, payload: {} };
}

/** Arguments after validation, defaults filled in. */
export type ArgsOf<D> = D extends { args: ObjectSchema<infer S> } ? ObjectOf<S> : D extends { args: Carries<infer A> } ? A : never;
/** Arguments as a caller writes them: members with defaults may be left out. */
export type InputArgsOf<D> = D extends { args: ObjectSchema<infer S> } ? InputOf<S> : never;
export type ResultOf<D> = D extends { result: Carries<infer R> } ? R : never;
/** The member an SDK method takes by itself, or never when it takes the map. */
export type PositionalOf<D> = D extends { positional?: infer P } ? Exclude<P, undefined> : never;
export type PayloadOf<D> = D extends { payload: Carries<infer P> } ? P : never;
