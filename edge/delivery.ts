/**
 * Deliveries to this edge's sockets. Each account with a socket here has
 * one entry holding its delivery subscription on the Bus, shared by its
 * sockets (usually one) and dropped with the last of them; a delivery goes
 * to every logged-in socket of the account except the one whose own request
 * caused it, and is held for a socket still logging in.
 *
 * One handler serves every account's subscription (the subject names the
 * account), so an account costs its entry and no closure.
 *
 * A kick travels on the same subject as a control message (`Delivery.c`),
 * so it reaches every edge holding a socket of the account: each sends the
 * named devices' sockets the `kicked` frame and closes them (4003).
 */
import type { Bus, BusMessage, BusSubscription } from '../engine/bus/bus.ts';
import type { Config } from '../engine/config.ts';
import type { Delivery, EventsControl, GroupsControl, KickControl } from '../engine/envelope.ts';
import type { Kicked } from '../engine/protocol/events.ts';
import { decode, encode } from '../engine/protocol/codec.ts';
import { deliverySubject } from '../engine/subjects.ts';
import { logger } from '../engine/logger.ts';
import type { Conn, Sockets } from './connection.ts';
import { CLOSE_CODES } from './frames.ts';
import type { Frames } from './frames.ts';
import { isPlainObject } from './wire.ts';
import { isUpdateSessions } from './groups.ts';
import type { Metrics } from '../engine/metrics.ts';

const NO_CONNS: readonly Conn[] = Object.freeze([]) as readonly Conn[];

/** A delivery of the usual shape: its frame, and the socket whose own request caused it. */
export interface PlainDelivery {
  /** The frame, a view of the delivery's bytes. */
  readonly f: Uint8Array;
  /** `Delivery.x`: the ref of the socket to skip, if any. */
  readonly x: string | undefined;
}

const KEY_F = 0x66;
const KEY_X = 0x78;
const utf8 = new TextDecoder();

/**
 * Reads a delivery of the usual shape, a map of `f` (bin) and at most `x`
 * (str), without the general decoder; undefined for any other bytes (a
 * control message, or anything malformed), which `decode` then reads.
 */
export function readPlainDelivery(data: Uint8Array): PlainDelivery | undefined {
  const n = data.length > 0 ? data[0]! - 0x80 : -1;
  if (n < 1 || n > 2) return undefined;
  let f: Uint8Array | undefined;
  let x: string | undefined;
  let at = 1;
  for (let i = 0; i < n; i++) {
    // A key (a fixstr of one character) and the value's first byte.
    if (at + 3 > data.length || data[at] !== 0xa1) return undefined;
    const key = data[at + 1];
    const token = data[at + 2]!;
    at += 3;
    // The value's length takes up to 4 more bytes; reading past the end leaves `at` past it, refused below.
    let length: number;
    if (key === KEY_F && f === undefined) {
      if (token === 0xc4) length = data[at++]!;
      else if (token === 0xc5) {
        length = (data[at]! << 8) | data[at + 1]!;
        at += 2;
      } else if (token === 0xc6) {
        length = data[at]! * 0x1000000 + ((data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!);
        at += 4;
      } else return undefined;
      if (!(at + length <= data.length)) return undefined;
      f = data.subarray(at, at + length);
    } else if (key === KEY_X && x === undefined) {
      if (token >= 0xa0 && token <= 0xbf) length = token - 0xa0;
      else if (token === 0xd9) length = data[at++]!;
      else return undefined;
      if (!(at + length <= data.length)) return undefined;
      x = utf8.decode(data.subarray(at, at + length));
    } else return undefined;
    at += length;
  }
  if (f === undefined || at !== data.length) return undefined;
  return { f, x };
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

/** The edge's delivery subscriptions, by account, and the fan-out to local sockets. */
export class Deliveries {
  private readonly config: Config;
  private readonly bus: Bus;
  private readonly sockets: Sockets;
  private readonly frames: Frames;
  /** Hears changes to an account's event subscriptions (set by the edge's `EventFanout`). */
  onEventsControl: ((account: string, c: EventsControl) => void) | undefined;
  /** Hears changes to an account's supergroups (set by the edge's `GroupFanout`). */
  onGroupsControl: ((account: string, c: GroupsControl) => void) | undefined;
  /** Hears each `updatesessions` frame delivered to an account (set by the edge's `GroupFanout`, which keeps supergroup sessions). */
  onSessionsFrame: ((account: string, f: Uint8Array) => void) | undefined;
  /** Accounts with a socket on this edge, by delivery subject. */
  private readonly accounts = new Map<string, AccountEntry>();

  /** Counts deliveries, when metrics are on. */
  private readonly metrics: Metrics | undefined;

  constructor(config: Config, bus: Bus, sockets: Sockets, frames: Frames, metrics?: Metrics) {
    this.config = config;
    this.bus = bus;
    this.sockets = sockets;
    this.frames = frames;
    this.metrics = metrics;
  }

  /** Accounts with a delivery subscription. */
  get size(): number {
    return this.accounts.size;
  }

  /** The account's sockets holding a reference here (logged in or logging in), live: copy before closing any. */
  connsOf(account: string): readonly Conn[] {
    return this.accounts.get(deliverySubject(account))?.conns ?? NO_CONNS;
  }

  /** Takes a reference on the account's delivery subscription, subscribing on the bus for the first socket. */
  acquire(conn: Conn): void {
    const subject = deliverySubject(conn.account);
    const entry = this.accounts.get(subject);
    // A literal of one: an empty array's first push reserves room for 17.
    if (entry === undefined) this.accounts.set(subject, { account: conn.account, sub: this.bus.subscribe(subject, this.onDeliveryMessage), conns: [conn] });
    else entry.conns.push(conn);
    conn.registered = true;
  }

  /** Drops the socket's reference; the last one unsubscribes. */
  release(conn: Conn): void {
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

  /**
   * Kicks `account`'s sockets of `deviceIds` (all of them when absent),
   * sparing device `spare`, on every edge: each is sent `kicked` and closed.
   */
  publishKick(account: string, kicked: Kicked, deviceIds: readonly string[] | undefined, spare?: string): void {
    const kick: KickControl = {};
    if (deviceIds !== undefined) kick.deviceIds = [...deviceIds];
    if (spare !== undefined) kick.spare = spare;
    const delivery: Delivery = { f: encode({ ev: 'kicked', d: kicked }), c: { kick } };
    this.bus.publish(deliverySubject(account), encode(delivery));
  }

  /** Unsubscribes every account (the edge is stopping). */
  stop(): void {
    for (const entry of this.accounts.values()) entry.sub.unsubscribe();
    this.accounts.clear();
  }

  /** The one handler of every account's delivery subscription: the subject names the account. */
  private readonly onDeliveryMessage = (msg: BusMessage): void => {
    try {
      const entry = this.accounts.get(msg.subject);
      if (this.metrics !== undefined) this.metrics.deliveryBusMessages++;
      if (entry !== undefined) this.onDelivery(entry, msg.data);
    } catch (err) {
      logger.error('delivery failed', { subject: msg.subject, err });
    }
  };

  private onDelivery(entry: AccountEntry, data: Uint8Array): void {
    const plain = readPlainDelivery(data);
    if (plain !== undefined && this.onSessionsFrame !== undefined && isUpdateSessions(plain.f)) this.onSessionsFrame(entry.account, plain.f);
    if (plain !== undefined) this.fanOut(entry, plain.f, plain.x);
    else this.onOtherDelivery(entry, data);
  }

  /** A delivery read by the general decoder: a control message, or a frame with its skip ref. */
  private onOtherDelivery(entry: AccountEntry, data: Uint8Array): void {
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
    if (isPlainObject(delivery.c)) {
      const kick = delivery.c.kick;
      if (isPlainObject(kick)) this.onKick(entry, kick as Partial<KickControl>, f);
      const events = delivery.c.events;
      if (isPlainObject(events)) this.onEventsControl?.(entry.account, events as EventsControl);
      const groups = delivery.c.groups;
      if (isPlainObject(groups)) this.onGroupsControl?.(entry.account, groups as GroupsControl);
      return;
    }
    this.fanOut(entry, f, delivery.x);
  }

  /** Sends frame `f` to the account's logged-in sockets (held for those logging in), but the one `x` names. */
  private fanOut(entry: AccountEntry, f: Uint8Array, x: unknown): void {
    // A socket's own request is answered by its reply: the delivery skips it.
    const skip = this.sockets.numberOf(x);
    // A send can close its socket at once (backpressure), which takes it out of `entry.conns`.
    for (const conn of entry.conns.length === 1 ? entry.conns : entry.conns.slice()) {
      if (conn.n === skip) continue;
      if (conn.state === 'ready') this.frames.sendBytes(conn, f);
      else this.buffer(conn, f);
      if (this.metrics !== undefined) this.metrics.deliveries++;
    }
  }

  /** Sends the `kicked` frame `f` to the account's sockets the kick names, and closes them. */
  private onKick(entry: AccountEntry, kick: Partial<KickControl>, f: Uint8Array): void {
    const named = Array.isArray(kick.deviceIds) ? new Set(kick.deviceIds) : undefined;
    // Closing takes a socket out of `entry.conns`.
    for (const conn of entry.conns.slice()) {
      if (conn.deviceId === kick.spare || (named !== undefined && !named.has(conn.deviceId))) continue;
      logger.debug('kicked', { conn: conn.ref, account: entry.account, deviceId: conn.deviceId });
      this.frames.sendBytes(conn, f);
      this.frames.closeWith(conn, CLOSE_CODES.kicked, 'kicked');
    }
  }

  /** Holds a delivery for a socket mid-login; past the backpressure bound it is closed as a slow consumer. */
  private buffer(conn: Conn, f: Uint8Array): void {
    if (conn.closed) return;
    conn.pendingBytes += f.byteLength;
    if (this.frames.unsentBytes(conn) > this.config.maxBackpressureBytes) {
      this.frames.closeSlowConsumer(conn, 'deliveries held during login over the bound');
      return;
    }
    conn.pending.push(f);
  }
}
