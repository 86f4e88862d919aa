/**
 * Logging a socket in: the first request must be `login`; its token is
 * verified, the account's delivery subscription taken before the reply (so
 * nothing published from then on is missed), the requests queued meanwhile
 * run, the account's other devices told (`loginportschange`), and the login
 * sync started. A socket that does not log in within `loginTimeoutMs` is
 * closed (4002) by one timer for all of them, armed for the oldest.
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { Bus } from '../engine/bus/bus.ts';
import type { Config } from '../engine/config.ts';
import type { Delivery } from '../engine/envelope.ts';
import type { TokenVerifier } from '../engine/auth/verifier.ts';
import { encode } from '../engine/protocol/codec.ts';
import { ParleyError } from '../engine/protocol/errors.ts';
import { parseRequest } from '../engine/protocol/methods.ts';
import type { Args } from '../engine/protocol/methods.ts';
import { deliverySubject } from '../engine/subjects.ts';
import { logger } from '../engine/logger.ts';
import type { Conn, QueuedRequest, Sockets } from './connection.ts';
import type { Deliveries } from './delivery.ts';
import { CLOSE_CODES } from './frames.ts';
import type { Frames } from './frames.ts';
import type { LoginSync } from './login-sync.ts';
import type { DevicePresence } from './presence.ts';
import { internalError, isPlainObject } from './wire.ts';
import type { Metrics } from '../engine/metrics.ts';
import { correlationId } from '../engine/correlation.ts';

/** What logging in needs from the rest of the edge. */
export interface LoginParts {
  config: Config;
  bus: Bus;
  verifier: TokenVerifier;
  sockets: Sockets;
  frames: Frames;
  deliveries: Deliveries;
  sync: LoginSync;
  /** Records each login with the account's presence actor, which applies the login policy. */
  presence: Pick<DevicePresence, 'online'>;
  /** Runs a request that arrived while the login was being verified, once it succeeded. */
  runQueued: (conn: Conn, request: QueuedRequest) => void;
  /** Counts logins and their failures, when metrics are on. */
  metrics?: Metrics;
}

/** The edge's logins and login deadlines. */
export class Logins {
  private readonly config: Config;
  private readonly bus: Bus;
  private readonly verifier: TokenVerifier;
  private readonly sockets: Sockets;
  private readonly frames: Frames;
  private readonly deliveries: Deliveries;
  private readonly sync: LoginSync;
  private readonly presence: Pick<DevicePresence, 'online'>;
  private readonly runQueued: (conn: Conn, request: QueuedRequest) => void;
  private readonly metrics: Metrics | undefined;
  /**
   * Sockets not logged in yet, in the order they opened, and when each must
   * have logged in (ms). One timer, armed for the oldest, closes the late
   * ones; entries that logged in or closed are skipped when reached.
   */
  private loginQueue: Array<Conn | undefined> = [];
  private loginDeadlines: number[] = [];
  private loginHead = 0;
  private loginTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /**
   * With `kickOnTokenExpiry`: when each logged-in socket's token expires
   * (ms). One interval, running only while a socket is listed, kicks the
   * expired ones; closed ones are dropped when reached.
   */
  private readonly expiries = new Map<Conn, number>();
  private expiryTimer: ReturnType<typeof setInterval> | undefined = undefined;

  constructor(parts: LoginParts) {
    this.config = parts.config;
    this.bus = parts.bus;
    this.verifier = parts.verifier;
    this.sockets = parts.sockets;
    this.frames = parts.frames;
    this.deliveries = parts.deliveries;
    this.sync = parts.sync;
    this.presence = parts.presence;
    this.runQueued = parts.runQueued;
    this.metrics = parts.metrics;
  }

  /** Starts the login deadline of a socket that just opened. */
  watch(conn: Conn): void {
    this.loginQueue.push(conn);
    this.loginDeadlines.push(Date.now() + this.config.loginTimeoutMs);
    if (this.loginTimer === undefined) this.armLoginTimer();
  }

  /** Forgets every deadline (the edge is stopping). */
  stop(): void {
    clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiries.clear();
    clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
    this.loginQueue = [];
    this.loginDeadlines = [];
    this.loginHead = 0;
  }

  /** Lists a logged-in socket whose token expires at `at` (ms), so it is kicked then. */
  private watchExpiry(conn: Conn, at: number | undefined): void {
    if (at === undefined) return;
    this.expiries.set(conn, at);
    if (this.expiryTimer !== undefined) return;
    this.expiryTimer = setInterval(this.sweepExpiries, EXPIRY_SWEEP_MS);
    this.expiryTimer.unref();
  }

  /** Kicks every listed socket whose token has expired: `kicked` with reason `tokenExpired`, then a 4003 close. */
  private readonly sweepExpiries = (): void => {
    try {
      const now = Date.now();
      for (const [conn, at] of this.expiries) {
        if (conn.closed) this.expiries.delete(conn);
        else if (at <= now) {
          this.expiries.delete(conn);
          logger.debug('token expired', { conn: conn.ref, account: conn.account, deviceId: conn.deviceId });
          this.frames.closeWith(conn, CLOSE_CODES.kicked, 'token expired', { ev: 'kicked', d: { reason: 'tokenExpired' } });
        }
      }
      if (this.expiries.size === 0) {
        clearInterval(this.expiryTimer);
        this.expiryTimer = undefined;
      }
    } catch (err) {
      logger.error('token expiry sweep failed', { err });
    }
  };

  /** Logs the socket in with request `id`'s arguments `a`; whatever fails closes it. */
  start(conn: Conn, id: number, a: unknown): void {
    void this.login(conn, id, a).catch((err: unknown) => this.loginCrashed(conn, id, err));
  }

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
      this.frames.sendFailure(conn, id, err);
      return;
    }
    conn.state = 'login';
    const deviceId = args.deviceId ?? randomUUID();
    const deviceType = args.deviceType ?? 'web';
    let account: string;
    let expiresAt: number | undefined;
    try {
      ({ account, expiresAt } = await this.verifier.verify(args.token, { deviceId, deviceType, ip: remoteAddressOf(conn) }));
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
    this.deliveries.acquire(conn);
    try {
      await this.bus.flush();
    } catch (err) {
      if (conn.closed) return;
      const e = err instanceof ParleyError ? err : new ParleyError('UNAVAILABLE', 'the bus is not reachable; try again', { cause: err });
      this.frames.closeWith(conn, CLOSE_CODES.syncFailed, 'bus unavailable', { id, e: e.toWire() });
      return;
    }
    if (conn.closed || conn.ws === undefined) return;

    // From here on deliveries go straight to the socket, after the reply and what was buffered.
    conn.state = 'ready';
    const reply = encode({ id, r: { account, deviceId: conn.deviceId, serverTime: Date.now() } });
    this.frames.sendInOrder(conn, reply, conn.takePending());
    if (conn.closed) return;
    logger.info('login', { cid: correlationId(conn.ref, id), conn: conn.ref, account, deviceId: conn.deviceId, deviceType });
    this.metrics?.logins.inc({ device_type: deviceType });

    this.publishLoginPort(conn, 'login');
    this.presence.online(conn);
    if (this.config.kickOnTokenExpiry) this.watchExpiry(conn, expiresAt ?? jwtExpiryOf(args.token));
    for (const q of conn.takeQueued()) this.runQueued(conn, q);
    await this.sync.run(conn, args.cursors);
  }

  /** A failed login: UNAUTHORIZED and the socket closes; other failures (verifier unreachable) close with 1011. */
  private rejectLogin(conn: Conn, id: number, err: unknown): void {
    if (conn.closed) return;
    const unauthorized = err instanceof ParleyError && err.name === 'UNAUTHORIZED';
    this.metrics?.loginFailures.inc({ error: err instanceof ParleyError ? err.name : 'INTERNAL' });
    logger.info('login refused', { cid: correlationId(conn.ref, id), conn: conn.ref, error: err instanceof ParleyError ? err.name : 'INTERNAL' });
    const e = err instanceof ParleyError ? err.toWire() : internalError(err, { step: 'verify token', conn: conn.ref }, correlationId(conn.ref, id));
    for (const q of conn.takeQueued()) this.frames.send(conn, { id: q.id, e: new ParleyError('UNAUTHORIZED', 'the login failed').toWire() });
    if (unauthorized) this.frames.closeWith(conn, CLOSE_CODES.unauthorized, 'unauthorized', { id, e });
    else this.frames.closeWith(conn, CLOSE_CODES.syncFailed, 'login failed', { id, e });
  }

  private loginCrashed(conn: Conn, id: number, err: unknown): void {
    try {
      if (conn.closed) return;
      const e = internalError(err, { step: 'login', conn: conn.ref }, correlationId(conn.ref, id));
      if (conn.state === 'ready') this.frames.closeWith(conn, CLOSE_CODES.syncFailed, 'login sync failed');
      else this.frames.closeWith(conn, CLOSE_CODES.syncFailed, 'login failed', { id, e });
    } catch (inner) {
      logger.error('login failure handling failed', { err: inner });
    }
  }

  /** Tells the account's other devices that this one logged in or out. */
  publishLoginPort(conn: Conn, type: 'login' | 'logout'): void {
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
      if (!this.sockets.stopping) this.armLoginTimer();
    } catch (err) {
      logger.error('login timeout sweep failed', { err });
    }
  };

  private onLoginTimeout(conn: Conn): void {
    const e = new ParleyError('UNAUTHORIZED', `no login within ${this.config.loginTimeoutMs} ms`).toWire();
    this.frames.closeWith(conn, CLOSE_CODES.loginTimeout, 'login timeout', { id: 0, e });
  }
}

/** True while `conn` is open and not logged in: the login deadline applies. */
function awaitsLogin(conn: Conn | undefined): conn is Conn {
  return conn !== undefined && !conn.closed && conn.state !== 'ready';
}

/** The client's address as the socket shows it; empty once the socket is gone. */
function remoteAddressOf(conn: Conn): string {
  if (conn.closed || conn.ws === undefined) return '';
  return Buffer.from(conn.ws.getRemoteAddressAsText()).toString();
}

/** How often sockets with expiring tokens are checked, ms. */
const EXPIRY_SWEEP_MS = 1000;

/** The `exp` of a JWT (already verified), in ms; undefined when the token is no JWT or has none. */
function jwtExpiryOf(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
