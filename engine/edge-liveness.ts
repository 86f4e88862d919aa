/**
 * Which edge instances still answer. Every edge publishes a heartbeat on
 * one subject; every actor node listens and keeps when it last heard each
 * edge. What an edge reported (its logged-in devices) counts only while the
 * edge is heard: an edge killed with its sockets stops counting within
 * `EDGE_SILENCE_MS`. An edge that stops cleanly says so and stops counting
 * at once.
 *
 * An edge instance is a node id plus a random suffix, fresh at each start,
 * so an edge restarted under the same node id never vouches for the sockets
 * of its previous life.
 */
import { randomBytes } from 'node:crypto';
import type { Bus, BusSubscription } from './bus/bus.ts';
import { decode, encode } from './protocol/codec.ts';
import { logger } from './logger.ts';

export const EDGE_ALIVE_SUBJECT = 'parley.edges.alive';
/** How often an edge says it is alive, ms. */
export const EDGE_HEARTBEAT_MS = 2000;
/** An edge unheard for this long is gone, ms: three heartbeats and some slack. */
export const EDGE_SILENCE_MS = 3 * EDGE_HEARTBEAT_MS + 1000;

interface Heartbeat {
  edge: string;
  /** Set in the last heartbeat of an edge that stops. */
  gone?: boolean;
}

/** A fresh instance id for an edge starting as node `nodeId`. */
export function edgeInstanceId(nodeId: string): string {
  return `${nodeId}~${randomBytes(4).toString('hex')}`;
}

/**
 * An edge's heartbeat: published at once, then every EDGE_HEARTBEAT_MS
 * until `stop`. Each start is a fresh instance (`edge`).
 */
export class EdgeHeartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly bus: Bus;
  private readonly nodeId: string;
  /** The instance id of the current start. */
  edge: string;

  constructor(bus: Bus, nodeId: string) {
    this.bus = bus;
    this.nodeId = nodeId;
    this.edge = edgeInstanceId(nodeId);
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.edge = edgeInstanceId(this.nodeId);
    this.beat();
    this.timer = setInterval(() => this.beat(), EDGE_HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Stops beating and tells the listeners this edge is gone. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.beat(true);
  }

  private beat(gone = false): void {
    try {
      const hb: Heartbeat = gone ? { edge: this.edge, gone } : { edge: this.edge };
      this.bus.publish(EDGE_ALIVE_SUBJECT, encode(hb));
    } catch (err) {
      logger.warn('edge heartbeat not sent', { err });
    }
  }
}

/** What an actor node knows of the edges' heartbeats. */
export class EdgeLiveness {
  private readonly heard = new Map<string, number>();
  private readonly gone = new Set<string>();
  private subscription: BusSubscription | undefined;
  private readonly startedAt: number;
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
    this.startedAt = now();
  }

  /** Listens to the edges' heartbeats on `bus`. */
  listen(bus: Bus): void {
    this.subscription = bus.subscribe(EDGE_ALIVE_SUBJECT, (msg) => {
      try {
        const hb = decode(msg.data) as Partial<Heartbeat>;
        if (typeof hb.edge === 'string') this.record(hb.edge, hb.gone === true);
      } catch (err) {
        logger.warn('bad edge heartbeat', { err });
      }
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  record(edge: string, gone: boolean): void {
    if (gone) {
      this.gone.add(edge);
      this.heard.delete(edge);
    } else if (!this.gone.has(edge)) this.heard.set(edge, this.now());
  }

  /**
   * Whether `edge` answers: heard within EDGE_SILENCE_MS. An edge not heard
   * since this node started listening is given the benefit of the doubt for
   * that long, since its heartbeats may simply not have arrived yet.
   */
  readonly isAlive = (edge: string): boolean => {
    if (this.gone.has(edge)) return false;
    const now = this.now();
    const at = this.heard.get(edge);
    if (at === undefined) return now - this.startedAt < EDGE_SILENCE_MS;
    return now - at < EDGE_SILENCE_MS;
  };
}
