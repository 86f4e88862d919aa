/**
 * Bus over NATS core. Subjects, wildcards and queue groups are NATS's own.
 *
 * Requests share one wildcard reply subscription (`<inbox>.*`) and a map of
 * pending requests keyed by the last token, so a request costs one publish
 * and one map entry; one timer serves every request's timeout
 * (`PendingRequests`). While the connection is down nothing is
 * buffered: requests fail at once with UNAVAILABLE, requests in flight when
 * the link drops fail with UNAVAILABLE (their outcome is unknown), and
 * publishes are dropped (fire-and-forget is at-most-once anyway).
 *
 * Requests and publishes of one tick are handed to the client together when
 * the tick ends (in order), so they leave in one socket write: the client
 * writes on the microtask after its first pending message, which is one
 * write per request when requests come one per socket callback, as an
 * edge's do. A bad subject or an oversized payload still throws (or
 * rejects) at once.
 *
 * Ownership of bytes: `publish`/`request` hand `data` to the client at the
 * end of the tick, which writes it to the socket on the next microtask — do
 * not modify it after the call. A received `data` is a view into the socket's read buffer: decode it,
 * or copy it (`slice()`) before keeping it for long.
 */
import { NatsLink, inboxNumber } from './nats-link.ts';
import { connect, createInbox, InvalidArgumentError, InvalidSubjectError } from '@nats-io/transport-node';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Bus, ReplyWaiter, BusMessage, BusSubscription, RequestOptions, SubscribeOptions } from './bus.ts';
import { ParleyError } from '../protocol/errors.ts';
import { logger } from '../logger.ts';
import { PendingRequest, PendingRequests } from './pending-requests.ts';

export interface NatsBusOptions {
  /** Drain and close the connection when the bus closes. Default false (the caller owns it); `NatsBus.connect` sets it. */
  ownsConnection?: boolean;
}

/** Connection settings for Parley processes: reconnect forever, quickly, and notice a dead server within ~30 s. */
export interface NatsConnectOptions {
  /** Pause between reconnect attempts to one server, ms. Default 250. */
  reconnectTimeWaitMs?: number;
  /** Client ping interval, ms; `maxPingOut` (3) unanswered pings mark the connection stale. Default 10000. */
  pingIntervalMs?: number;
}

/**
 * Connects to NATS with unlimited reconnects and logs every status change.
 * `urls` is a comma-separated list (`nats://a:4222,nats://b:4222`); `name`
 * identifies the client in the server's monitoring.
 */
export async function connectNats(urls: string, name: string, options: NatsConnectOptions = {}): Promise<NatsConnection> {
  const servers = urls
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (servers.length === 0) throw new ParleyError('BAD_REQUEST', 'no NATS server URL given');
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectTimeWaitMs ?? 250,
      reconnectJitter: 100,
      pingInterval: options.pingIntervalMs ?? 10_000,
      maxPingOut: 3,
    });
  } catch (err) {
    throw new ParleyError('UNAVAILABLE', `cannot connect to NATS at ${servers.join(',')}`, { cause: err });
  }
  logger.info('nats connected', { name, server: nc.getServer() });
  void logStatus(nc, name);
  return nc;
}

async function logStatus(nc: NatsConnection, name: string): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case 'disconnect':
        logger.warn('nats disconnected', { name, server: s.server });
        break;
      case 'reconnect':
        logger.info('nats reconnected', { name, server: s.server });
        break;
      case 'reconnecting':
        logger.debug('nats reconnecting', { name });
        break;
      case 'staleConnection':
        logger.warn('nats connection stale', { name });
        break;
      case 'error':
        logger.error('nats error', { name, err: s.error });
        break;
      case 'ldm':
        logger.warn('nats server entering lame duck mode', { name, server: s.server });
        break;
      case 'slowConsumer':
        logger.warn('nats slow consumer', { name, subject: s.sub.getSubject(), pending: s.pending });
        break;
      case 'update':
        logger.debug('nats cluster update', { name, added: s.added, deleted: s.deleted });
        break;
      case 'close':
        logger.info('nats connection closed', { name });
        break;
      default:
        break;
    }
  }
}

/** Wraps a received message lazily: nothing is decoded unless the handler reads it. */
class NatsBusMessage implements BusMessage {
  private readonly msg: Msg;
  private readonly bus: NatsBus;

  constructor(msg: Msg, bus: NatsBus) {
    this.msg = msg;
    this.bus = bus;
  }

  get subject(): string {
    return this.msg.subject;
  }

  get data(): Uint8Array {
    return this.msg.data;
  }

  get reply(): string | undefined {
    const reply = this.msg.reply;
    return reply === undefined || reply === '' ? undefined : reply;
  }

  respond(data: Uint8Array): void {
    const reply = this.reply;
    if (reply !== undefined) this.bus.respondTo(reply, this.msg.subject, data);
  }
}

/**
 * What a failed publish means: a bad subject is BAD_REQUEST, a payload over
 * the server's `max_payload` (1 MiB by default) is TOO_LARGE, anything else
 * (closed, draining) is UNAVAILABLE.
 */
export function publishError(err: unknown, subject: string, what: string): ParleyError {
  if (err instanceof InvalidSubjectError) return new ParleyError('BAD_REQUEST', `invalid subject '${subject}'`, { cause: err });
  if (err instanceof InvalidArgumentError) return new ParleyError('TOO_LARGE', `${what} on ${subject} refused: ${err.message}`, { cause: err });
  return new ParleyError('UNAVAILABLE', `${what} on ${subject} not sent`, { cause: err });
}

/** A subscription callback that hands each message to `handler`, lazily wrapped; shared by the subscriptions with that handler. */
function deliverTo(handler: (msg: BusMessage) => void, bus: NatsBus): (err: Error | null, msg: Msg) => void {
  return (err, msg) => {
    if (err !== null) {
      logger.error('bus subscription failed', { subject: msg?.subject, err });
      return;
    }
    try {
      handler(new NatsBusMessage(msg, bus));
    } catch (handlerErr) {
      // A subscriber's bug must not stop delivery, nor reach the client's parser.
      logger.error('bus subscriber failed', { subject: msg.subject, err: handlerErr });
    }
  };
}

/** The handle of one subscription: a class, so that it costs one object and no closures (an edge holds one per online account). */
class NatsBusSubscription implements BusSubscription {
  readonly subject: string;
  private readonly sub: Subscription;
  /** The bus's live subscriptions, which this one leaves when it ends. */
  private readonly live: Set<Subscription>;
  private readonly bus: NatsBus;

  constructor(subject: string, sub: Subscription, live: Set<Subscription>, bus: NatsBus) {
    this.subject = subject;
    this.sub = sub;
    this.live = live;
    this.bus = bus;
  }

  unsubscribe(): void {
    if (!this.live.delete(this.sub)) return;
    if (!this.sub.isClosed()) this.sub.unsubscribe();
  }

  async drain(): Promise<void> {
    if (!this.live.delete(this.sub) || this.sub.isClosed()) return;
    // What this bus published before the drain reaches the server ahead of the unsubscribe.
    this.bus.sendQueued();
    try {
      await this.sub.drain();
    } catch {
      // The connection went away: nothing more can arrive.
      if (!this.sub.isClosed()) this.sub.unsubscribe();
    }
  }
}

/** What nats.js refuses in a subject (besides an empty one). */
const WHITESPACE = /[ \n\r\t]/;

function isNoResponders(msg: Msg): boolean {
  return msg.data.length === 0 && msg.headers?.code === 503;
}


export class NatsBus implements Bus {
  private readonly nc: NatsConnection;
  private readonly ownsConnection: boolean;
  /** `_INBOX.<nuid>.`: a request's reply subject is this plus its number. */
  private readonly replyPrefix: string;
  private readonly replySub: Subscription;
  private readonly pending = new PendingRequests();
  private readonly subs = new Set<Subscription>();
  /** One callback per handler: an edge subscribes every account with the same handler. */
  private readonly callbacks = new WeakMap<(msg: BusMessage) => void, (err: Error | null, msg: Msg) => void>();
  private nextId = 0;
  private readonly link: NatsLink;
  private closed = false;
  /** Messages of this tick not yet handed to the client, in order: subject, bytes, and the request id (0 for a publish). */
  private outSubjects: string[] = [];
  private outData: Uint8Array[] = [];
  private outIds: number[] = [];
  private sendScheduled = false;
  private readonly sendNow = (): void => this.sendQueued();

  constructor(nc: NatsConnection, options: NatsBusOptions = {}) {
    this.nc = nc;
    this.ownsConnection = options.ownsConnection ?? false;
    this.replyPrefix = `${createInbox()}.`;
    this.replySub = nc.subscribe(`${this.replyPrefix}*`, { callback: (err, msg) => this.onReply(err, msg) });
    this.link = new NatsLink(nc, (reason) => this.failPending(reason));
  }

  /** Connects (see `connectNats`) and returns a bus that closes the connection when it closes. */
  static async connect(urls: string, name: string): Promise<NatsBus> {
    return new NatsBus(await connectNats(urls, name), { ownsConnection: true });
  }

  /** The underlying connection, to share with the JetStream Log and KV (the bus closes it only if it owns it). */
  get connection(): NatsConnection {
    return this.nc;
  }

  get connected(): boolean {
    return this.link.up && !this.closed;
  }

  /** The `max_payload` of the server connected to now (servers of one cluster may differ); 1 MiB before the first INFO. */
  get maxPayloadBytes(): number {
    const max = this.nc.info?.max_payload;
    return typeof max === 'number' && max > 0 ? max : 1024 * 1024;
  }

  request(subject: string, data: Uint8Array, opts: RequestOptions): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const refused = this.requestTo(subject, data, opts.timeoutMs, { resolve, reject });
      if (refused !== undefined) reject(refused);
    });
  }

  requestTo(subject: string, data: Uint8Array, timeoutMs: number, waiter: ReplyWaiter): Error | undefined {
    if (!this.connected) return new ParleyError('UNAVAILABLE', `bus not connected: request on ${subject} not sent`);
    const refused = this.refusal(subject, data, 'request');
    if (refused !== undefined) return refused;
    const id = ++this.nextId;
    this.pending.add(id, new PendingRequest(subject, timeoutMs, waiter));
    this.enqueue(subject, data, id);
    return undefined;
  }

  publish(subject: string, data: Uint8Array): void {
    // Dropped while disconnected: the client would only buffer it until the
    // reconnect discards its outbound buffer.
    if (!this.connected) return;
    const refused = this.refusal(subject, data, 'publish');
    if (refused !== undefined) throw refused; // the caller's mistake, as with the embedded bus
    this.enqueue(subject, data, 0);
  }

  /** Sends an answer to `reply` with this tick's messages, after them; one the client would refuse (too large) is dropped and the requester times out. */
  respondTo(reply: string, subject: string, data: Uint8Array): void {
    if (!this.connected) return;
    const refused = this.refusal(reply, data, 'reply');
    if (refused !== undefined) logger.debug('bus reply dropped', { subject, err: refused });
    else this.enqueue(reply, data, 0);
  }

  /** What the client would refuse at once: a bad subject (BAD_REQUEST) or a payload over `max_payload` (TOO_LARGE). */
  private refusal(subject: string, data: Uint8Array, what: string): ParleyError | undefined {
    if (subject === '' || WHITESPACE.test(subject)) return new ParleyError('BAD_REQUEST', `invalid subject '${subject}'`);
    const max = this.maxPayloadBytes;
    if (data.byteLength > max) return new ParleyError('TOO_LARGE', `${what} on ${subject} refused: ${data.byteLength} bytes exceed max_payload (${max})`);
    return undefined;
  }

  private enqueue(subject: string, data: Uint8Array, id: number): void {
    this.outSubjects.push(subject);
    this.outData.push(data);
    this.outIds.push(id);
    if (!this.sendScheduled) {
      this.sendScheduled = true;
      setImmediate(this.sendNow);
    }
  }

  /**
   * Hands this tick's messages to the client, which writes them together
   * (at the end of the tick, or earlier for a flush or a drain).
   * Requests that failed meanwhile (the link dropped) are not sent, nor are
   * publishes while the link is down.
   */
  sendQueued(): void {
    this.sendScheduled = false;
    const subjects = this.outSubjects;
    if (subjects.length === 0) return;
    const data = this.outData;
    const ids = this.outIds;
    this.outSubjects = [];
    this.outData = [];
    this.outIds = [];
    const up = this.link.up;
    for (let i = 0; i < subjects.length; i++) {
      const id = ids[i]!;
      if (id === 0 ? !up : !this.pending.has(id)) continue;
      try {
        if (id === 0) this.nc.publish(subjects[i]!, data[i]!);
        else this.nc.publish(subjects[i]!, data[i]!, { reply: this.replyPrefix + id });
      } catch (err) {
        if (id !== 0) this.pending.take(id)?.reject(publishError(err, subjects[i]!, 'request'));
        else logger.debug('bus publish dropped', { subject: subjects[i], err });
      }
    }
  }

  subscribe(subject: string, handler: (msg: BusMessage) => void, opts: SubscribeOptions = {}): BusSubscription {
    if (this.closed) throw new ParleyError('UNAVAILABLE', 'the bus is closed');
    let callback = this.callbacks.get(handler);
    if (callback === undefined) {
      callback = deliverTo(handler, this);
      this.callbacks.set(handler, callback);
    }
    const sub = this.nc.subscribe(subject, { queue: opts.queue, callback });
    this.subs.add(sub);
    return new NatsBusSubscription(subject, sub, this.subs, this);
  }

  async flush(): Promise<void> {
    if (!this.connected) throw new ParleyError('UNAVAILABLE', 'bus not connected');
    this.sendQueued();
    try {
      await this.nc.flush();
    } catch (err) {
      throw new ParleyError('UNAVAILABLE', 'bus flush failed', { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // What was published before the close still goes out; requests still waiting fail below.
    this.sendQueued();
    this.closed = true;
    this.link.stop();
    this.failPending('the bus is closed');
    if (this.ownsConnection) {
      if (this.link.up && !this.nc.isClosed()) {
        // Drain delivers what already arrived and flushes what was published;
        // bounded, because a server that just went away never answers.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)));
        await Promise.race([this.nc.drain().catch(() => {}), bound]);
        clearTimeout(timer);
      }
      if (!this.nc.isClosed()) await this.nc.close().catch(() => {});
      return;
    }
    for (const sub of this.subs) if (!sub.isClosed()) sub.unsubscribe();
    this.subs.clear();
    if (!this.replySub.isClosed()) this.replySub.unsubscribe();
  }

  private onReply(err: Error | null, msg: Msg): void {
    if (err !== null) {
      logger.error('bus reply subscription failed', { err });
      return;
    }
    const id = inboxNumber(msg.subject, this.replyPrefix.length);
    const p = this.pending.take(id);
    if (p === undefined) return; // late reply to a request that timed out
    if (isNoResponders(msg)) p.reject(new ParleyError('UNAVAILABLE', `no responders on ${p.subject}`));
    else p.resolve(msg.data);
  }

  private failPending(reason: string): void {
    if (this.pending.size === 0) return;
    for (const p of this.pending.takeAll()) {
      p.reject(new ParleyError('UNAVAILABLE', `${reason}: request on ${p.subject} may or may not have been handled`));
    }
  }

}
