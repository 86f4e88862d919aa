/**
 * The edge's part of event subscription: fan-out to local sockets.
 *
 * A publisher's events travel once on its own subject (`eventsSubject`).
 * This edge subscribes to that subject while any account with a socket here
 * holds a live subscription to the publisher, and writes each event (the
 * `pushevents` frame, encoded once by the publisher's actor) to every
 * logged-in socket of those accounts. So one event costs one Bus message
 * per edge holding subscribers, however many subscribers it has.
 *
 * The subscriptions themselves live in the subscriber's presence actor;
 * the edge loads them at login (`EventsSyncSource`) and learns changes made
 * from any device through a control on the account's delivery subject
 * (`EventsControl`). An entry past its lapse time is dropped when an event
 * finds it.
 */
import type { ActorClient } from '../engine/actor/call.ts';
import type { Bus, BusMessage, BusSubscription } from '../engine/bus/bus.ts';
import type { Delivery, EventsControl } from '../engine/envelope.ts';
import { decode, encode } from '../engine/protocol/codec.ts';
import type { PushEvent } from '../engine/protocol/methods/events.ts';
import { deliverySubject, eventAckSubject, presenceAddress } from '../engine/subjects.ts';
import { eventsSubject } from '../actors/presence/events.ts';
import { logger } from '../engine/logger.ts';
import type { Conn } from './connection.ts';
import type { Frames } from './frames.ts';

/** Sockets that asked to log out (`logout`): their close reports status 2, not 3. */
export const LOGGED_OUT = new WeakSet<Conn>();
/** Close code of a socket that logged out. */
export const LOGGED_OUT_CLOSE_CODE = 1000;
/** Most events in one `pushevents` frame. */
export const MAX_EVENTS_PER_FRAME = 100;
/** Publishers read at once when collecting their current events. */
const READ_CONCURRENCY = 8;
/** How long a subscription change waits for the other edges to confirm it, ms. */
const CONFIRM_TIMEOUT_MS = 2000;

interface Publisher {
  readonly publisher: string;
  readonly sub: BusSubscription;
  /** Subscriber accounts with a socket here → when their subscription lapses, ms. */
  readonly watchers: Map<string, number>;
}

interface Subscriber {
  readonly conns: Conn[];
  /** Publishers watched → lapse time, ms. */
  readonly pubs: Map<string, number>;
  /** Login syncs of the account's sockets between reading its subscriptions and attaching them. */
  loading: number;
  /** While `loading`: what changes said since, so a read made before them does not undo them. */
  since: { all: boolean; removed: Set<string>; added: Set<string> } | undefined;
}

/** Reads one actor call's answer (the login sync's `read`, or the edge's own). */
export type ReadCall = (address: string, m: string, a: unknown) => Promise<unknown>;

/** The current events of `pubs` (those meant for offline subscribers, with `atLogin`), read a few publishers at a time. */
export async function currentEvents(read: ReadCall, pubs: readonly string[], atLogin: boolean): Promise<PushEvent[]> {
  const out: PushEvent[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pubs.length) {
      const pub = pubs[next++]!;
      out.push(...((await read(presenceAddress(pub), 'latestEvents', { atLogin })) as PushEvent[]));
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, pubs.length) }, () => worker()));
  return out.sort((a, b) => a.time - b.time);
}

/** `pushevents` frames of at most MAX_EVENTS_PER_FRAME events each. */
export function pushFrames(events: readonly PushEvent[]): Array<{ ev: 'pushevents'; d: { msgEvents: PushEvent[] } }> {
  const frames: Array<{ ev: 'pushevents'; d: { msgEvents: PushEvent[] } }> = [];
  for (let i = 0; i < events.length; i += MAX_EVENTS_PER_FRAME) frames.push({ ev: 'pushevents', d: { msgEvents: events.slice(i, i + MAX_EVENTS_PER_FRAME) } });
  return frames;
}

export class EventFanout {
  private readonly bus: Bus;
  private readonly frames: Frames;
  readonly actors: ActorClient;
  /** This edge's instance id now. */
  private readonly edge: () => string;
  /** Confirmation subjects made so far. */
  private acks = 0;
  /** By the publisher's events subject. */
  private readonly publishers = new Map<string, Publisher>();
  /** By subscriber account with a logged-in socket here. */
  private readonly subscribers = new Map<string, Subscriber>();

  constructor(bus: Bus, frames: Frames, actors: ActorClient, edge: () => string) {
    this.bus = bus;
    this.frames = frames;
    this.actors = actors;
    this.edge = edge;
  }

  /** Publishers subscribed to on the Bus, and subscriber accounts held. */
  stats(): { publishers: number; subscribers: number } {
    return { publishers: this.publishers.size, subscribers: this.subscribers.size };
  }

  /**
   * A socket's login sync is about to read its account's subscriptions:
   * changes arriving from now on apply here, and are remembered until
   * `attach` (or `abandon`) so the read cannot undo them.
   */
  prepare(conn: Conn): void {
    const entry = this.entryOf(conn.account);
    if (entry.loading++ === 0) entry.since = { all: false, removed: new Set(), added: new Set() };
  }

  /** A socket logged in, with its account's live subscriptions as its presence actor held them when `prepare` had been called. */
  attach(conn: Conn, subs: ReadonlyArray<readonly [string, number]>): void {
    const entry = this.entryOf(conn.account);
    const since = entry.since;
    const stale = (pub: string): boolean => since !== undefined && !since.added.has(pub) && (since.all || since.removed.has(pub));
    this.loaded(entry);
    if (!conn.closed && !entry.conns.includes(conn)) entry.conns.push(conn);
    this.apply(conn.account, { add: subs.filter(([p]) => !stale(p)).map(([p, e]) => [p, e]) });
    this.dropIfUnused(conn.account, entry);
  }

  /** The login sync of a `prepare`d socket ended without `attach`. */
  abandon(conn: Conn): void {
    const entry = this.subscribers.get(conn.account);
    if (entry === undefined) return;
    this.loaded(entry);
    this.dropIfUnused(conn.account, entry);
  }

  private entryOf(account: string): Subscriber {
    let entry = this.subscribers.get(account);
    if (entry === undefined) this.subscribers.set(account, (entry = { conns: [], pubs: new Map(), loading: 0, since: undefined }));
    return entry;
  }

  private loaded(entry: Subscriber): void {
    if (entry.loading > 0 && --entry.loading === 0) entry.since = undefined;
  }

  /** An account with no socket here and no login sync under way holds nothing. */
  private dropIfUnused(account: string, entry: Subscriber): void {
    if (entry.conns.length > 0 || entry.loading > 0 || this.subscribers.get(account) !== entry) return;
    for (const pub of [...entry.pubs.keys()]) this.unwatch(pub, account);
    this.subscribers.delete(account);
  }

  /** A socket closed: the last one of its account drops the account's watches. */
  detach(conn: Conn): void {
    const entry = this.subscribers.get(conn.account);
    if (entry === undefined) return;
    const at = entry.conns.indexOf(conn);
    if (at === -1) return;
    entry.conns.splice(at, 1);
    this.dropIfUnused(conn.account, entry);
  }

  /** A change to `account`'s subscriptions, from one of its devices on any edge. */
  apply(account: string, c: EventsControl): void {
    const entry = this.subscribers.get(account);
    if (entry === undefined) return;
    const since = entry.since;
    if (since !== undefined) {
      if (c.all === true) {
        since.all = true;
        since.added.clear();
      }
      for (const pub of c.remove ?? []) {
        since.removed.add(pub);
        since.added.delete(pub);
      }
      for (const [pub] of c.add ?? []) since.added.add(pub);
    }
    if (c.all === true) for (const pub of [...entry.pubs.keys()]) this.unwatch(pub, account);
    for (const pub of c.remove ?? []) this.unwatch(pub, account);
    for (const [pub, expireAt] of c.add ?? []) this.watch(pub, account, expireAt);
  }

  /** A change from the account's delivery subject: applied, then confirmed where asked once this edge's new subscriptions are in place. */
  applyDelivered(account: string, c: EventsControl): void {
    this.apply(account, c);
    const ack = c.ack;
    if (ack === undefined) return;
    const edge = encode(this.edge());
    this.bus.flush().then(() => this.bus.publish(ack, edge), (err: unknown) => logger.warn('cannot confirm an event subscription change', { err }));
  }

  /** Tells every edge holding sockets of `account` (this one first) about a change to its subscriptions. */
  publishControl(account: string, c: EventsControl): void {
    this.apply(account, c);
    const delivery: Delivery = { f: new Uint8Array(0), c: { events: c } };
    this.bus.publish(deliverySubject(account), encode(delivery));
  }

  /**
   * `publishControl`, resolving once each of `edges` (the live edge
   * instances holding the account's devices, as its presence actor knows
   * them) confirmed it applied the change, or after `timeoutMs`: an event
   * published after that reaches the account's devices on every edge.
   */
  async publishControlConfirmed(account: string, c: EventsControl, edges: readonly string[], timeoutMs = CONFIRM_TIMEOUT_MS): Promise<void> {
    const self = this.edge();
    const waiting = new Set(edges.filter((e) => e !== self));
    if (waiting.size === 0) {
      this.publishControl(account, c);
      await this.bus.flush();
      return;
    }
    const subject = eventAckSubject(self, ++this.acks);
    let sub: BusSubscription | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve) => {
        sub = this.bus.subscribe(subject, (msg) => {
          try {
            waiting.delete(decode(msg.data) as string);
          } catch {
            return;
          }
          if (waiting.size === 0) resolve();
        });
        timer = setTimeout(() => {
          logger.warn('event subscription change not confirmed by every edge in time', { account, edges: [...waiting], timeoutMs });
          resolve();
        }, timeoutMs);
        // Once the confirmation subscription is in place: no edge can answer before it.
        this.bus.flush().then(() => this.publishControl(account, { ...c, ack: subject }), () => resolve());
      });
    } finally {
      clearTimeout(timer);
      sub?.unsubscribe();
    }
  }

  /** Resolves once the Bus subscriptions made so far are in place (an event published after it reaches this edge). */
  flush(): Promise<void> {
    return this.bus.flush();
  }

  /** Sends `events` to one socket. */
  push(conn: Conn, events: readonly PushEvent[]): void {
    for (const frame of pushFrames(events)) this.frames.send(conn, frame);
  }

  /** Closes a socket that logged out, once its answer is written. */
  closeLoggedOut(conn: Conn): void {
    LOGGED_OUT.add(conn);
    // `kicked` with reason `logout` tells the SDK the close is final: it does not reconnect.
    setImmediate(() => {
      if (!conn.closed) this.frames.closeWith(conn, LOGGED_OUT_CLOSE_CODE, 'logged out', { ev: 'kicked', d: { reason: 'logout' } });
    });
  }

  /** Drops every Bus subscription (the edge is stopping). */
  stop(): void {
    for (const p of this.publishers.values()) p.sub.unsubscribe();
    this.publishers.clear();
    this.subscribers.clear();
  }

  private watch(pub: string, account: string, expireAt: number): void {
    const entry = this.subscribers.get(account);
    if (entry === undefined || expireAt <= Date.now()) return;
    entry.pubs.set(pub, expireAt);
    const subject = eventsSubject(pub);
    let p = this.publishers.get(subject);
    if (p === undefined) this.publishers.set(subject, (p = { publisher: pub, sub: this.bus.subscribe(subject, this.onEvent), watchers: new Map() }));
    p.watchers.set(account, expireAt);
  }

  private unwatch(pub: string, account: string): void {
    this.subscribers.get(account)?.pubs.delete(pub);
    const subject = eventsSubject(pub);
    const p = this.publishers.get(subject);
    if (p === undefined) return;
    p.watchers.delete(account);
    if (p.watchers.size === 0) {
      p.sub.unsubscribe();
      this.publishers.delete(subject);
    }
  }

  /** One handler for every publisher's subject: the frame goes as it came to each watcher's logged-in sockets. */
  private readonly onEvent = (msg: BusMessage): void => {
    try {
      const p = this.publishers.get(msg.subject);
      if (p === undefined) return;
      const now = Date.now();
      for (const [account, expireAt] of [...p.watchers]) {
        if (expireAt <= now) {
          this.unwatch(p.publisher, account);
          continue;
        }
        const entry = this.subscribers.get(account);
        if (entry === undefined) continue;
        for (const conn of entry.conns.slice()) if (conn.state === 'ready' && !conn.closed) this.frames.sendBytes(conn, msg.data);
      }
    } catch (err) {
      logger.error('event fan-out failed', { subject: msg.subject, err });
    }
  };
}
