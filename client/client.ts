/**
 * `ParleyClient`: the typed face of the SDK. Method names and arguments are
 * the reference SDK's; each returns a promise of what the reference hands its
 * `done` callback. The work happens in `Connection` (connection.ts).
 */
import { ParleyError } from '../engine/protocol/errors.ts';
import { registry } from '../engine/protocol/methods.ts';
import type { ArgsInput, Events, MethodName, Registry, Results } from '../engine/protocol/methods.ts';
import type { AnyMethod, PositionalOf } from '../engine/protocol/registry.ts';
import { Connection } from './connection.ts';
import type { ClientState } from './connection.ts';
import type { ClientEventName, ClientEvents, Listener } from './events.ts';
import { parseOptions } from './options.ts';
import type { ConnectOptions, Cursors } from './options.ts';

/** Methods the typed `request` knows; `login` is the SDK's own business. */
export type KnownMethod = Exclude<MethodName & keyof Results, 'login'>;

/** Arguments of a method as the caller passes them: fields with a server-side default may be left out. */
export type Input<M extends MethodName> = ArgsInput<M>;

/** The arguments parameter of `request(m, …)`: optional when every field is. */
export type ArgsParam<M extends KnownMethod> = {} extends Input<M> ? [a?: Input<M>] : [a: Input<M>];

/** A method name the SDK has no type for yet (`createTeam`, …). */
export type OtherMethod<N extends string> = N extends KnownMethod ? never : N;

/** A server event name the SDK has no type for yet (`PinMsgChange`, …). */
export type OtherEvent<E extends string> = E extends ClientEventName ? never : E;

export class ParleyClient {
  readonly #conn: Connection;
  readonly #requestTimeoutMs: number;

  /** Validates `options` (throws BAD_REQUEST naming the bad field); does not connect: call `connect()`. */
  constructor(options: ConnectOptions) {
    const parsed = parseOptions(options);
    this.#conn = new Connection(parsed);
    this.#requestTimeoutMs = parsed.requestTimeoutMs;
  }

  /** Where the client is in its life; see `ClientState`. */
  get state(): ClientState {
    return this.#conn.clientState;
  }

  /** The logged-in account (from the latest login reply); undefined before the first login. */
  get account(): string | undefined {
    return this.#conn.session?.account;
  }

  /** This device's id as the server knows it (from the latest login reply). */
  get deviceId(): string | undefined {
    return this.#conn.session?.deviceId;
  }

  /** The edge address of the current (or last) socket. */
  get url(): string | undefined {
    return this.#conn.url;
  }

  /**
   * Resolves with the payload of the first `syncdone` after the latest login
   * (a new promise after each completed sync); rejects when the client is
   * disconnected first.
   */
  get synced(): Promise<Events['syncdone']> {
    return this.#conn.synced;
  }

  /** `synced`, bounded: rejects with TIMEOUT after `timeoutMs` (default `requestTimeoutMs`). */
  waitForSync(timeoutMs: number = this.#requestTimeoutMs): Promise<Events['syncdone']> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ParleyError('TIMEOUT', `no syncdone within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.#conn.synced, timeout]).finally(() => clearTimeout(timer));
  }

  /** The sync position so far (copy): persist it and pass it back as the `cursors` option to resume. */
  get cursors(): Required<Pick<Cursors, 'sessions' | 'seqs'>> & Cursors {
    return this.#conn.sync.snapshot();
  }

  /**
   * Opens the connection and logs in; resolves after the login reply (not
   * waiting for `syncdone`). Also re-opens after `disconnect()`. Rejects with
   * the login error (UNAUTHORIZED: no retry) or, after `connectAttempts`
   * failed attempts, with the last failure.
   */
  async connect(): Promise<this> {
    await this.#conn.connect();
    return this;
  }

  /** Closes the connection without reconnecting; pending requests reject with UNAVAILABLE. Resolves once the socket is closed. */
  disconnect(): Promise<void> {
    return this.#conn.disconnect();
  }

  /** `disconnect()` for good: afterwards every call rejects and listeners are removed. */
  destroy(): Promise<void> {
    return this.#conn.destroy();
  }

  /** Listens to an event: a server event of `Events`, a lifecycle event, or any other server event by name. */
  on<K extends ClientEventName>(event: K, fn: Listener<ClientEvents[K]>): this;
  on<E extends string, T = unknown>(event: OtherEvent<E>, fn: Listener<T>): this;
  on(event: string, fn: Listener<never>): this {
    this.#conn.emitter.on(event, fn);
    return this;
  }

  /** `on`, for the next occurrence only. */
  once<K extends ClientEventName>(event: K, fn: Listener<ClientEvents[K]>): this;
  once<E extends string, T = unknown>(event: OtherEvent<E>, fn: Listener<T>): this;
  once(event: string, fn: Listener<never>): this {
    this.#conn.emitter.on(event, fn, true);
    return this;
  }

  /** Removes a listener, or every listener of `event` when `fn` is omitted. */
  off<K extends ClientEventName>(event: K, fn?: Listener<ClientEvents[K]>): this;
  off<E extends string, T = unknown>(event: OtherEvent<E>, fn?: Listener<T>): this;
  off(event: string, fn?: Listener<never>): this {
    this.#conn.emitter.off(event, fn);
    return this;
  }

  /**
   * Sends any method (`m`, `a` as on the wire) and resolves with its `r`.
   * Typed for the methods of methods.ts; other names are sent as given, for
   * methods the SDK has no wrapper for yet.
   */
  request<M extends KnownMethod>(m: M, ...a: ArgsParam<M>): Promise<Results[M]>;
  request<T = unknown, N extends string = string>(m: OtherMethod<N>, a?: Record<string, unknown>): Promise<T>;
  request(m: string, a?: Record<string, unknown>): Promise<unknown> {
    return this.#conn.request(m, a);
  }

  /** Same as `request`. */
  call<M extends KnownMethod>(m: M, ...a: ArgsParam<M>): Promise<Results[M]>;
  call<T = unknown, N extends string = string>(m: OtherMethod<N>, a?: Record<string, unknown>): Promise<T>;
  call(m: string, a?: Record<string, unknown>): Promise<unknown> {
    return this.#conn.request(m, a);
  }

  /**
   * Sends a text message; resolves with the stored message. `idClient` is
   * generated when absent; on failure the `SendError` carries it for a
   * retry with `resend: true`.
   */
}

/**
 * The SDK method of a declared method: it takes the map of arguments, or,
 * for a method declared with `positional`, that one argument by itself.
 */
export type SdkMethod<M extends KnownMethod> = [PositionalOf<Registry[M]>] extends [never]
  ? (...a: ArgsParam<M>) => Promise<Results[M]>
  : (value: Input<M>[PositionalOf<Registry[M]> & keyof Input<M>]) => Promise<Results[M]>;

/** One typed method per declared wire method (engine/protocol/methods/), `login` aside: `connect()` does it. */
export type SdkMethods = { readonly [M in KnownMethod]: SdkMethod<M> };

// The class gets its typed methods from the declarations: the interface gives their types, the loop their bodies.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface ParleyClient extends SdkMethods {}

for (const m of Object.keys(registry) as MethodName[]) {
  if (m === 'login') continue;
  const positional = (registry[m] as AnyMethod).positional;
  Object.defineProperty(ParleyClient.prototype, m, {
    value: positional === undefined
      ? function (this: ParleyClient, a?: Record<string, unknown>) { return this.request(m as string, a); }
      : function (this: ParleyClient, value: unknown) { return this.request(m as string, { [positional]: value }); },
    writable: true,
    configurable: true,
  });
}

export function createClient(options: ConnectOptions): ParleyClient {
  return new ParleyClient(options);
}

/**
 * Creates a client and logs in; resolves after the login reply. Listeners for
 * the sync events that follow the login go in `options.on` (or use
 * `createClient` and register them before `connect()`).
 */
export async function connect(options: ConnectOptions): Promise<ParleyClient> {
  const client = new ParleyClient(options);
  await client.connect();
  return client;
}
