/**
 * The edge: a stateless uWebSockets.js gateway. It holds client sockets,
 * logs them in, decodes and validates requests, routes each to its actor
 * over the Bus, and fans deliveries out to the account's local sockets.
 *
 * It keeps no durable state: everything it holds (sockets, per-account
 * delivery subscriptions) is rebuilt when clients reconnect.
 *
 * This file is the edge's composition root: it wires its parts — sockets
 * (`connection.ts`), frames and backpressure (`frames.ts`), requests to
 * actors (`dispatch.ts`), logins (`login.ts`), the login sync and its
 * sources (`login-sync.ts`, `sync-sources/`), deliveries (`delivery.ts`)
 * and the HTTP routes (`http.ts`) — and hands uWS's socket events to them.
 *
 * uWS aborts the process when a handler throws, so every handler is wrapped;
 * a socket is never touched after its close handler ran (`Conn.closed`), and
 * writes from outside a uWS callback are corked.
 */
import type { DeadEvents } from '../engine/webhooks/dead-events.ts';
import type { Bus } from '../engine/bus/bus.ts';
import type { Config } from '../engine/config.ts';
import type { TokenVerifier } from '../engine/auth/verifier.ts';
import { logger } from '../engine/logger.ts';
import { Sockets } from './connection.ts';
import type { Conn, ConnData } from './connection.ts';
import { Deliveries } from './delivery.ts';
import { Dispatcher } from './dispatch.ts';
import { CLOSE_CODES, Frames } from './frames.ts';
import { addHttpRoutes } from './http.ts';
import { addAdminRoutes } from './admin-http.ts';
import { ActorClient } from '../engine/actor/call.ts';
import { AdminApi } from '../engine/admin/api.ts';
import { Logins } from './login.ts';
import { LoginSync } from './login-sync.ts';
import { OfflineMessagesSyncSource } from './sync-sources/offline-messages.ts';
import { TeamsSyncSource } from './sync-sources/teams.ts';
import { SuperTeamsSyncSource, TeamIndexReads } from './sync-sources/super-teams.ts';
import { SessionsSyncSource } from './sync-sources/sessions.ts';
import { SignalingSyncSource } from './sync-sources/signaling.ts';
import { EventsSyncSource } from './sync-sources/events.ts';
import { EventFanout } from './events.ts';
import { GroupFanout } from './groups.ts';
import type { GroupStats } from './groups.ts';
import { CustomSysMsgs } from './custom-sysmsgs.ts';
import { AccountStateSyncSource } from './sync-sources/account-state.ts';
import { PeopleSyncSource } from './sync-sources/people.ts';
import { SuperTeamRecallsSyncSource } from './sync-sources/super-team-recalls.ts';
import { loadUws } from './uws.ts';
import { DevicePresence } from './presence.ts';
import { Broadcasts, publishBroadcast } from './broadcast.ts';
import { EdgeHeartbeat } from '../engine/edge-liveness.ts';
import { parseDeviceLimits } from '../actors/presence/logic.ts';
import { hs256RtcTokens } from '../engine/rtc-token.ts';
import type { RtcTokenProvider } from '../engine/rtc-token.ts';
import type { TemplatedApp, Uws, WebSocket, us_listen_socket, us_socket } from './uws.ts';
import type { Metrics } from '../engine/metrics.ts';

export { CLOSE_CODES } from './frames.ts';
export { MAX_IN_FLIGHT_PER_SOCKET } from './dispatch.ts';
export { SYNC_CONCURRENCY } from './sync-sources/sessions.ts';

export interface EdgeOptions {
  /** Listen address, limits and timeouts (`port`, `host`, `maxFrameBytes`, `requestTimeoutMs`, …). */
  config: Config;
  /** Carries requests to actors and deliveries from them. */
  bus: Bus;
  /** Turns a login token into an account. */
  verifier: TokenVerifier;
  /** Signs RTC tokens for `signalingCallEx` and `signalingJoinAndAccept`; default: HS256 with PARLEY_RTC_TOKEN_SECRET, or none. */
  rtcTokens?: RtcTokenProvider;
  /** Extra readiness condition for `/readyz` (e.g. the actor host owns its partitions, the node is not draining). Default: always ready. */
  isReady?: () => boolean;
  /** This node's metrics, served on `/metrics`; absent: nothing is counted and `/metrics` answers 404. */
  metrics?: Metrics;
  /** Where dead webhook events are kept, for the admin API to list and replay; absent: webhooks are off. */
  deadWebhookEvents?: DeadEvents;
}

export class Edge {
  private readonly config: Config;
  private readonly bus: Bus;
  private readonly isReady: () => boolean;
  private uws: Uws | undefined = undefined;
  private app: TemplatedApp | undefined = undefined;
  private listenSocket: us_listen_socket | undefined = undefined;
  private readonly sockets: Sockets;
  private readonly frames: Frames;
  private readonly deliveries: Deliveries;
  private readonly loginSync: LoginSync;
  private readonly logins: Logins;
  private readonly dispatcher: Dispatcher;
  private readonly verifier: TokenVerifier;
  /** Carries requests to actors, retried as each method's declaration allows. */
  private readonly actors: ActorClient;
  /** The admin HTTP API on this edge's port (off without keys). */
  private readonly admin: AdminApi;
  /** Tells the actor nodes this edge instance still holds its sockets. */
  private readonly heartbeat: EdgeHeartbeat;
  private readonly presence: DevicePresence;
  private readonly broadcasts: Broadcasts;
  private readonly customSysMsgs: CustomSysMsgs;
  private readonly events: EventFanout;
  private readonly groups: GroupFanout;
  private readonly metrics: Metrics | undefined;

  constructor(options: EdgeOptions) {
    const { config, bus } = options;
    this.config = config;
    this.bus = bus;
    this.isReady = options.isReady ?? (() => true);
    this.verifier = options.verifier;
    const metrics = options.metrics;
    this.metrics = metrics;
    this.sockets = new Sockets(config);
    this.frames = new Frames(config, metrics);
    this.deliveries = new Deliveries(config, bus, this.sockets, this.frames, metrics);
    this.actors = new ActorClient(bus, { partitions: config.partitions, timeoutMs: config.requestTimeoutMs, metrics });
    this.customSysMsgs = new CustomSysMsgs(bus, this.actors, this.sockets, config.nodeId);
    this.admin = new AdminApi({
      keys: config.adminApiKey.split(',').map((k) => k.trim()),
      ratePerSec: config.adminRatePerSec,
      context: {
        actors: this.actors,
        broadcast: (msg) => publishBroadcast(bus, msg),
        sendCustomSysMsg: (from, a) => this.customSysMsgs.sendAs(from, a),
        ...(options.deadWebhookEvents === undefined ? {} : { deadWebhookEvents: options.deadWebhookEvents }),
        kick: (account, deviceIds, custom) => this.deliveries.publishKick(account, { reason: 'kickedByAdmin', from: 'admin', ...(custom === undefined ? {} : { custom }) }, deviceIds),
      },
    });
    this.broadcasts = new Broadcasts(bus, this.sockets, this.frames);
    this.heartbeat = new EdgeHeartbeat(bus, config.nodeId);
    this.presence = new DevicePresence(this.actors, this.deliveries, () => this.heartbeat.edge, parseDeviceLimits(config.deviceLimits));
    this.loginSync = new LoginSync(config, bus, this.actors, this.sockets, this.frames);
    // What the login sync sends, in order; a feature adds its part here.
    this.groups = new GroupFanout(bus, this.frames, this.sockets, this.deliveries, this.actors, () => this.app, metrics);
    this.deliveries.onGroupsControl = (account, c) => this.groups.apply(account, c);
    this.deliveries.onSessionsFrame = (account, f) => this.groups.noteSessionsFrame(account, f);
    const teamIndex = new TeamIndexReads();
    this.loginSync.register(new SuperTeamsSyncSource(this.groups, teamIndex));
    const limits = { all: config.syncMsgsPerSession, superTeam: config.syncSuperTeamMsgsPerSession };
    this.loginSync.register(new SessionsSyncSource(limits, [new OfflineMessagesSyncSource(limits, this.groups)], (conn, sessions) => this.groups.noteSessions(conn.account, sessions)));
    this.loginSync.register({ name: 'supergroup sessions', sync: (run) => this.groups.endLoginWindow(run.conn, (address, m, a) => run.read(address, m, a, 'idempotent')) });
    this.loginSync.register(new SignalingSyncSource());
    this.events = new EventFanout(bus, this.frames, this.actors, () => this.heartbeat.edge);
    this.deliveries.onEventsControl = (account, c) => this.events.applyDelivered(account, c);
    this.loginSync.register(new EventsSyncSource(this.events));
    this.loginSync.register(new AccountStateSyncSource());
    this.loginSync.register(new SuperTeamRecallsSyncSource(this.groups));
    this.loginSync.register(new PeopleSyncSource());
    this.loginSync.register(new TeamsSyncSource(teamIndex));
    this.logins = new Logins({
      config,
      bus,
      verifier: options.verifier,
      sockets: this.sockets,
      frames: this.frames,
      deliveries: this.deliveries,
      sync: this.loginSync,
      presence: this.presence,
      runQueued: (conn, q) => this.dispatcher.dispatch(conn, q.id, q.m, q.a),
      metrics,
    });
    this.dispatcher = new Dispatcher(
      this.actors,
      this.sockets,
      this.frames,
      this.logins,
      {
        deliveries: this.deliveries,
        customSysMsgs: this.customSysMsgs,
        call: (conn, to, m, a, retry) => this.actors.hold(to, m, a, conn.caller, retry, this.sockets.heldOptions(conn)),
        actors: this.actors,
        rtcTokens: options.rtcTokens ?? (config.rtcTokenSecret === '' ? undefined : hs256RtcTokens(config.rtcTokenSecret)),
        events: this.events,
        groups: this.groups,
      },
      metrics,
    );
    metrics?.watchEdge({
      connectionsByDeviceType: () => {
        const counts = new Map<string, number>();
        for (const conn of this.sockets.values()) {
          const type = conn.state === 'ready' ? conn.deviceType : 'none';
          counts.set(type, (counts.get(type) ?? 0) + 1);
        }
        return counts;
      },
    });
  }

  /** Listens on `config.host:config.port` (0 picks a free port) and resolves with the bound port. */
  async start(): Promise<{ port: number }> {
    if (this.app !== undefined) throw new Error('the edge is already started');
    const uws = loadUws({ allowFallback: this.config.allowUwsFallback });
    const app = uws.App();
    this.uws = uws;
    this.app = app;
    this.sockets.stopping = false;
    this.heartbeat.start();
    this.broadcasts.start();
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
          if (this.sockets.stopping) {
            res.writeStatus('503 Service Unavailable').end('shutting down');
            return;
          }
          const conn = this.sockets.create();
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
          this.frames.onDrain(ws.getUserData().conn);
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
    addHttpRoutes(app, () => this.healthy(), this.metrics);
    this.frames.startSweeping();
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
    this.sockets.stopping = true;
    this.frames.stopSweeping();
    const app = this.app;
    if (this.listenSocket !== undefined) {
      this.uws?.us_listen_socket_close(this.listenSocket);
      this.listenSocket = undefined;
    }
    for (const conn of [...this.sockets.values()]) this.frames.closeWith(conn, CLOSE_CODES.shutdown, 'server shutting down');
    this.deliveries.stop();
    this.logins.stop();
    this.heartbeat.stop();
    this.broadcasts.stop();
    this.events.stop();
    this.groups.stop();
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
    return { connections: this.sockets.size, accounts: this.deliveries.size };
  }

  /** Event fan-out on this edge: publishers subscribed to on the Bus, and subscriber accounts held. */
  eventStats(): { publishers: number; subscribers: number } {
    return this.events.stats();
  }

  /** Supergroup fan-out on this edge: groups subscribed on the Bus, members held, Bus messages received and frames written. */
  groupStats(): GroupStats {
    return this.groups.stats();
  }

  /**
   * The edge's accounting of bytes written to sockets and not yet taken by
   * their clients (uWS's buffers, deliveries held mid-login, login-sync
   * pages asked for): the sum over open sockets now, and the most one
   * socket reached since start. Each socket is held to `maxBackpressureBytes`.
   */
  unsentStats(): { bytes: number; peakBytes: number } {
    let bytes = 0;
    for (const conn of this.sockets.values()) bytes += this.frames.unsentBytes(conn);
    return { bytes, peakBytes: this.frames.peakUnsent };
  }

  /** True when logins can be served: listening, bus connected, a JWT secret set and `isReady()`. */
  private healthy(): boolean {
    if (this.listenSocket === undefined || this.sockets.stopping || !this.bus.connected || this.verifier.enabled === false) return false;
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
    this.sockets.add(conn);
    this.logins.watch(conn);
  }

  private onMessage(conn: Conn, message: ArrayBuffer, isBinary: boolean): void {
    const request = this.frames.read(conn, message, isBinary);
    if (request !== undefined) this.dispatcher.onRequest(conn, request.id, request.m, request.a);
  }

  private onClose(conn: Conn, code: number, reason: string): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.ws = undefined;
    this.sockets.delete(conn);
    conn.takeQueued();
    conn.takePending();
    this.frames.onClose(conn);
    if (conn.registered) this.deliveries.release(conn);
    this.events.detach(conn);
    this.groups.detach(conn);
    if (conn.state === 'ready') {
      this.logins.publishLoginPort(conn, 'logout');
      // A stopping edge's heartbeat says it is gone, for all its sockets at once.
      if (!this.sockets.stopping) this.presence.offline(conn);
      this.metrics?.logouts.inc({ device_type: conn.deviceType });
      logger.info('logout', { conn: conn.ref, account: conn.account, deviceId: conn.deviceId, deviceType: conn.deviceType, code });
    }
    logger.debug('socket closed', { conn: conn.ref, account: conn.account, code, reason });
  }
}
