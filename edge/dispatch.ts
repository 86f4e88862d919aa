/**
 * Requests from a socket to actors: what a request may do in each login
 * state (`login` first, requests queued while it is verified), then
 * validating its arguments, routing it to its actor, and calling the actor
 * over the Bus, held through partition handovers and retried as the method's
 * declaration allows; the reply goes back to the socket unless it closed
 * meanwhile. The edge answers its own methods (`getServerTime`, `kick`, and
 * the signaling calls that come with an RTC token) from
 * a table that must cover every method declared as the edge's; an answer
 * may be a promise.
 */
import type { ActorClient, HeldAnswer } from '../engine/actor/call.ts';
import { ParleyError } from '../engine/protocol/errors.ts';
import { echo } from '../engine/protocol/schema.ts';
import { declarationOf, parseRequest, randomIdClient, registry } from '../engine/protocol/methods.ts';
import type { Args, MethodName, Results } from '../engine/protocol/methods.ts';
import type { RetryClass } from '../engine/protocol/registry.ts';
import type { Conn, Sockets } from './connection.ts';
import type { Deliveries } from './delivery.ts';
import type { Frames } from './frames.ts';
import { routeOf } from './routes.ts';
import type { ChannelInfo, RtcToken } from '../engine/protocol/methods/signaling.ts';
import type { RtcTokenProvider, RtcTokenRequest } from '../engine/rtc-token.ts';
import type { EdgeMethodName } from './routes.ts';
import { badRequest } from './wire.ts';
import type { EventFanout } from './events.ts';
import type { GroupFanout } from './groups.ts';
import { EVENT_ANSWERS } from './event-answers.ts';
import type { Metrics } from '../engine/metrics.ts';
import type { CustomSysMsgs } from './custom-sysmsgs.ts';
import { PEOPLE_EDGE_ANSWERS, refuseIfBlocked } from './people.ts';
import { TEAM_EDGE_ANSWERS } from './team-answers.ts';
import type { PeopleServices } from './people.ts';

/** Requests awaiting an actor's reply per socket; more get RATE_LIMITED. */
export const MAX_IN_FLIGHT_PER_SOCKET = 256;

/** What the edge's own answers use. */
export interface EdgeServices extends PeopleServices {
  /** Kicks devices of `account` on every edge (see `Deliveries.publishKick`). */
  readonly deliveries: Pick<Deliveries, 'publishKick'>;
  /** Sends `sendCustomSysMsg` notifications. */
  readonly customSysMsgs: Pick<CustomSysMsgs, 'send'>;
  readonly actors: ActorClient;
  /** Signs RTC tokens; undefined when none is configured. */
  readonly rtcTokens: RtcTokenProvider | undefined;
  /** Event subscriptions' fan-out on this edge. */
  readonly events: EventFanout;
  /** Supergroup fan-out on this edge: it brings supergroup sessions up to date before they are read or reset. */
  readonly groups?: Pick<GroupFanout, 'refreshSessions'>;
}

/** Methods that read or reset sessions: a supergroup's are brought up to date first (no message writes them). */
const SESSION_READS: ReadonlySet<string> = new Set([
  'getServerSessions',
  'getServerSession',
  'resetSessionUnread',
  'resetSessionsUnread',
  'resetAllSessionUnread',
  'resetSuperTeamSessionsUnread',
]);

/** The RTC token provider, or BAD_REQUEST saying how to configure one. */
function rtcTokensOf(services: EdgeServices, m: string): RtcTokenProvider {
  if (services.rtcTokens === undefined) throw new ParleyError('BAD_REQUEST', `${m} answers with an RTC token, and this engine has no token provider: set PARLEY_RTC_TOKEN_SECRET`);
  return services.rtcTokens;
}

/** Runs the channel method `m` for `conn`, held as its declaration allows. */
async function channelCall<M extends 'signalingCall' | 'signalingAccept'>(services: EdgeServices, conn: Conn, m: M, a: Args<M>): Promise<Results[M]> {
  const d = declarationOf(m);
  return (await services.actors.hold(routeOf(m, conn.account, a)!, m, a, conn.caller, d.retry)) as Results[M];
}

/** A token for `conn`'s account in the media room `room` (default: the channel id) of `info`. */
async function withToken<T extends ChannelInfo>(
  provider: RtcTokenProvider,
  conn: Conn,
  info: T,
  rtc: { nertcChannelName?: string | undefined; nertcTokenTtl: number; nertcJoinRoomQueryParamMap?: string | undefined },
): Promise<T & RtcToken> {
  const uid = info.members.find((member) => member.account === conn.account)?.uid ?? 0;
  const room = rtc.nertcChannelName ?? info.channelId;
  const request: RtcTokenRequest = { account: conn.account, uid, channelName: room, ttlSec: rtc.nertcTokenTtl };
  if (rtc.nertcJoinRoomQueryParamMap !== undefined) request.params = rtc.nertcJoinRoomQueryParamMap;
  return { ...info, token: await provider.token(request), nertcChannelName: room, nertcTokenTtl: rtc.nertcTokenTtl };
}

type AnsweredMethod = Exclude<EdgeMethodName, 'login'>;

/** The edge's own answer to each method it serves itself, `login` aside (see `Logins`): one per declared edge method. */
const EDGE_ANSWERS: {
  readonly [M in AnsweredMethod]: (services: EdgeServices, conn: Conn, args: Args<M>) => Results[M] | Promise<Results[M]>;
} = {
  ...PEOPLE_EDGE_ANSWERS,
  ...TEAM_EDGE_ANSWERS,
  getServerTime: () => Date.now(),
  kick: (services, conn, args) => {
    services.deliveries.publishKick(conn.account, { reason: 'kickedByOtherDevice', from: conn.deviceId }, args.deviceIds, conn.deviceId);
    return { deviceIds: args.deviceIds };
  },
  async signalingCallEx(services, conn, args) {
    const provider = rtcTokensOf(services, 'signalingCallEx');
    const { nertcChannelName, nertcTokenTtl, nertcJoinRoomQueryParamMap, ...call } = args;
    const info = await channelCall(services, conn, 'signalingCall', call);
    return withToken(provider, conn, info, { nertcChannelName, nertcTokenTtl, nertcJoinRoomQueryParamMap });
  },
  ...EVENT_ANSWERS,
  async signalingJoinAndAccept(services, conn, args) {
    const provider = rtcTokensOf(services, 'signalingJoinAndAccept');
    const { nertcChannelName, nertcTokenTtl, nertcJoinRoomQueryParamMap, ...accept } = args;
    const info = await channelCall(services, conn, 'signalingAccept', { ...accept, autoJoin: true });
    return withToken(provider, conn, info, { nertcChannelName, nertcTokenTtl, nertcJoinRoomQueryParamMap });
  },
  async sendCustomSysMsg(services, conn, args) {
    // A custom notification does not pass the p2p conversation, which refuses blocked senders: ask the recipient.
    if (args.scene === 'p2p') await refuseIfBlocked(services, conn, args.to);
    return services.customSysMsgs.send(conn, args);
  },
};

/** Starts a socket's login (see `Logins.start`). */
export interface LoginStarter {
  start(conn: Conn, id: number, a: unknown): void;
}

/** Runs each socket's requests. */
export class Dispatcher {
  private readonly actors: ActorClient;
  private readonly sockets: Sockets;
  private readonly frames: Frames;
  private readonly logins: LoginStarter;
  private readonly services: EdgeServices;
  /** Counts requests and their latency, when metrics are on. */
  private readonly metrics: Metrics | undefined;
  /** Prefix of the idClients this edge fills in: random per process, so restarts never reuse one. */
  private readonly idPrefix = `${randomIdClient().slice(0, 16)}-`;
  private idCounter = 0;

  constructor(actors: ActorClient, sockets: Sockets, frames: Frames, logins: LoginStarter, services: EdgeServices, metrics?: Metrics) {
    this.actors = actors;
    this.sockets = sockets;
    this.frames = frames;
    this.logins = logins;
    this.services = services;
    this.metrics = metrics;
  }

  /** A request frame from the socket, in whatever login state it is. */
  onRequest(conn: Conn, id: number, m: string, a: unknown): void {
    switch (conn.state) {
      case 'new':
        if (m !== 'login') {
          this.frames.sendFailure(conn, id, new ParleyError('UNAUTHORIZED', `log in first: ${echo(m)} needs a login, and the first request must be \`login\``));
          return;
        }
        this.logins.start(conn, id, a);
        return;
      case 'login':
        if (m === 'login') {
          this.frames.sendFailure(conn, id, new ParleyError('CONFLICT', 'a login is already in progress on this socket'));
          return;
        }
        if (conn.queued.length >= MAX_IN_FLIGHT_PER_SOCKET) {
          this.frames.sendFailure(conn, id, this.rateLimited());
          return;
        }
        conn.queued.push({ id, m, a });
        return;
      case 'ready':
        if (m === 'login') {
          this.frames.sendFailure(conn, id, new ParleyError('CONFLICT', `this socket is already logged in as ${conn.account}`));
          return;
        }
        this.dispatch(conn, id, m, a);
        return;
    }
  }

  /** Validates, routes and calls the actor; replies when it answers, unless the socket closed meanwhile. */
  dispatch(conn: Conn, id: number, m: string, a: unknown): void {
    if (conn.closed) return;
    const startedMs = this.metrics === undefined ? 0 : performance.now();
    let args: unknown;
    try {
      args = parseRequest(m, a);
    } catch (err) {
      this.failed(conn, id, m, err, startedMs);
      return;
    }
    const declaration = declarationOf(m as MethodName);
    if (declaration.owner === 'edge') {
      this.answer(conn, id, m, args, startedMs);
      return;
    }
    const address = routeOf(m as MethodName, conn.account, args);
    if (address === undefined) {
      this.failed(conn, id, m, badRequest(`method \`${m}\` is not served by this engine`), startedMs);
      return;
    }
    if (conn.inFlight >= MAX_IN_FLIGHT_PER_SOCKET) {
      this.failed(conn, id, m, this.rateLimited(), startedMs);
      return;
    }
    if (declaration.retry === 'idClient' && (args as { idClient?: string }).idClient === undefined) {
      // A send held through a handover may reach the actor twice; the idClient makes that harmless.
      (args as { idClient?: string }).idClient = this.nextIdClient();
    }
    conn.inFlight++;
    this.call(conn, id, m, args, address, declaration.retry, startedMs);
  }

  /** Calls the actor for request `id` and answers it when it answers (`ActorCall`): no promise or closure per request. */
  private call(conn: Conn, id: number, m: string, args: unknown, address: string, retry: RetryClass, startedMs: number): void {
    const call = new ActorCall(this, conn, id, m, address, startedMs);
    const groups = this.services.groups;
    if (groups === undefined || !SESSION_READS.has(m)) {
      this.actors.holdTo(address, m, args, conn.caller, retry, this.sockets.heldOptions(conn, id), call);
      return;
    }
    // A read of supergroup sessions first brings the edge's copies of them to the account's actor.
    groups.refreshSessions(conn).then(
      () => this.actors.holdTo(address, m, args, conn.caller, retry, this.sockets.heldOptions(conn, id), call),
      (err: unknown) => call.failed(err),
    );
  }

  /** The actor answered request `call`. */
  answered(call: ActorCall, r: Uint8Array | undefined): void {
    call.conn.inFlight--;
    this.frames.sendResult(call.conn, call.id, r);
    this.metrics?.request(call.m, undefined, call.startedMs);
  }

  /** Request `call` ended with `err`. */
  callFailed(call: ActorCall, err: unknown): void {
    call.conn.inFlight--;
    this.failed(call.conn, call.id, call.m, err, call.startedMs, { address: call.address });
  }

  /** Answers request `id` with `err`, and counts it under its error's name. */
  private failed(conn: Conn, id: number, m: string, err: unknown, startedMs: number, context: Record<string, unknown> = {}): void {
    this.frames.sendFailure(conn, id, err, { m, ...context });
    // Only declared methods get their own label: a client cannot grow the label set.
    this.metrics?.request(Object.hasOwn(registry, m) ? m : 'unknown', err instanceof ParleyError ? err.name : 'INTERNAL', startedMs);
  }

  /** Answers one of the edge's own methods from `EDGE_ANSWERS`; a promised answer is sent when it settles. */
  private answer(conn: Conn, id: number, m: string, args: unknown, startedMs: number): void {
    const answer = Object.hasOwn(EDGE_ANSWERS, m) ? (EDGE_ANSWERS[m as AnsweredMethod] as (s: EdgeServices, c: Conn, a: unknown) => unknown) : undefined;
    if (answer === undefined) {
      this.failed(conn, id, m, badRequest(`method \`${m}\` is not served by this engine`), startedMs);
      return;
    }
    let r: unknown;
    try {
      r = answer(this.services, conn, args);
    } catch (err) {
      this.failed(conn, id, m, err, startedMs);
      return;
    }
    if (!(r instanceof Promise)) {
      this.frames.send(conn, { id, r });
      this.metrics?.request(m, undefined, startedMs);
      return;
    }
    r.then(
      (value: unknown) => {
        this.frames.send(conn, { id, r: value });
        this.metrics?.request(m, undefined, startedMs);
      },
      (err: unknown) => this.failed(conn, id, m, err, startedMs),
    );
  }

  /** A fresh idClient: this process's random prefix and a counter, cheaper than 16 random bytes per send. */
  private nextIdClient(): string {
    return `${this.idPrefix}${(++this.idCounter).toString(36)}`;
  }

  private rateLimited(): ParleyError {
    return new ParleyError('RATE_LIMITED', `more than ${MAX_IN_FLIGHT_PER_SOCKET} requests in flight on this socket; wait for replies`);
  }
}

/** One client request waiting on its actor: told how the held call ended. */
class ActorCall implements HeldAnswer {
  readonly dispatcher: Dispatcher;
  readonly conn: Conn;
  readonly id: number;
  readonly m: string;
  readonly address: string;
  readonly startedMs: number;

  constructor(dispatcher: Dispatcher, conn: Conn, id: number, m: string, address: string, startedMs: number) {
    this.dispatcher = dispatcher;
    this.conn = conn;
    this.id = id;
    this.m = m;
    this.address = address;
    this.startedMs = startedMs;
  }

  answered(r: Uint8Array | undefined): void {
    this.dispatcher.answered(this, r);
  }

  failed(err: unknown): void {
    this.dispatcher.callFailed(this, err);
  }
}
