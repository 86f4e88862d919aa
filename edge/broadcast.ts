/**
 * Broadcasts to every online device: the admin API publishes one frame on
 * one subject, and every edge writes it to each of its logged-in sockets.
 * Nothing is stored: a device that is offline never sees it. One Bus
 * message per edge, however many sockets.
 */
import type { Bus, BusSubscription } from '../engine/bus/bus.ts';
import type { Events } from '../engine/protocol/events.ts';
import { encode } from '../engine/protocol/codec.ts';
import { logger } from '../engine/logger.ts';
import type { Sockets } from './connection.ts';
import type { Frames } from './frames.ts';

export const BROADCAST_SUBJECT = 'parley.broadcast';

/** Publishes `msg` to every online device on every edge. */
export function publishBroadcast(bus: Bus, msg: Events['broadcastmsg']): void {
  bus.publish(BROADCAST_SUBJECT, encode({ ev: 'broadcastmsg', d: msg }));
}

/** An edge's part: writes each broadcast frame to its logged-in sockets. */
export class Broadcasts {
  private subscription: BusSubscription | undefined;
  private readonly bus: Bus;
  private readonly sockets: Sockets;
  private readonly frames: Frames;

  constructor(bus: Bus, sockets: Sockets, frames: Frames) {
    this.bus = bus;
    this.sockets = sockets;
    this.frames = frames;
  }

  start(): void {
    this.subscription ??= this.bus.subscribe(BROADCAST_SUBJECT, (m) => {
      try {
        // The frame is encoded once by the publisher; every socket gets the same bytes.
        for (const conn of this.sockets.values()) if (conn.state === 'ready' && !conn.closed) this.frames.sendBytes(conn, m.data);
      } catch (err) {
        logger.error('broadcast not written', { err });
      }
    });
  }

  stop(): void {
    const sub = this.subscription;
    this.subscription = undefined;
    try {
      sub?.unsubscribe();
    } catch (err) {
      // The Bus may be closed already (its subscriptions went with it).
      logger.debug('broadcast subscription already gone', { err });
    }
  }
}
