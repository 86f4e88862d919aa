/**
 * The edge: a stateless uWebSockets.js gateway. It holds client sockets,
 * logs them in, decodes and validates requests, routes each to its actor
 * over the Bus, and fans deliveries out to the account's local sockets.
 *
 * It keeps no durable state: everything it holds (sockets, per-account
 * delivery subscriptions) is rebuilt when clients reconnect.
 *
 * uWS aborts the process when a handler throws, so every handler is wrapped;
 * a socket is never touched after its close handler ran (`Conn.closed`), and
 * writes from outside a uWS callback are corked.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Bus, BusMessage, BusSubscription } from '../engine/bus/bus.ts';
import type { Config } from '../engine/config.ts';
import type { Caller, Delivery } from '../engine/envelope.ts';
import type { TokenVerifier } from '../engine/auth/verifier.ts';
import { ActorClient } from '../engine/actor/call.ts';
import type { HeldCallOptions } from '../engine/actor/call.ts';
import { conversationCalls } from '../actors/conversation/calls.ts';
import { userCalls } from '../actors/user/calls.ts';
import { FrameError, decode, decodeRequest, encode, encodeMapOfRaw } from '../engine/protocol/codec.ts';
import { ParleyError } from '../engine/protocol/errors.ts';
import { describeValue, echo } from '../engine/protocol/schema.ts';
import type { WireError } from '../engine/protocol/errors.ts';
import { declarationOf, parseRequest, randomIdClient } from '../engine/protocol/methods.ts';
import type { Args, DeviceType, Message, MethodName, Scene, Session } from '../engine/protocol/methods.ts';
import { deliverySubject, userAddress } from '../engine/subjects.ts';
import { logger } from '../engine/logger.ts';
import { routeOf } from './routes.ts';
import { addAdminRoutes } from './admin-http.ts';
import { AdminApi } from '../engine/admin/api.ts';
import { loadUws } from './uws.ts';
import type { TemplatedApp, Uws, WebSocket, us_listen_socket, us_socket } from './uws.ts';

export interface EdgeOptions {
  /** Listen address, limits and timeouts (`port`, `host`, `maxFrameBytes`, `requestTimeoutMs`, …). */
  config: Config;
  /** Carries requests to actors and deliveries from them. */
  bus: Bus;
  /** Turns a login token into an account. */
  verifier: TokenVerifier;
  /** Extra readiness condition for `/healthz` (e.g. the actor host owns its partitions). Default: always ready. */
  isReady?: () => boolean;
}

/** Requests awaiting an actor's reply per socket; more get RATE_LIMITED. */
export const MAX_IN_FLIGHT_PER_SOCKET = 256;
/** Conversations fetched concurrently during one socket's login sync. */
export const SYNC_CONCURRENCY = 8;
/** Room a login-sync page keeps under the Bus's limit for the reply envelope and the page's own fields, bytes. */
const SYNC_PAGE_MARGIN_BYTES = 1024;

/** WebSocket close codes the edge sends. */
export const CLOSE_CODES = {
  /** The edge is shutting down. */
  shutdown: 1001,
  /** A second malformed frame in a row. */
  malformed: 1007,
  /** The login sync failed; reconnect. */
  syncFailed: 1011,
  /** Login failed: bad, expired or missing token. */
  unauthorized: 4001,
  /** No login within `loginTimeoutMs`. */
  loginTimeout: 4002,
} as const;

type ConnState = 'new' | 'login' | 'ready';

interface QueuedRequest {
  id: number;
  m: string;
  a: unknown;
}

/**
 * One client socket. An idle logged-in socket costs only this object, its
 * uWS socket and a slot in its account's entry, so the fields are scalars or
 * shared: what can be derived (`ref`, `caller`) is computed when asked, the
 * lists a socket needs only around its login or under backpressure are
 * allocated on first use, and there is no closure or timer per socket.
 * Every field exists from construction so the shape never changes.
 */
class Conn {
  /** Number of the socket on its edge: `ref` is `<nodeId>/<n>`. */
  readonly n: number;
  /** `<nodeId>/`, one string shared by every socket of the edge. */
  private readonly refPrefix: string;
  ws: WebSocket<ConnData> | undefined = undefined;
  closed = false;
  state: ConnState = 'new';
  account = '';
  deviceId = '';
  deviceType: DeviceType = 'web';
  /** Holds a reference on the account's delivery subscription. */
  registered = false;
  /** Malformed frames in a row. */
  malformed = 0;
  inFlight = 0;
  pendingBytes = 0;
  /** Bytes of login-sync pages asked for and not yet written: part of the socket's unsent bytes. */
  reservedBytes = 0;
  /** Backlog sweeps in a row that found bytes buffered and no drain since the previous one. */
  stalledSweeps = 0;
  private queuedList: QueuedRequest[] | undefined = undefined;
  private pendingList: Uint8Array[] | undefined = undefined;
  private waiterList: Array<() => void> | undefined = undefined;

  constructor(n: number, refPrefix: string) {
    this.n = n;
    this.refPrefix = refPrefix;
  }

  /** `<nodeId>/<n>`: names this socket in `Caller.conn` and `Delivery.x`. */
  get ref(): string {
    return this.refPrefix + this.n;
  }

  /** Who the socket's requests come from; undefined before the login is verified. */
  get caller(): Caller | undefined {
    if (this.account === '') return undefined;
    return { account: this.account, deviceId: this.deviceId, deviceType: this.deviceType, conn: this.ref };
  }

  /** Requests received while the login is being verified; run once it succeeds. */
  get queued(): QueuedRequest[] {
    return (this.queuedList ??= []);
  }

  set queued(list: QueuedRequest[]) {
    this.queuedList = list;
  }

  /** Deliveries that arrived between the bus subscription and the login reply. */
  get pending(): Uint8Array[] {
    return (this.pendingList ??= []);
  }

  /** Login-sync writers waiting for the socket's buffer to drain. */
  get drainWaiters(): Array<() => void> {
    return (this.waiterList ??= []);
  }

  set drainWaiters(list: Array<() => void>) {
    this.waiterList = list;
  }

  /** Takes the queued requests and pending deliveries, leaving none allocated. */
  takeQueued(): readonly QueuedRequest[] {
    const list = this.queuedList ?? NOTHING_QUEUED;
    this.queuedList = undefined;
    return list;
  }

  takePending(): readonly Uint8Array[] {
    const list = this.pendingList ?? NOTHING_PENDING;
    this.pendingList = undefined;
    this.pendingBytes = 0;
    return list;
  }
}

const NOTHING_QUEUED: readonly QueuedRequest[] = Object.freeze([]) as readonly QueuedRequest[];
const NOTHING_PENDING: readonly Uint8Array[] = Object.freeze([]) as readonly Uint8Array[];

interface ConnData {
  conn: Conn;
}

/** The delivery subscription of one account, shared by its sockets on this edge. */
interface AccountEntry {
  readonly account: string;
  readonly sub: BusSubscription;
  /**
   * The account's sockets holding a reference, usually one: logged in ones
   * get deliveries directly, the others (mid-login) buffer them.
   */
  readonly conns: Conn[];
}

/** What the user actor's `sync` answers: one page of the plan; `next` resumes it. */
interface SyncResult {
  sessions?: Session[];
  fetch?: SyncFetch[];
  next?: string;
}

/** What a conversation's `range` answers: one page of messages; `next` is the seq to resume from. */
interface RangeResult {
  msgs?: Message[];
  next?: number;
}

/** Size of the login sync's pages: `bytes` reserved per page, `ask` passed as `maxBytes` when the socket needs less than the Bus carries. */
interface SyncPaging {
  bytes: number;
  ask: number | undefined;
}

interface SyncFetch {
  sessionId: string;
  scene: Scene;
  to: string;
  address: string;
  fromSeq: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function badRequest(message: string): ParleyError {
  return new ParleyError('BAD_REQUEST', message);
}

export class Edge {
  private readonly config: Config;
  private readonly bus: Bus;
  /** Carries requests to actors, retried as each method's declaration allows. */
  private readonly actors: ActorClient;
  /** The admin HTTP API on this edge's port (off without keys). */
  private readonly admin: AdminApi;
  private readonly verifier: TokenVerifier;
  private readonly isReady: () => boolean;
  private uws: Uws | undefined = undefined;
  private app: TemplatedApp | undefined = undefined;
  private listenSocket: us_listen_socket | undefined = undefined;
  private stopping = false;
  /** Prefix of the idClients this edge fills in: random per process, so restarts never reuse one. */
  private readonly idPrefix = `${randomIdClient().slice(0, 16)}-`;
  private idCounter = 0;
  private connSeq = 0;
  /** `<nodeId>/`: with a socket's number, its `ref`. */
  private readonly refPrefix: string;
  private readonly conns = new Set<Conn>();
  /** Accounts with a socket on this edge, by delivery subject. */
  private readonly accounts = new Map<string, AccountEntry>();
  /** Most unsent bytes seen on one socket since start (see `unsentBytes`). */
  private peakUnsent = 0;
  /** Sockets left with bytes in uWS's buffer by the edge's writes: watched for drain progress. */
  private readonly backlogged = new Set<Conn>();
  private backlogSweeper: ReturnType<typeof setInterval> | undefined = undefined;
  /**
   * Sockets not logged in yet, in the order they opened, and when each must
   * have logged in (ms). One timer, armed for the oldest, closes the late
   * ones; entries that logged in or closed are skipped when reached.
   */
  private loginQueue: Array<Conn | undefined> = [];
  private loginDeadlines: number[] = [];
  private loginHead = 0;
  private loginTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(options: EdgeOptions) {
    this.config = options.config;
    this.bus = options.bus;
    this.actors = new ActorClient(options.bus, { partitions: options.config.partitions, timeoutMs: options.config.requestTimeoutMs });
    this.admin = new AdminApi({ keys: options.config.adminApiKey.split(',').map((k) => k.trim()), ratePerSec: options.config.adminRatePerSec, context: { actors: this.actors } });
    this.verifier = options.verifier;
    this.isReady = options.isReady ?? (() => true);
    this.refPrefix = `${this.config.nodeId}/`;
  }

  /** Listens on `config.host:config.port` (0 picks a free port) and resolves with the bound port. */
  async start(): Promise<{ port: number }> {
    if (this.app !== undefined) throw new Error('the edge is already started');
    const uws = loadUws({ allowFallback: this.config.allowUwsFallback });
    const app = uws.App();
    this.uws = uws;
    this.app = app;
    this.stopping = false;
    app.ws<ConnData>('/v1/ws', {
      maxPayloadLength: this.config.maxFrameBytes,
      maxBackpressure: this.config.maxBackpressureBytes,
      // Typed as a number in the typings; the native side reads it as a flag.
      closeOnBackpressureLimit: 1,
      idleTimeout: this.config.idleTimeoutSec,
      sendPingsAutomatically: true,
      compression: uws.DISABLED,
      upgrade: (res, req, context) => {
        try {
          if (this.stopping) {
            res.writeStatus('503 Service Unavailable').end('shutting down');
            return;
          }
          const conn = new Conn(++this.connSeq, this.refPrefix);
          res.upgrade<ConnData>(
            { conn },
            req.getHeader('sec-websocket-key'),
            req.getHeader('sec-websocket-protocol'),
            req.getHeader('sec-websocket-extensions'),
            context,
          );
        } catch (err) {
          logger.error('websocket upgrade failed', { err });
          try {
            res.close();
          } catch {
            // already gone
          }
        }
      },
      open: (ws) => {
        try {
          this.onOpen(ws);
        } catch (err) {
          logger.error('websocket open handler failed', { err });
        }
      },
      message: (ws, message, isBinary) => {
        try {
          this.onMessage(ws.getUserData().conn, message, isBinary);
        } catch (err) {
          logger.error('websocket message handler failed', { err });
        }
      },
      drain: (ws) => {
        try {
          this.onDrain(ws.getUserData().conn);
        } catch (err) {
          logger.error('websocket drain handler failed', { err });
        }
      },
      close: (ws, code, message) => {
        try {
          this.onClose(ws.getUserData().conn, code, Buffer.from(message).toString('utf8'));
        } catch (err) {
          logger.error('websocket close handler failed', { err });
        }
      },
    });
    addAdminRoutes(app, this.admin, this.config.maxFrameBytes);
    app.get('/healthz', (res) => {
      try {
        const ok = this.healthy();
        res.cork(() => {
          res
            .writeStatus(ok ? '200 OK' : '503 Service Unavailable')
            .writeHeader('content-type', 'text/plain')
            .end(ok ? 'ok' : 'unavailable');
        });
      } catch (err) {
        logger.error('healthz handler failed', { err });
      }
    });
    app.any('/*', (res) => {
      try {
        res.cork(() => {
          res.writeStatus('404 Not Found').writeHeader('content-type', 'text/plain').end('not found');
        });
      } catch (err) {
        logger.error('http handler failed', { err });
      }
    });
    const sweepMs = Math.max(5, Math.floor(this.config.drainTimeoutMs / 2));
    this.backlogSweeper = setInterval(() => this.sweepBacklog(), sweepMs);
    this.backlogSweeper.unref();
    const { host, port } = this.config;
    return new Promise((resolve, reject) => {
      app.listen(host, port, (listenSocket) => {
        try {
          if (listenSocket === false) {
            reject(new Error(`the edge could not listen on ${host}:${port}`));
            return;
          }
          this.listenSocket = listenSocket;
          const bound = uws.us_socket_local_port(listenSocket as unknown as us_socket);
          logger.info('edge listening', { host, port: bound, nodeId: this.config.nodeId });
          resolve({ port: bound });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
  }

  /** Stops listening, closes every socket (1001) and drops every delivery subscription. */
  async stop(): Promise<void> {
    if (this.app === undefined) return;
    this.stopping = true;
    if (this.backlogSweeper !== undefined) clearInterval(this.backlogSweeper);
    this.backlogSweeper = undefined;
    this.backlogged.clear();
    const app = this.app;
    if (this.listenSocket !== undefined) {
      this.uws?.us_listen_socket_close(this.listenSocket);
      this.listenSocket = undefined;
    }
    for (const conn of [...this.conns]) this.closeWith(conn, CLOSE_CODES.shutdown, 'server shutting down');
    for (const entry of this.accounts.values()) entry.sub.unsubscribe();
    this.accounts.clear();
    clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
    this.loginQueue = [];
    this.loginDeadlines = [];
    this.loginHead = 0;
    // Let the close frames go out before the remaining connections (HTTP keep-alive) are cut.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      // Present in the native build, missing from the typings: closes every socket of the app.
      (app as unknown as { close?: () => void }).close?.();
    } catch (err) {
      logger.warn('closing the uWS app failed', { err });
    }
    this.app = undefined;
  }

  /** Live counts, for health and tests: open sockets, and accounts with a delivery subscription. */
  stats(): { connections: number; accounts: number } {
    return { connections: this.conns.size, accounts: this.accounts.size };
  }

  /**
   * The edge's accounting of bytes written to sockets and not yet taken by
   * their clients (uWS's buffers, deliveries held mid-login, login-sync
   * pages asked for): the sum over open sockets now, and the most one
   * socket reached since start. Each socket is held to `maxBackpressureBytes`.
   */
  unsentStats(): { bytes: number; peakBytes: number } {
    let bytes = 0;
    for (const conn of this.conns) bytes += this.unsentBytes(conn);
    return { bytes, peakBytes: this.peakUnsent };
  }

  /** True when logins can be served: listening, bus connected, a JWT secret set and `isReady()`. */
  private healthy(): boolean {
    if (this.listenSocket === undefined || this.stopping || !this.bus.connected || this.verifier.enabled === false) return false;
    try {
      return this.isReady();
    } catch (err) {
      logger.warn('readiness check failed', { err });
      return false;
    }
  }

  // ---- socket lifecycle ------------------------------------------------------------------

  private onOpen(ws: WebSocket<ConnData>): void {
    const conn = ws.getUserData().conn;
    conn.ws = ws;
    this.conns.add(conn);
    this.loginQueue.push(conn);
    this.loginDeadlines.push(Date.now() + this.config.loginTimeoutMs);
    if (this.loginTimer === undefined) this.armLoginTimer();
  }

  private onClose(conn: Conn, code: number, reason: string): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.ws = undefined;
    this.conns.delete(conn);
    conn.takeQueued();
    conn.takePending();
    this.backlogged.delete(conn);
    this.wakeWriters(conn);
    if (conn.registered) this.release(conn);
    if (conn.state === 'ready') this.publishLoginPort(conn, 'logout');
    logger.debug('socket closed', { conn: conn.ref, account: conn.account, code, reason });
  }

  private onDrain(conn: Conn): void {
    // Every drain is progress: the socket is not stalled, and waiting writers re-check their room.
    conn.stalledSweeps = 0;
    this.wakeWriters(conn);
  }

  /**
   * A socket the edge left bytes for that drains nothing for
   * `drainTimeoutMs` (two sweeps in a row) is closed as a slow consumer: a
   * client that does not read is not held open on its buffer, whether or
   * not the bound was reached.
   */
  private sweepBacklog(): void {
    for (const conn of this.backlogged) {
      const ws = conn.ws;
      let buffered = 0;
      if (!conn.closed && ws !== undefined) {
        try {
          buffered = ws.getBufferedAmount();
        } catch {
          // closing
        }
      }
      if (buffered === 0) {
        conn.stalledSweeps = 0;
        this.backlogged.delete(conn);
      } else if (++conn.stalledSweeps >= 2) {
        this.backlogged.delete(conn);
        this.closeSlowConsumer(conn, `drained nothing for ${this.config.drainTimeoutMs} ms`);
      }
    }
  }

  private wakeWriters(conn: Conn): void {
    if (conn.drainWaiters.length === 0) return;
    const waiters = conn.drainWaiters;
    conn.drainWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * The socket's unsent bytes: what uWS holds for it, deliveries held while
   * it logs in, and login-sync pages asked for but not yet written. One
   * number for everything the edge writes, held to `maxBackpressureBytes`.
   */
  private unsentBytes(conn: Conn): number {
    let buffered = 0;
    const ws = conn.ws;
    if (!conn.closed && ws !== undefined) {
      try {
        buffered = ws.getBufferedAmount();
      } catch {
        // closing
      }
    }
    const unsent = buffered + conn.pendingBytes + conn.reservedBytes;
    if (unsent > this.peakUnsent) this.peakUnsent = unsent;
    return unsent;
  }

  /** Closes a socket over the backpressure bound at once, as uWS does for its own writes (clients see 1006). */
  private closeSlowConsumer(conn: Conn, why: string): void {
    if (conn.closed) return;
    logger.info('slow consumer closed', { conn: conn.ref, account: conn.account, why, bound: this.config.maxBackpressureBytes });
    try {
      conn.ws?.close();
    } catch {
      // already closed
    }
  }

  /** After a write: a socket past the bound is closed, whatever wrote to it; one left with a backlog is watched. */
  private checkBound(conn: Conn): void {
    if (conn.closed) return;
    const unsent = this.unsentBytes(conn);
    if (unsent > this.config.maxBackpressureBytes) this.closeSlowConsumer(conn, 'write over the bound');
    else if (unsent > conn.reservedBytes + conn.pendingBytes && !this.backlogged.has(conn)) {
      conn.stalledSweeps = 0;
      this.backlogged.add(conn);
    }
  }

  /** How large the login sync's pages are: a quarter of the slow-consumer bound, or what the Bus carries when that is less. */
  private syncPaging(): SyncPaging {
    const transport = this.bus.maxPayloadBytes - SYNC_PAGE_MARGIN_BYTES;
    const socket = Math.floor(this.config.maxBackpressureBytes / 4);
    return socket < transport ? { bytes: socket, ask: socket } : { bytes: Math.max(1, transport), ask: undefined };
  }

  /**
   * Waits until a page of `bytes` fits in the login sync's share of the
   * socket (three quarters of the bound: the rest stays free for deliveries
   * and replies), then reserves it. The sync thus pulls pages only as the
   * client reads; a client that stops reading is closed by the backlog
   * sweep. False once the socket closed.
   */
  private async reserve(conn: Conn, bytes: number): Promise<boolean> {
    const share = Math.floor((this.config.maxBackpressureBytes * 3) / 4);
    while (!conn.closed && conn.ws !== undefined) {
      const unsent = this.unsentBytes(conn);
      // Nothing buffered and nothing asked for: go, whatever the page's size, so the sync always progresses.
      if (unsent + bytes <= share || unsent === 0) {
        conn.reservedBytes += bytes;
        this.unsentBytes(conn);
        return true;
      }
      // Woken by a drain, by a page of this socket arriving, or by the close.
      await new Promise<void>((resolve) => conn.drainWaiters.push(resolve));
    }
    return false;
  }

  /**
   * Pulls one login-sync page: reserves room for it, fetches it, and hands
   * it to `write` at once (the reservation becomes uWS's buffer in the same
   * turn, so nothing is counted twice or held). Undefined once closed.
   */
  private async pullPage<T>(conn: Conn, bytes: number, fetch: () => Promise<T>, write: (page: T) => void): Promise<{ page: T } | undefined> {
    if (!(await this.reserve(conn, bytes))) return undefined;
    let page: T;
    try {
      page = await fetch();
    } finally {
      conn.reservedBytes -= bytes;
      this.wakeWriters(conn);
    }
    if (conn.closed) return undefined;
    write(page);
    return { page };
  }

  /** Arms the login timer for the oldest socket still waiting for its login; forgets the ones that no longer wait. */
  private armLoginTimer(): void {
    const queue = this.loginQueue;
    while (this.loginHead < queue.length && !awaitsLogin(queue[this.loginHead])) this.loginHead++;
    if (this.loginHead === queue.length) {
      this.loginQueue = [];
      this.loginDeadlines = [];
      this.loginHead = 0;
      return;
    }
    if (this.loginHead >= 1024 && this.loginHead * 2 >= queue.length) {
      this.loginQueue = queue.slice(this.loginHead);
      this.loginDeadlines = this.loginDeadlines.slice(this.loginHead);
      this.loginHead = 0;
    }
    this.loginTimer = setTimeout(this.sweepLogins, Math.max(0, this.loginDeadlines[this.loginHead]! - Date.now()));
  }

  /** Closes every socket whose login deadline passed, then waits for the next deadline. */
  private readonly sweepLogins = (): void => {
    try {
      this.loginTimer = undefined;
      const now = Date.now();
      const queue = this.loginQueue;
      while (this.loginHead < queue.length && this.loginDeadlines[this.loginHead]! <= now) {
        const conn = queue[this.loginHead];
        queue[this.loginHead++] = undefined; // the socket may be gone: let it be collected
        if (awaitsLogin(conn)) this.onLoginTimeout(conn);
      }
      if (!this.stopping) this.armLoginTimer();
    } catch (err) {
      logger.error('login timeout sweep failed', { err });
    }
  };

  private onLoginTimeout(conn: Conn): void {
    const e = new ParleyError('UNAUTHORIZED', `no login within ${this.config.loginTimeoutMs} ms`).toWire();
    this.closeWith(conn, CLOSE_CODES.loginTimeout, 'login timeout', { id: 0, e });
  }

  // ---- frames ----------------------------------------------------------------------------

  private onMessage(conn: Conn, message: ArrayBuffer, isBinary: boolean): void {
    if (conn.closed) return;
    if (!isBinary) {
      this.onMalformed(conn, 0, 'frames must be binary MessagePack, got a text frame');
      return;
    }
    // uWS neuters `message` when the handler returns; decoded binaries may be views of it.
    const bytes = new Uint8Array(message.slice(0));
    let value: unknown;
    try {
      // Strict: no extension types, so nothing but plain values reaches the schemas.
      value = decodeRequest(bytes);
    } catch (err) {
      // A frame the strict decoder refuses carries the `id` it could read; anything else thrown is still the client's bytes.
      if (err instanceof FrameError) this.onMalformed(conn, err.requestId, err.message);
      else this.onMalformed(conn, 0, 'the frame is not exactly one standard MessagePack value');
      return;
    }
    conn.malformed = 0;
    if (!isPlainObject(value)) {
      this.sendFailure(conn, 0, badRequest(`a request must be a map {id, m, a?}, got ${describeValue(value)}`));
      return;
    }
    const { id, m, a } = value;
    if (!isUint(id)) {
      this.sendFailure(conn, 0, badRequest(`\`id\` must be an unsigned integer, got ${describeValue(id)}`));
      return;
    }
    if (typeof m !== 'string' || m === '') {
      this.sendFailure(conn, id, badRequest(`\`m\` must be a method name, got ${describeValue(m)}`));
      return;
    }
    if (a !== undefined && a !== null && !isPlainObject(a)) {
      this.sendFailure(conn, id, badRequest(`\`a\` must be a map of arguments for ${echo(m)}, got ${describeValue(a)}`));
      return;
    }
    this.onRequest(conn, id, m, a);
  }

  private onMalformed(conn: Conn, id: number, message: string): void {
    conn.malformed++;
    const frame = { id, e: badRequest(message).toWire() };
    if (conn.malformed >= 2) this.closeWith(conn, CLOSE_CODES.malformed, 'malformed frames', frame);
    else this.send(conn, frame);
  }

  private onRequest(conn: Conn, id: number, m: string, a: unknown): void {
    switch (conn.state) {
      case 'new':
        if (m !== 'login') {
          this.sendFailure(conn, id, new ParleyError('UNAUTHORIZED', `log in first: ${echo(m)} needs a login, and the first request must be \`login\``));
          return;
        }
        void this.login(conn, id, a).catch((err: unknown) => this.loginCrashed(conn, id, err));
        return;
      case 'login':
        if (m === 'login') {
          this.sendFailure(conn, id, new ParleyError('CONFLICT', 'a login is already in progress on this socket'));
          return;
        }
        if (conn.queued.length >= MAX_IN_FLIGHT_PER_SOCKET) {
          this.sendFailure(conn, id, this.rateLimited());
          return;
        }
        conn.queued.push({ id, m, a });
        return;
      case 'ready':
        if (m === 'login') {
          this.sendFailure(conn, id, new ParleyError('CONFLICT', `this socket is already logged in as ${conn.account}`));
          return;
        }
        this.dispatch(conn, id, m, a);
        return;
    }
  }

  /** Validates, routes and calls the actor; replies when it answers, unless the socket closed meanwhile. */
  private dispatch(conn: Conn, id: number, m: string, a: unknown): void {
    if (conn.closed) return;
    let args: unknown;
    try {
      args = parseRequest(m, a);
    } catch (err) {
      this.sendFailure(conn, id, err);
      return;
    }
    if (m === 'getServerTime') {
      this.send(conn, { id, r: Date.now() });
      return;
    }
    const declaration = declarationOf(m as MethodName);
    const address = routeOf(m as MethodName, conn.account, args);
    if (address === undefined) {
      this.sendFailure(conn, id, badRequest(`method \`${m}\` is not served by this engine`));
      return;
    }
    if (conn.inFlight >= MAX_IN_FLIGHT_PER_SOCKET) {
      this.sendFailure(conn, id, this.rateLimited());
      return;
    }
    if (declaration.retry === 'idClient' && (args as { idClient?: string }).idClient === undefined) {
      // A send held through a handover may reach the actor twice; the idClient makes that harmless.
      (args as { idClient?: string }).idClient = this.nextIdClient();
    }
    conn.inFlight++;
    this.actors.holdRaw(address, m, args, conn.caller, declaration.retry, this.heldOptions(conn)).then(
      (r) => {
        conn.inFlight--;
        this.sendResult(conn, id, r);
      },
      (err: unknown) => {
        conn.inFlight--;
        this.sendFailure(conn, id, err, { m, address });
      },
    );
  }

  /** A fresh idClient: this process's random prefix and a counter, cheaper than 16 random bytes per send. */
  private nextIdClient(): string {
    return `${this.idPrefix}${(++this.idCounter).toString(36)}`;
  }

  private rateLimited(): ParleyError {
    return new ParleyError('RATE_LIMITED', `more than ${MAX_IN_FLIGHT_PER_SOCKET} requests in flight on this socket; wait for replies`);
  }

  /** Actor calls for a socket: held through handovers for up to the request timeout, abandoned when it closes. */
  private heldOptions(conn: Conn): HeldCallOptions {
    return { isOpen: () => !conn.closed && !this.stopping };
  }

  // ---- login -----------------------------------------------------------------------------

  private async login(conn: Conn, id: number, a: unknown): Promise<void> {
    const token = isPlainObject(a) ? a.token : undefined;
    if (typeof token !== 'string' || token === '') {
      this.rejectLogin(conn, id, new ParleyError('UNAUTHORIZED', '`token` is missing'));
      return;
    }
    let args: Args<'login'>;
    try {
      args = parseRequest('login', a);
    } catch (err) {
      // The token is there; the other arguments are wrong. The client may try again.
      this.sendFailure(conn, id, err);
      return;
    }
    conn.state = 'login';
    const deviceId = args.deviceId ?? randomUUID();
    const deviceType = args.deviceType ?? 'web';
    let account: string;
    try {
      ({ account } = await this.verifier.verify(args.token, { deviceId, deviceType, ip: this.remoteAddressOf(conn) }));
    } catch (err) {
      this.rejectLogin(conn, id, err);
      return;
    }
    if (conn.closed) return;

    conn.account = account;
    conn.deviceId = deviceId;
    conn.deviceType = deviceType;
    // Subscribe before replying so nothing published from now on is missed;
    // what arrives before the login reply is buffered in `pending`.
    this.acquire(conn);
    try {
      await this.bus.flush();
    } catch (err) {
      if (conn.closed) return;
      const e = err instanceof ParleyError ? err : new ParleyError('UNAVAILABLE', 'the bus is not reachable; try again', { cause: err });
      this.closeWith(conn, CLOSE_CODES.syncFailed, 'bus unavailable', { id, e: e.toWire() });
      return;
    }
    if (conn.closed || conn.ws === undefined) return;

    // From here on deliveries go straight to the socket, after the reply and what was buffered.
    conn.state = 'ready';
    const ws = conn.ws;
    const reply = encode({ id, r: { account, deviceId: conn.deviceId, serverTime: Date.now() } });
    const pending = conn.takePending();
    ws.cork(() => {
      ws.send(reply, true);
      for (const f of pending) {
        if (conn.closed) break;
        ws.send(f, true);
      }
    });
    this.checkBound(conn);
    if (conn.closed) return;
    logger.debug('login', { conn: conn.ref, account, deviceId: conn.deviceId });

    this.publishLoginPort(conn, 'login');
    for (const q of conn.takeQueued()) this.dispatch(conn, q.id, q.m, q.a);
    await this.sync(conn, args.cursors);
  }

  /** A failed login: UNAUTHORIZED and the socket closes; other failures (verifier unreachable) close with 1011. */
  /** The client's address as the socket shows it; empty once the socket is gone. */
  private remoteAddressOf(conn: Conn): string {
    if (conn.closed || conn.ws === undefined) return '';
    return Buffer.from(conn.ws.getRemoteAddressAsText()).toString();
  }

  private rejectLogin(conn: Conn, id: number, err: unknown): void {
    if (conn.closed) return;
    const unauthorized = err instanceof ParleyError && err.name === 'UNAUTHORIZED';
    const e = err instanceof ParleyError ? err.toWire() : this.internal(err, { step: 'verify token' });
    for (const q of conn.takeQueued()) this.send(conn, { id: q.id, e: new ParleyError('UNAUTHORIZED', 'the login failed').toWire() });
    if (unauthorized) this.closeWith(conn, CLOSE_CODES.unauthorized, 'unauthorized', { id, e });
    else this.closeWith(conn, CLOSE_CODES.syncFailed, 'login failed', { id, e });
  }

  private loginCrashed(conn: Conn, id: number, err: unknown): void {
    try {
      if (conn.closed) return;
      const e = this.internal(err, { step: 'login', conn: conn.ref });
      if (conn.state === 'ready') this.closeWith(conn, CLOSE_CODES.syncFailed, 'login sync failed');
      else this.closeWith(conn, CLOSE_CODES.syncFailed, 'login failed', { id, e });
    } catch (inner) {
      logger.error('login failure handling failed', { err: inner });
    }
  }

  /**
   * Login sync: the user actor says what changed since the device's
   * cursors, a page of sessions at a time; each page goes out as `sessions`
   * (the first always, even empty), then `offlinemsgs` per conversation
   * with new messages — one or more per conversation, in seq order — and
   * after the last page `syncdone`. Pages are bounded by what the Bus
   * carries and by the socket's bound, and pulled only as the client reads.
   * A failure closes the socket (1011) so the client reconnects.
   */
  private async sync(conn: Conn, cursors: unknown): Promise<void> {
    const caller = conn.caller!;
    const account = conn.account;
    const limit = this.config.syncMsgsPerSession;
    const paging = this.syncPaging();
    try {
      const held = this.heldOptions(conn);
      let after: string | undefined;
      for (let first = true; ; first = false) {
        const a: Record<string, unknown> = { deviceId: conn.deviceId, cursors, limit };
        if (paging.ask !== undefined) a.maxBytes = paging.ask;
        if (after !== undefined) a.after = after;
        const pulled = await this.pullPage(
          conn,
          paging.bytes,
          async () => (await this.actors.hold(userAddress(account), 'sync', a, caller, userCalls.sync.retry, held)) as SyncResult | undefined,
          (result) => {
            const sessions = Array.isArray(result?.sessions) ? result.sessions : [];
            if (first || sessions.length > 0) this.send(conn, { ev: 'sessions', d: sessions });
          },
        );
        if (pulled === undefined || conn.closed) return;
        const fetch = Array.isArray(pulled.page?.fetch) ? pulled.page.fetch : [];
        await forEachBounded(fetch, SYNC_CONCURRENCY, (item) => this.syncConversation(conn, item, paging, held));
        if (conn.closed) return;
        const next = pulled.page?.next;
        if (typeof next !== 'string' || next === after) break;
        after = next;
      }
      this.send(conn, { ev: 'syncdone', d: { serverTime: Date.now() } });
    } catch (err) {
      if (conn.closed) return;
      if (err instanceof ParleyError) logger.warn('login sync failed; closing the socket so the client reconnects', { account, conn: conn.ref, err });
      else this.internal(err, { step: 'login sync', account, conn: conn.ref });
      this.closeWith(conn, CLOSE_CODES.syncFailed, 'login sync failed');
    }
  }

  /** One conversation of the login sync: `range` page after page, each sent as `offlinemsgs`, up to `syncMsgsPerSession` messages. */
  private async syncConversation(conn: Conn, item: unknown, paging: SyncPaging, held: HeldCallOptions): Promise<void> {
    if (conn.closed) return;
    if (!isPlainObject(item) || typeof item.address !== 'string' || !isUint(item.fromSeq)) {
      logger.warn('login sync: ignoring a malformed fetch item', { account: conn.account, item });
      return;
    }
    const address = item.address;
    const head = { sessionId: item.sessionId, scene: item.scene, to: item.to };
    let fromSeq = item.fromSeq;
    let left = this.config.syncMsgsPerSession;
    while (left > 0 && !conn.closed) {
      const a: Record<string, unknown> = { viewer: conn.account, fromSeq, limit: left };
      if (paging.ask !== undefined) a.maxBytes = paging.ask;
      const pulled = await this.pullPage(
        conn,
        paging.bytes,
        async () => (await this.actors.hold(address, 'range', a, conn.caller, conversationCalls.range.retry, held)) as RangeResult | undefined,
        (range) => {
          const msgs = Array.isArray(range?.msgs) ? range.msgs : [];
          if (msgs.length > 0) this.send(conn, { ev: 'offlinemsgs', d: { ...head, msgs } });
        },
      );
      if (pulled === undefined) return;
      const count = Array.isArray(pulled.page?.msgs) ? pulled.page.msgs.length : 0;
      const next = pulled.page?.next;
      // Only a page that moved forward may be followed by another.
      if (count === 0 || !isUint(next) || next <= fromSeq) return;
      left -= count;
      fromSeq = next;
    }
  }

  // ---- delivery --------------------------------------------------------------------------

  /** Takes a reference on the account's delivery subscription, subscribing on the bus for the first socket. */
  private acquire(conn: Conn): void {
    const subject = deliverySubject(conn.account);
    const entry = this.accounts.get(subject);
    // A literal of one: an empty array's first push reserves room for 17.
    if (entry === undefined) this.accounts.set(subject, { account: conn.account, sub: this.bus.subscribe(subject, this.onDeliveryMessage), conns: [conn] });
    else entry.conns.push(conn);
    conn.registered = true;
  }

  private release(conn: Conn): void {
    conn.registered = false;
    const subject = deliverySubject(conn.account);
    const entry = this.accounts.get(subject);
    if (entry === undefined) return;
    const at = entry.conns.indexOf(conn);
    if (at !== -1) entry.conns.splice(at, 1);
    if (entry.conns.length === 0) {
      entry.sub.unsubscribe();
      this.accounts.delete(subject);
    }
  }

  /** The one handler of every account's delivery subscription: the subject names the account. */
  private readonly onDeliveryMessage = (msg: BusMessage): void => {
    try {
      const entry = this.accounts.get(msg.subject);
      if (entry !== undefined) this.onDelivery(entry, msg.data);
    } catch (err) {
      logger.error('delivery failed', { subject: msg.subject, err });
    }
  };

  private onDelivery(entry: AccountEntry, data: Uint8Array): void {
    let delivery: Partial<Delivery>;
    try {
      delivery = decode(data) as Partial<Delivery>;
    } catch (err) {
      logger.warn('undecodable delivery', { account: entry.account, err });
      return;
    }
    const f = isPlainObject(delivery) ? delivery.f : undefined;
    if (!(f instanceof Uint8Array)) {
      logger.warn('delivery without a frame', { account: entry.account });
      return;
    }
    // A socket's own request is answered by its reply: the delivery skips it.
    const skip = this.connNumberOf(delivery.x);
    // A send can close its socket at once (backpressure), which takes it out of `entry.conns`.
    for (const conn of entry.conns.length === 1 ? entry.conns : entry.conns.slice()) {
      if (conn.n === skip) continue;
      if (conn.state === 'ready') this.sendBytes(conn, f);
      else this.buffer(conn, f);
    }
  }

  /** The number of this edge's socket that `ref` names, or -1. */
  private connNumberOf(ref: unknown): number {
    if (typeof ref !== 'string' || !ref.startsWith(this.refPrefix)) return -1;
    const n = Number(ref.slice(this.refPrefix.length));
    return Number.isSafeInteger(n) ? n : -1;
  }

  /** Holds a delivery for a socket mid-login; past the backpressure bound it is closed as a slow consumer. */
  private buffer(conn: Conn, f: Uint8Array): void {
    if (conn.closed) return;
    conn.pendingBytes += f.byteLength;
    if (this.unsentBytes(conn) > this.config.maxBackpressureBytes) {
      this.closeSlowConsumer(conn, 'deliveries held during login over the bound');
      return;
    }
    conn.pending.push(f);
  }

  /** Tells the account's other devices that this one logged in or out. */
  private publishLoginPort(conn: Conn, type: 'login' | 'logout'): void {
    try {
      // As the reference SDK's callback: a list of login ports, each saying whether it is online now.
      const port = {
        account: conn.account,
        deviceId: conn.deviceId,
        type: conn.deviceType,
        connectionId: conn.ref,
        time: Date.now(),
        online: type === 'login',
      };
      const f = encode({ ev: 'loginportschange', d: [port] });
      const delivery: Delivery = { x: conn.ref, f };
      this.bus.publish(deliverySubject(conn.account), encode(delivery));
    } catch (err) {
      logger.warn('could not publish loginportschange', { account: conn.account, err });
    }
  }

  // ---- writing ---------------------------------------------------------------------------

  /** Encodes and sends one frame, corked; a no-op once the socket closed. */
  private send(conn: Conn, frame: unknown): void {
    const ws = conn.ws;
    if (conn.closed || ws === undefined) return;
    let bytes: Uint8Array;
    try {
      bytes = encode(frame);
    } catch (err) {
      const e = this.internal(err, { step: 'encode reply', conn: conn.ref });
      const id = isPlainObject(frame) && isUint(frame.id) ? frame.id : 0;
      bytes = encode({ id, e });
    }
    try {
      ws.cork(() => {
        ws.send(bytes, true);
      });
    } catch (err) {
      logger.debug('send on a closing socket', { conn: conn.ref, err });
    }
    this.checkBound(conn);
  }

  /** Sends already encoded bytes, corked; a no-op once the socket closed. */
  private sendBytes(conn: Conn, bytes: Uint8Array): void {
    const ws = conn.ws;
    if (conn.closed || ws === undefined) return;
    try {
      ws.cork(() => {
        ws.send(bytes, true);
      });
    } catch (err) {
      logger.debug('send on a closing socket', { conn: conn.ref, err });
    }    this.checkBound(conn);
  }

  /** Sends `{id, r}` around the actor's already encoded `r`, without decoding it. */
  private sendResult(conn: Conn, id: number, r: Uint8Array | undefined): void {
    const ws = conn.ws;
    if (conn.closed || ws === undefined) return;
    if (r === undefined) {
      this.send(conn, { id });
      return;
    }
    const bytes = encodeMapOfRaw([
      ['id', encode(id)],
      ['r', r],
    ]);
    try {
      ws.cork(() => {
        ws.send(bytes, true);
      });
    } catch (err) {
      logger.debug('send on a closing socket', { conn: conn.ref, err });
    }
    this.checkBound(conn);
  }

  private sendFailure(conn: Conn, id: number, err: unknown, context?: Record<string, unknown>): void {
    const e = err instanceof ParleyError ? err.toWire() : this.internal(err, { conn: conn.ref, ...context });
    this.send(conn, { id, e });
  }

  /** Sends `frame` (if any), then a close frame with `code`; the frame goes out first. */
  private closeWith(conn: Conn, code: number, reason: string, frame?: unknown): void {
    const ws = conn.ws;
    if (conn.closed || ws === undefined) return;
    try {
      const bytes = frame === undefined ? undefined : encode(frame);
      ws.cork(() => {
        if (bytes !== undefined) ws.send(bytes, true);
        if (!conn.closed) ws.end(code, reason);
      });
    } catch (err) {
      logger.debug('close on a closing socket', { conn: conn.ref, err });
    }
  }

  /** Logs an unexpected failure with a correlation id and returns the INTERNAL error that carries it. */
  private internal(err: unknown, context: Record<string, unknown>): WireError {
    const correlationId = randomBytes(6).toString('hex');
    logger.error('internal error', { correlationId, err, ...context });
    return new ParleyError('INTERNAL', `internal error (correlation id ${correlationId})`).toWire();
  }
}

/** True while `conn` is open and not logged in: the login deadline applies. */
function awaitsLogin(conn: Conn | undefined): conn is Conn {
  return conn !== undefined && !conn.closed && conn.state !== 'ready';
}

/** Runs `fn` over `items` with at most `limit` running at once; stops starting new ones after the first failure. */
async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, () => worker());
  const results = await Promise.allSettled(workers);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
