/**
 * The SDK's engine room: one socket at a time, login, the table of requests
 * awaiting replies, reconnection with backoff, and re-sending unacknowledged
 * messages. `ParleyClient` (client.ts) is the typed face over it.
 * Browser-safe: no Node APIs.
 *
 * Request rules:
 * - A request made while connecting or waiting to reconnect is queued and
 *   written after the next login.
 * - A message send (see `MESSAGE_SEND_METHODS`) stays unacknowledged until its
 *   reply or its timeout: when the socket drops it is re-sent after the next
 *   login with the same `idClient` (and `resend: true`); the server returns
 *   the stored message instead of storing a duplicate.
 * - Any other request written to a socket that drops rejects with
 *   UNAVAILABLE: the SDK cannot know whether it took effect; callers may retry.
 * - Every request rejects with TIMEOUT `requestTimeoutMs` after the call,
 *   across reconnects. A timed-out send leaves the unacknowledged list too;
 *   its `SendError` carries the arguments with the `idClient`, so the app can
 *   send again with `resend: true`, as with the reference SDK.
 */
import { decode, encode } from '../engine/protocol/codec.ts';
import { ParleyError } from '../engine/protocol/errors.ts';
import type { ErrorName } from '../engine/protocol/errors.ts';
import type { Events, Results } from '../engine/protocol/methods.ts';
import { Emitter } from './events.ts';
import type { LifecycleEvents } from './events.ts';
import { backoffDelay } from './options.ts';
import type { ParsedOptions } from './options.ts';
import { CLOSED, frameBytes } from './socket.ts';
import type { CloseEventLike, ErrorEventLike, MessageEventLike, WebSocketLike } from './socket.ts';
import { SyncState } from './sync-state.ts';
import { MESSAGE_SEND_METHODS, randomIdClient } from '../engine/protocol/methods.ts';

/** Methods that store a message: they get an `idClient`, are re-sent after a reconnect and resolve with the stored message. */
export { MESSAGE_SEND_METHODS };

/** Most messages fetched to fill one gap in a session. */
export const GAP_FILL_LIMIT = 100;

/** Login failures worth another attempt; any other login error (UNAUTHORIZED, BAD_REQUEST, …) stops the client. */
const RETRYABLE_LOGIN_ERRORS: ReadonlySet<string> = new Set<ErrorName>(['UNAVAILABLE', 'RATE_LIMITED', 'TIMEOUT', 'INTERNAL']);

/**
 * - `idle`: created, `connect()` not called yet.
 * - `connecting`: a socket is opening or logging in.
 * - `ready`: logged in; requests are written at once.
 * - `reconnecting`: waiting out a backoff delay before the next attempt.
 * - `closed`: `disconnect()` was called, or the client gave up (UNAUTHORIZED, kicked, attempts exhausted).
 * - `destroyed`: `destroy()` was called; the client cannot be used again.
 */
export type ClientState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed' | 'destroyed';

/** A failed message send: `args` are the arguments as sent, `idClient` filled in, ready for `resend: true`. */
export class SendError extends ParleyError {
  readonly args: Record<string, unknown>;
  readonly idClient: string;

  constructor(err: ParleyError, args: Record<string, unknown>) {
    super(err.name, err.message, { cause: err.cause });
    this.args = args;
    this.idClient = String(args.idClient);
  }
}

interface Pending {
  readonly m: string;
  readonly a: Record<string, unknown> | undefined;
  readonly isSend: boolean;
  readonly resolve: (r: unknown) => void;
  readonly reject: (err: ParleyError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Frame id on the current socket; undefined while queued. */
  wireId: number | undefined;
  /** How many times the request was written. */
  writes: number;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (err: unknown) => void;
  settled: boolean;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (err: unknown) => void;
  const d: Deferred<T> = {
    promise: new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    }),
    resolve: (v) => {
      d.settled = true;
      resolve(v);
    },
    reject: (err) => {
      d.settled = true;
      reject(err);
    },
    settled: false,
  };
  // Nobody has to await it; an unobserved rejection must not surface as unhandled.
  d.promise.catch(() => {});
  return d;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const noop = (): void => {};

export class Connection {
  readonly emitter = new Emitter();
  readonly sync: SyncState;
  /** Gap fills in progress per session: later messages of the session wait for them. */
  private readonly gapFills = new Map<string, Promise<void>>();
  private readonly opts: ParsedOptions;

  private state: 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed' = 'idle';
  private destroyed = false;
  private destroying: Promise<void> | undefined;
  private socket: WebSocketLike | undefined;
  /** Bumped whenever an attempt is abandoned, so late async steps of it do nothing. */
  private epoch = 0;
  private urlIndex = -1;
  private nextId = 1;
  private loginId: number | undefined;
  private loginTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Retries made in the current cycle (since the drop, or since `connect()`). */
  private retries = 0;
  /** Retries allowed in the current cycle before giving up. */
  private maxRetries = 0;
  /** The caller of `connect()` waiting for the next login, if any. */
  private waiter: Deferred<void> | undefined;
  private syncDone = deferred<Events['syncdone']>();
  private kicked = false;
  private readonly inflight = new Map<number, Pending>();
  private queue: Pending[] = [];
  private login: Results['login'] | undefined;
  private assignedDeviceId: string | undefined;
  private currentUrl: string | undefined;

  constructor(opts: ParsedOptions) {
    this.opts = opts;
    this.sync = new SyncState(opts.dedupWindow, opts.cursors);
    for (const [event, fn] of Object.entries(opts.on)) if (fn !== undefined) this.emitter.on(event, fn);
  }

  get clientState(): ClientState {
    return this.destroyed ? 'destroyed' : this.state;
  }

  /** The login reply of the current (or last) session. */
  get session(): Results['login'] | undefined {
    return this.login;
  }

  get url(): string | undefined {
    return this.currentUrl;
  }

  /** Resolves with the `syncdone` payload of the first sync after the latest login. */
  get synced(): Promise<Events['syncdone']> {
    return this.syncDone.promise;
  }

  /** Opens a socket and logs in; resolves after the login reply. Retries `connectAttempts` times in all. */
  connect(): Promise<void> {
    if (this.destroyed) return Promise.reject(new ParleyError('UNAVAILABLE', 'the client was destroyed'));
    if (this.state === 'ready') return Promise.resolve();
    if (this.waiter === undefined) this.waiter = deferred<void>();
    const waiter = this.waiter;
    if (this.state === 'idle' || this.state === 'closed') {
      this.kicked = false;
      this.retries = 0;
      this.maxRetries = this.opts.connectAttempts - 1;
      if (this.syncDone.settled) this.syncDone = deferred();
      void this.attempt();
    }
    return waiter.promise;
  }

  /** Sends one request; see the module comment for queueing, resending and timeouts. */
  request(m: string, a: Record<string, unknown> | undefined): Promise<unknown> {
    if (this.destroyed) return Promise.reject(new ParleyError('UNAVAILABLE', 'the client was destroyed'));
    if (m === 'login') return Promise.reject(new ParleyError('BAD_REQUEST', '`login` is sent by the SDK itself; use connect()'));
    if (a !== undefined && !isRecord(a)) return Promise.reject(new ParleyError('BAD_REQUEST', `the arguments of \`${m}\` must be an object`));
    const isSend = MESSAGE_SEND_METHODS.has(m);
    const args = isSend ? { ...a, idClient: typeof a?.idClient === 'string' && a.idClient !== '' ? a.idClient : randomIdClient() } : a;
    if (this.state === 'idle' || this.state === 'closed') {
      return Promise.reject(this.failure(isSend, args, new ParleyError('UNAVAILABLE', `not connected: call connect() before \`${m}\``)));
    }
    return new Promise<unknown>((resolve, reject) => {
      const p: Pending = { m, a: args, isSend, resolve, reject, timer: undefined, wireId: undefined, writes: 0 };
      p.timer = setTimeout(() => {
        this.forget(p);
        reject(this.failure(isSend, args, new ParleyError('TIMEOUT', `no reply to \`${m}\` within ${this.opts.requestTimeoutMs} ms`)));
      }, this.opts.requestTimeoutMs);
      if (this.state === 'ready') this.write(p);
      else this.queue.push(p);
    });
  }

  /** Closes the socket, cancels retries and rejects what is pending; resolves once the socket is closed. */
  disconnect(reason = 'disconnect() called'): Promise<void> {
    const ws = this.socket;
    this.socket = undefined; // closed below, where its close event resolves the promise
    const wasReady = this.state === 'ready';
    this.abandonAttempt();
    this.state = 'closed';
    const err = new ParleyError('UNAVAILABLE', `the client disconnected: ${reason}`);
    this.settleWaiter(err);
    this.rejectAll(err);
    if (!this.syncDone.settled) this.syncDone.reject(err);
    if (ws === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (ev: CloseEventLike): void => {
        ws.onclose = noop;
        if (wasReady) this.emit('disconnect', { code: ev.code ?? 1000, reason: String(ev.reason ?? reason), willReconnect: false });
        resolve();
      };
      ws.onclose = done as (ev: never) => void;
      ws.onmessage = noop;
      if (ws.readyState === CLOSED) done({ code: 1000, reason });
      else ws.close(1000, reason.slice(0, 120));
    });
  }

  /** `disconnect()`, then no further use: requests and `connect()` reject, listeners are dropped. */
  destroy(): Promise<void> {
    if (this.destroying === undefined) {
      const closing = this.disconnect('destroy() called');
      this.destroyed = true;
      this.destroying = closing.then(() => this.emitter.clear());
    }
    return this.destroying;
  }

  // --- connection attempts ---------------------------------------------------

  /** One attempt: fetch a token, open the next URL, log in. Failures go to `attemptFailed`. */
  private async attempt(): Promise<void> {
    const epoch = ++this.epoch;
    this.state = 'connecting';
    this.urlIndex = (this.urlIndex + 1) % this.opts.urls.length;
    const url = this.opts.urls[this.urlIndex]!;
    this.loginTimer = setTimeout(() => {
      if (epoch !== this.epoch) return;
      this.attemptFailed(new ParleyError('TIMEOUT', `no login reply from ${url} within ${this.opts.loginTimeoutMs} ms`));
    }, this.opts.loginTimeoutMs);

    let token: string;
    try {
      token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    } catch (err) {
      if (epoch === this.epoch) this.attemptFailed(new ParleyError('UNAVAILABLE', `the token function failed: ${String(err)}`, { cause: err }));
      return;
    }
    if (epoch !== this.epoch) return;
    if (typeof token !== 'string' || token === '') {
      this.fatal(new ParleyError('BAD_REQUEST', `the \`token\` function must return a non-empty string, got ${typeof token}`));
      return;
    }

    let ws: WebSocketLike;
    try {
      ws = new this.opts.WebSocket(url);
      ws.binaryType = 'arraybuffer';
    } catch (err) {
      this.attemptFailed(new ParleyError('UNAVAILABLE', `cannot open ${url}: ${String(err)}`, { cause: err }));
      return;
    }
    this.socket = ws;
    this.currentUrl = url;
    let lastError: string | undefined;
    ws.onerror = ((ev: ErrorEventLike) => {
      // A close event always follows; keep the cause for its message.
      lastError = ev?.message ?? (ev?.error instanceof Error ? ev.error.message : undefined);
    }) as (ev: never) => void;
    ws.onopen = (() => {
      if (this.socket !== ws) return;
      const id = this.nextId++;
      this.loginId = id;
      const a: Record<string, unknown> = { token };
      const deviceId = this.opts.deviceId ?? this.assignedDeviceId;
      if (deviceId !== undefined) a.deviceId = deviceId;
      if (this.opts.deviceType !== undefined) a.deviceType = this.opts.deviceType;
      const cursors = this.sync.loginCursors();
      if (cursors !== undefined) a.cursors = cursors;
      this.writeFrame(ws, { id, m: 'login', a });
    }) as (ev: never) => void;
    ws.onmessage = ((ev: MessageEventLike) => {
      if (this.socket !== ws) return;
      try {
        this.onFrame(ev.data);
      } catch (err) {
        // Whatever the frame held, the socket handler must not throw.
        this.emit('error', err instanceof Error ? err : new Error(String(err)));
      }
    }) as (ev: never) => void;
    ws.onclose = ((ev: CloseEventLike) => {
      if (this.socket !== ws) return;
      this.socket = undefined;
      const code = ev?.code ?? 1006;
      const reason = String(ev?.reason ?? '') || lastError || '';
      this.onSocketClosed(url, code, reason);
    }) as (ev: never) => void;
  }

  private onSocketClosed(url: string, code: number, reason: string): void {
    if (this.state === 'connecting') {
      this.attemptFailed(new ParleyError('UNAVAILABLE', `${url} closed before login (code ${code}${reason ? `: ${reason}` : ''})`));
      return;
    }
    if (this.state !== 'ready') return;
    // A logged-in socket dropped.
    const epochAtDrop = this.epoch;
    const willReconnect = this.opts.reconnect && !this.kicked && this.opts.maxReconnectAttempts > 0;
    const why = this.kicked ? 'kicked' : `the connection closed (code ${code}${reason ? `: ${reason}` : ''})`;
    const resend: Pending[] = [];
    for (const p of this.inflight.values()) {
      p.wireId = undefined;
      if (p.isSend && willReconnect) resend.push(p);
      else this.settle(p, new ParleyError('UNAVAILABLE', `\`${p.m}\` was in flight when ${why}; it may or may not have taken effect`));
    }
    this.inflight.clear();
    this.queue = [...resend, ...this.queue];
    if (!willReconnect) {
      this.state = 'closed';
      this.rejectAll(new ParleyError('UNAVAILABLE', `not connected: ${why}`));
      this.emit('disconnect', { code, reason, willReconnect });
      return;
    }
    this.state = 'reconnecting';
    this.retries = 0;
    this.maxRetries = this.opts.maxReconnectAttempts;
    this.emit('disconnect', { code, reason, willReconnect });
    // A listener may have called disconnect() or connect() meanwhile.
    if (this.state === 'reconnecting' && this.retryTimer === undefined && this.epoch === epochAtDrop) this.scheduleRetry();
  }

  /** Ends the current attempt (closing its socket, if any) and retries or gives up. */
  private attemptFailed(err: ParleyError): void {
    this.abandonAttempt();
    if (this.retries >= this.maxRetries) {
      this.giveUp(err);
      return;
    }
    this.scheduleRetry(err);
  }

  /** Waits out the backoff delay, then makes the next attempt. `error`: why the previous attempt failed. */
  private scheduleRetry(error?: ParleyError): void {
    this.retries += 1;
    this.state = 'reconnecting';
    const delayMs = backoffDelay(this.retries, this.opts.backoff);
    const url = this.opts.urls[(this.urlIndex + 1) % this.opts.urls.length]!;
    const epoch = ++this.epoch;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (epoch === this.epoch) void this.attempt();
    }, delayMs);
    this.emit('willReconnect', error === undefined ? { attempt: this.retries, delayMs, url } : { attempt: this.retries, delayMs, url, error });
  }

  /** Retries are exhausted: the client closes and everything pending fails with the last error. */
  private giveUp(err: ParleyError): void {
    this.state = 'closed';
    const final = new ParleyError(err.name, `${err.message} (gave up after ${this.retries + 1} attempt(s))`, { cause: err });
    this.rejectAll(final);
    if (this.waiter !== undefined) this.settleWaiter(final);
    else this.emit('error', final);
  }

  /** A login error that retrying cannot fix (UNAUTHORIZED, BAD_REQUEST): close and fail everything with it. */
  private fatal(err: ParleyError): void {
    this.abandonAttempt();
    this.state = 'closed';
    this.rejectAll(err);
    if (this.waiter !== undefined) this.settleWaiter(err);
    else this.emit('error', err);
  }

  /** Cancels timers and closes the attempt's socket without reacting to its close. */
  private abandonAttempt(): void {
    this.epoch += 1;
    if (this.loginTimer !== undefined) clearTimeout(this.loginTimer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.loginTimer = undefined;
    this.retryTimer = undefined;
    this.loginId = undefined;
    const ws = this.socket;
    this.socket = undefined;
    if (ws !== undefined && ws.readyState !== CLOSED) {
      ws.onopen = noop;
      ws.onmessage = noop;
      ws.onclose = noop;
      try {
        ws.close(1000);
      } catch {
        // Closing a socket that is already going away may throw in some implementations.
      }
    }
  }

  private onLogin(r: unknown): void {
    if (this.loginTimer !== undefined) clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
    this.loginId = undefined;
    const login = (isRecord(r) ? r : {}) as Results['login'];
    this.login = login;
    if (this.opts.deviceId === undefined && typeof login.deviceId === 'string') this.assignedDeviceId = login.deviceId;
    this.state = 'ready';
    this.retries = 0;
    if (this.syncDone.settled) this.syncDone = deferred();
    const queued = this.queue;
    this.queue = [];
    for (const p of queued) this.write(p);
    const waiter = this.waiter;
    this.waiter = undefined;
    this.emit('connect', { ...login, url: this.currentUrl ?? '' });
    waiter?.resolve();
  }

  // --- frames ----------------------------------------------------------------

  private write(p: Pending): void {
    const ws = this.socket;
    if (ws === undefined) {
      this.queue.push(p);
      return;
    }
    const id = this.nextId++;
    p.wireId = id;
    p.writes += 1;
    this.inflight.set(id, p);
    const a = p.isSend && p.writes > 1 ? { ...p.a, resend: true } : p.a;
    this.writeFrame(ws, a === undefined ? { id, m: p.m } : { id, m: p.m, a });
  }

  private writeFrame(ws: WebSocketLike, frame: Record<string, unknown>): void {
    try {
      ws.send(encode(frame));
    } catch (err) {
      // The socket is failing; its close event requeues or rejects what was in flight.
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
      try {
        ws.close(4000, 'send failed');
      } catch {
        // already closing
      }
    }
  }

  private onFrame(data: unknown): void {
    const bytes = frameBytes(data);
    if (bytes === undefined) throw new ParleyError('BAD_REQUEST', 'the server sent a text frame; the protocol has binary frames only');
    let frame: unknown;
    try {
      frame = decode(bytes);
    } catch (err) {
      throw new ParleyError('BAD_REQUEST', 'the server sent a frame that is not one msgpack value', { cause: err });
    }
    if (!isRecord(frame)) throw new ParleyError('BAD_REQUEST', 'the server sent a frame that is not a map');
    if (typeof frame.ev === 'string') {
      this.onEvent(frame.ev, frame.d);
      return;
    }
    if (typeof frame.id !== 'number') throw new ParleyError('BAD_REQUEST', 'the server sent a frame with neither `id` nor `ev`');
    const failed = frame.e !== undefined && frame.e !== null;
    if (frame.id === this.loginId) {
      if (!failed) {
        this.onLogin(frame.r);
        return;
      }
      const err = ParleyError.fromWire(frame.e);
      if (RETRYABLE_LOGIN_ERRORS.has(err.name)) this.attemptFailed(err);
      else this.fatal(err);
      return;
    }
    const p = this.inflight.get(frame.id);
    if (p === undefined) return; // a reply to a request that already timed out
    this.inflight.delete(frame.id);
    if (failed) {
      this.settle(p, ParleyError.fromWire(frame.e));
      return;
    }
    if (p.isSend) this.sync.noteMessage(frame.r);
    this.settle(p, undefined, frame.r);
  }

  private onEvent(ev: string, d: unknown): void {
    switch (ev) {
      case 'msg':
        this.onMessage(d);
        return;
      case 'offlinemsgs':
      case 'roamingmsgs':
        if (isRecord(d) && Array.isArray(d.msgs)) {
          const fresh = d.msgs.filter((m) => this.sync.noteMessage(m));
          if (fresh.length === 0 && d.msgs.length > 0) return;
          if (fresh.length !== d.msgs.length) d = { ...d, msgs: fresh };
        }
        break;
      case 'sessions':
      case 'updatesessions':
        this.sync.noteSessions(d);
        if (ev === 'updatesessions' && Array.isArray(d)) {
          // A session's newest message may reach us before (or instead of) its `msg` event.
          for (const session of d) if (isRecord(session) && isRecord(session.lastMsg)) this.onMessage(session.lastMsg);
        }
        break;
      case 'kicked':
        this.kicked = true;
        break;
    }
    this.emit(ev, d);
    if (ev === 'syncdone' && !this.syncDone.settled) this.syncDone.resolve(d as Events['syncdone']);
    if (ev === 'kicked' && this.socket !== undefined && this.state === 'ready') {
      // The server closes the socket too; closing here makes sure no retry follows.
      this.socket.close(1000, 'kicked');
    }
  }

  /**
   * A message for the app. Messages of a session are emitted in `seq` order
   * without gaps where the SDK knows the session: when one arrives past a
   * gap (a delivery lost in a reconnect or a handover), the missing ones are
   * fetched from history first — at most a page of `GAP_FILL_LIMIT`; beyond
   * that the app pages history itself.
   */
  private onMessage(msg: unknown): void {
    if (!isRecord(msg) || typeof msg.sessionId !== 'string' || typeof msg.seq !== 'number') {
      this.emit('msg', msg);
      return;
    }
    const sessionId = msg.sessionId;
    const seq = msg.seq;
    const pending = this.gapFills.get(sessionId);
    const known = this.sync.lastSeq(sessionId);
    if (pending === undefined && (known === undefined || seq <= known + 1)) {
      if (this.sync.noteMessage(msg)) this.emit('msg', msg);
      return;
    }
    const fill = (pending ?? Promise.resolve())
      .then(() => this.fillGap(msg, seq))
      .then(() => {
        if (this.sync.noteMessage(msg)) this.emit('msg', msg);
      })
      .finally(() => {
        if (this.gapFills.get(sessionId) === fill) this.gapFills.delete(sessionId);
      });
    this.gapFills.set(sessionId, fill);
  }

  /** Fetches and emits, in order, the messages between the last one seen and `msg`. */
  private async fillGap(msg: Record<string, unknown>, seq: number): Promise<void> {
    const sessionId = msg.sessionId as string;
    const known = this.sync.lastSeq(sessionId) ?? seq - 1;
    if (seq <= known + 1 || typeof msg.scene !== 'string' || typeof msg.target !== 'string') return;
    try {
      const page = (await this.request('getHistoryMsgs', {
        scene: msg.scene,
        to: msg.target,
        endTime: msg.time,
        lastMsgId: msg.idServer,
        limit: Math.min(GAP_FILL_LIMIT, seq - known - 1),
        asc: true,
      })) as { msgs?: unknown[] } | undefined;
      for (const m of page?.msgs ?? []) {
        if (isRecord(m) && typeof m.seq === 'number' && m.seq > known && m.seq < seq && this.sync.noteMessage(m)) this.emit('msg', m);
      }
    } catch (err) {
      // The app still gets `msg`; it can page history for what is missing.
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  // --- bookkeeping -----------------------------------------------------------

  private failure(isSend: boolean, args: Record<string, unknown> | undefined, err: ParleyError): ParleyError {
    return isSend && args !== undefined ? new SendError(err, args) : err;
  }

  /** Resolves or rejects a request and clears its timer. */
  private settle(p: Pending, err: ParleyError | undefined, r?: unknown): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    if (err === undefined) p.resolve(r);
    else p.reject(this.failure(p.isSend, p.a, err));
  }

  /** Drops a timed-out request from wherever it waits. */
  private forget(p: Pending): void {
    if (p.wireId !== undefined) this.inflight.delete(p.wireId);
    const i = this.queue.indexOf(p);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private rejectAll(err: ParleyError): void {
    const all = [...this.inflight.values(), ...this.queue];
    this.inflight.clear();
    this.queue = [];
    for (const p of all) this.settle(p, err);
  }

  private settleWaiter(err: ParleyError): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(err);
  }

  private emit<K extends keyof LifecycleEvents>(event: K, data: LifecycleEvents[K]): void;
  private emit(event: string, data: unknown): void;
  private emit(event: string, data: unknown): void {
    this.emitter.emit(event, data);
  }
}
