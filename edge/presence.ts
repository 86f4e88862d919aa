/**
 * Telling the account's presence actor which devices this edge holds: each
 * login is reported (`online`), and the devices it displaces under the
 * login policy are kicked on every edge with reason `samePlatformKick`;
 * each logged-in socket that closes is reported (`offline`) after its
 * login was, so the two never cross. When the edge stops, its heartbeat
 * says so instead of one report per socket.
 */
import type { DeviceLimit, OnlineArgs, OnlineReply, OfflineArgs } from '../actors/presence/calls.ts';
import { presenceCalls } from '../actors/presence/calls.ts';
import type { ActorClient } from '../engine/actor/call.ts';
import { decode } from '../engine/protocol/codec.ts';
import { presenceAddress } from '../engine/subjects.ts';
import { logger } from '../engine/logger.ts';
import type { Conn } from './connection.ts';
import type { Deliveries } from './delivery.ts';
import { LOGGED_OUT } from './events.ts';

export class DevicePresence {
  private readonly actors: ActorClient;
  private readonly deliveries: Pick<Deliveries, 'publishKick'>;
  /** The edge instance now (fresh at each start of the edge). */
  private readonly edge: () => string;
  private readonly limits: DeviceLimit[];

  constructor(actors: ActorClient, deliveries: Pick<Deliveries, 'publishKick'>, edge: () => string, limits: DeviceLimit[]) {
    this.actors = actors;
    this.deliveries = deliveries;
    this.edge = edge;
    this.limits = limits;
  }

  /** Reports `conn`'s login, then kicks the devices it displaces. */
  online(conn: Conn): void {
    const { account, deviceId } = conn;
    const a: OnlineArgs = {
      device: { deviceId, deviceType: conn.deviceType, edge: this.edge(), conn: conn.ref },
      limits: this.limits,
    };
    conn.presence = this.actors
      .holdRaw(presenceAddress(account), 'online', a, undefined, presenceCalls.online.retry)
      .then((bytes) => {
        const { evict } = decode(bytes!) as OnlineReply;
        if (evict.length === 0) return;
        logger.debug('login displaces devices', { account, deviceId, evict });
        this.deliveries.publishKick(account, { reason: 'samePlatformKick', from: deviceId }, evict, deviceId);
      })
      .catch((err: unknown) => logger.warn('presence: login not recorded', { account, deviceId, err }));
  }

  /** Reports that `conn`, logged in, closed; after its login report settled. */
  offline(conn: Conn): void {
    const login = conn.presence;
    if (login === undefined) return;
    conn.presence = undefined;
    const a: OfflineArgs = { deviceId: conn.deviceId, conn: conn.ref, value: LOGGED_OUT.has(conn) ? 2 : 3 };
    void login
      .then(() => this.actors.holdRaw(presenceAddress(conn.account), 'offline', a, undefined, presenceCalls.offline.retry))
      .catch((err: unknown) => logger.warn('presence: logout not recorded', { account: conn.account, deviceId: conn.deviceId, err }));
  }
}
