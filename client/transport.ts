/**
 * The SDK's socket: one at a time, opened and logged in per attempt, with
 * reconnection and backoff after a drop, frame ids, and frame decoding.
 * What rides on the socket (requests, events) belongs to its owner, told
 * through `TransportOwner`. Browser-safe: no Node APIs.
 *
 * Attempts: each one fetches a token, opens the next URL and logs in within
 * `loginTimeoutMs`. A failed attempt is retried after a backoff delay until
 * the cycle's retries are used up (`connectAttempts` for `connect()`,
 * `maxReconnectAttempts` after a logged-in socket dropped). A login error
 * other than `RETRYABLE_LOGIN_ERRORS`, or a kick, closes the client.
 */
import { decode, encode } from '../engine/protocol/codec.ts';
import { ParleyError } from '../engine/protocol/errors.ts';
import type { ErrorName } from '../engine/protocol/errors.ts';
import type { Results } from '../engine/protocol/methods.ts';
import type { LifecycleEvents } from './events.ts';
import { backoffDelay } from './options.ts';
import type { Cursors, ParsedOptions } from './options.ts';
import type { RequestWire } from './requests.ts';
import { deferred, isRecord, noop, toError } from './shared.ts';
import type { Deferred } from './shared.ts';
import { CLOSED, frameBytes } from './socket.ts';
import type { CloseEventLike, ErrorEventLike, MessageEventLike, WebSocketLike } from './socket.ts';

/** Login failures worth another attempt; any other login error (UNAUTHORIZED, BAD_REQUEST, …) stops the client. */
const RETRYABLE_LOGIN_ERRORS: ReadonlySet<string> = new Set<ErrorName>(['UNAVAILABLE', 'RATE_LIMITED', 'TIMEOUT', 'INTERNAL']);

/**
 * - `idle`: created, `connect()` not called yet.
 * - `connecting`: a socket is opening or logging in.
 * - `ready`: logged in; requests are written at once.
 * - `reconnecting`: waiting out a backoff delay before the next attempt.
 * - `closed`: `disconnect()` was called, or the client gave up (UNAUTHORIZED, kicked, attempts exhausted).
 */

/** The close code of a socket the server kicked (edge/frames.ts `CLOSE_CODES.kicked`). */
const KICKED_CLOSE_CODE = 4003;
export type TransportState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed';

/** What the transport tells the one who uses it; every call is made from a socket or timer handler, or from `Transport`'s own methods. */
export interface TransportOwner {
  /** The cursors to log in with; undefined for a fresh device. */
  loginCursors(): Cursors | undefined;
  /** Logged in (state `ready`), before `connect()` resolves and `connect` is emitted. */
  onReady(): void;
  /** A server event frame. */
  onEvent(ev: string, d: unknown): void;
  /** A reply frame to a request other than the login. */
  onReply(id: number, frame: Record<string, unknown>): void;
  /** A logged-in socket dropped; `reconnecting` says whether another attempt follows, `why` what happened. */
  onDropped(reconnecting: boolean, why: string): void;
  /** The client closed (gave up, a fatal login error, `stop()`): nothing pending can be sent any more. */
  failPending(err: ParleyError): void;
  emit<K extends keyof LifecycleEvents>(event: K, data: LifecycleEvents[K]): void;
}

export class Transport implements RequestWire {
  private readonly opts: ParsedOptions;
  private readonly owner: TransportOwner;

  private current: TransportState = 'idle';
  private socket: WebSocketLike | undefined;
  /** Bumped whenever an attempt is abandoned, so late async steps of it do nothing. */
  private epoch = 0;
  private urlIndex = -1;
  private frameId = 1;
  private loginId: number | undefined;
  private loginTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Retries made in the current cycle (since the drop, or since `connect()`). */
  private retries = 0;
  /** Retries allowed in the current cycle before giving up. */
  private maxRetries = 0;
  /** The caller of `connect()` waiting for the next login, if any. */
  private waiter: Deferred<void> | undefined;
  private kicked = false;
  private login: Results['login'] | undefined;
  private assignedDeviceId: string | undefined;
  private currentUrl: string | undefined;

  constructor(opts: ParsedOptions, owner: TransportOwner) {
    this.opts = opts;
    this.owner = owner;
  }

  get state(): TransportState {
    return this.current;
  }

  /** The login reply of the current (or last) session. */
  get session(): Results['login'] | undefined {
    return this.login;
  }

  get url(): string | undefined {
    return this.currentUrl;
  }

  /** Starts a cycle of attempts unless one runs; resolves after the next login. */
  connect(): Promise<void> {
    if (this.current === 'ready') return Promise.resolve();
    if (this.waiter === undefined) this.waiter = deferred<void>();
    const waiter = this.waiter;
    if (this.current === 'idle' || this.current === 'closed') {
      this.kicked = false;
      this.retries = 0;
      this.maxRetries = this.opts.connectAttempts - 1;
      void this.attempt();
    }
    return waiter.promise;
  }

  /**
   * Cancels retries, enters `closed` and rejects a waiting `connect()` with
   * `err`. Returns what closes the socket, so the owner can reject what is
   * pending first; it resolves once the socket is closed.
   */
  stop(err: ParleyError): (reason: string) => Promise<void> {
    const ws = this.socket;
    this.socket = undefined; // closed by the returned function, where its close event resolves the promise
    const wasReady = this.current === 'ready';
    this.abandonAttempt();
    this.current = 'closed';
    this.settleWaiter(err);
    return (reason) => (ws === undefined ? Promise.resolve() : this.closeStopped(ws, wasReady, reason));
  }

  /** The server kicked this device: the coming close is final, no retry follows. */
  noteKicked(): void {
    this.kicked = true;
  }

  /** Closes a logged-in socket after a kick; the server closes it too. */
  closeAfterKick(): void {
    if (this.socket !== undefined && this.current === 'ready') this.socket.close(1000, 'kicked');
  }

  nextId(): number | undefined {
    return this.socket === undefined ? undefined : this.frameId++;
  }

  send(frame: Record<string, unknown>): void {
    if (this.socket !== undefined) this.writeFrame(this.socket, frame);
  }

  // --- attempts --------------------------------------------------------------

  /** One attempt: fetch a token, open the next URL, log in. Failures go to `attemptFailed`. */
  private async attempt(): Promise<void> {
    const epoch = ++this.epoch;
    this.current = 'connecting';
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
    this.listen(ws, url, token);
  }

  private listen(ws: WebSocketLike, url: string, token: string): void {
    let lastError: string | undefined;
    ws.onerror = ((ev: ErrorEventLike) => {
      // A close event always follows; keep the cause for its message.
      lastError = ev?.message ?? (ev?.error instanceof Error ? ev.error.message : undefined);
    }) as (ev: never) => void;
    ws.onopen = (() => {
      if (this.socket === ws) this.sendLogin(ws, token);
    }) as (ev: never) => void;
    ws.onmessage = ((ev: MessageEventLike) => {
      if (this.socket !== ws) return;
      try {
        this.onFrame(ev.data);
      } catch (err) {
        // Whatever the frame held, the socket handler must not throw.
        this.owner.emit('error', toError(err));
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

  private sendLogin(ws: WebSocketLike, token: string): void {
    const id = this.frameId++;
    this.loginId = id;
    const a: Record<string, unknown> = { token };
    const deviceId = this.opts.deviceId ?? this.assignedDeviceId;
    if (deviceId !== undefined) a.deviceId = deviceId;
    if (this.opts.deviceType !== undefined) a.deviceType = this.opts.deviceType;
    const cursors = this.owner.loginCursors();
    if (cursors !== undefined) a.cursors = cursors;
    this.writeFrame(ws, { id, m: 'login', a });
  }

  private onSocketClosed(url: string, code: number, reason: string): void {
    if (this.current === 'connecting') {
      this.attemptFailed(new ParleyError('UNAVAILABLE', `${url} closed before login (code ${code}${reason ? `: ${reason}` : ''})`));
      return;
    }
    if (this.current !== 'ready') return;
    // A logged-in socket dropped.
    const epochAtDrop = this.epoch;
    // 4003 is the edge's close of a kicked socket: final even when the `kicked` event itself was lost.
    if (code === KICKED_CLOSE_CODE) this.kicked = true;
    const willReconnect = this.opts.reconnect && !this.kicked && this.opts.maxReconnectAttempts > 0;
    const why = this.kicked ? 'kicked' : `the connection closed (code ${code}${reason ? `: ${reason}` : ''})`;
    this.owner.onDropped(willReconnect, why);
    if (!willReconnect) {
      this.current = 'closed';
      this.owner.failPending(new ParleyError('UNAVAILABLE', `not connected: ${why}`));
      this.owner.emit('disconnect', { code, reason, willReconnect });
      return;
    }
    this.current = 'reconnecting';
    this.retries = 0;
    this.maxRetries = this.opts.maxReconnectAttempts;
    this.owner.emit('disconnect', { code, reason, willReconnect });
    // A listener may have called disconnect() or connect() meanwhile.
    if (this.current === 'reconnecting' && this.retryTimer === undefined && this.epoch === epochAtDrop) this.scheduleRetry();
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
    this.current = 'reconnecting';
    const delayMs = backoffDelay(this.retries, this.opts.backoff);
    const url = this.opts.urls[(this.urlIndex + 1) % this.opts.urls.length]!;
    const epoch = ++this.epoch;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (epoch === this.epoch) void this.attempt();
    }, delayMs);
    this.owner.emit('willReconnect', error === undefined ? { attempt: this.retries, delayMs, url } : { attempt: this.retries, delayMs, url, error });
  }

  /** Retries are exhausted: the client closes and everything pending fails with the last error. */
  private giveUp(err: ParleyError): void {
    this.close(new ParleyError(err.name, `${err.message} (gave up after ${this.retries + 1} attempt(s))`, { cause: err }));
  }

  /** A login error that retrying cannot fix (UNAUTHORIZED, BAD_REQUEST): close and fail everything with it. */
  private fatal(err: ParleyError): void {
    this.abandonAttempt();
    this.close(err);
  }

  /** Enters `closed` on its own: what is pending fails with `err`, and so does a waiting `connect()` (else `error` is emitted). */
  private close(err: ParleyError): void {
    this.current = 'closed';
    this.owner.failPending(err);
    if (this.waiter !== undefined) this.settleWaiter(err);
    else this.owner.emit('error', err);
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

  /** Closes the socket `stop()` took; emits `disconnect` when it was logged in. */
  private closeStopped(ws: WebSocketLike, wasReady: boolean, reason: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (ev: CloseEventLike): void => {
        ws.onclose = noop;
        if (wasReady) this.owner.emit('disconnect', { code: ev.code ?? 1000, reason: String(ev.reason ?? reason), willReconnect: false });
        resolve();
      };
      ws.onclose = done as (ev: never) => void;
      ws.onmessage = noop;
      if (ws.readyState === CLOSED) done({ code: 1000, reason });
      else ws.close(1000, reason.slice(0, 120));
    });
  }

  private onLogin(r: unknown): void {
    if (this.loginTimer !== undefined) clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
    this.loginId = undefined;
    const login = (isRecord(r) ? r : {}) as Results['login'];
    this.login = login;
    if (this.opts.deviceId === undefined && typeof login.deviceId === 'string') this.assignedDeviceId = login.deviceId;
    this.current = 'ready';
    this.retries = 0;
    this.owner.onReady();
    const waiter = this.waiter;
    this.waiter = undefined;
    this.owner.emit('connect', { ...login, url: this.currentUrl ?? '' });
    waiter?.resolve();
  }

  private settleWaiter(err: ParleyError): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(err);
  }

  // --- frames ----------------------------------------------------------------

  private writeFrame(ws: WebSocketLike, frame: Record<string, unknown>): void {
    try {
      ws.send(encode(frame));
    } catch (err) {
      // The socket is failing; its close event requeues or rejects what was in flight.
      this.owner.emit('error', toError(err));
      try {
        ws.close(4000, 'send failed');
      } catch {
        // already closing
      }
    }
  }

  /** Decodes one frame and routes it: events and replies to the owner, the login reply here. Throws on a malformed frame. */
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
      this.owner.onEvent(frame.ev, frame.d);
      return;
    }
    if (typeof frame.id !== 'number') throw new ParleyError('BAD_REQUEST', 'the server sent a frame with neither `id` nor `ev`');
    if (frame.id !== this.loginId) {
      this.owner.onReply(frame.id, frame);
      return;
    }
    if (frame.e === undefined || frame.e === null) {
      this.onLogin(frame.r);
      return;
    }
    const err = ParleyError.fromWire(frame.e);
    if (RETRYABLE_LOGIN_ERRORS.has(err.name)) this.attemptFailed(err);
    else this.fatal(err);
  }
}
