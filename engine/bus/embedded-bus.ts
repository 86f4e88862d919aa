/**
 * In-process Bus with the subjects and semantics of NATS core: wildcards,
 * queue groups, request/reply with no-responders and timeouts. It carries
 * bytes only — every message is copied, so no object is ever shared between
 * sender and receiver — and delivers asynchronously, as a network would:
 * dispatched messages wait in one queue that a single microtask empties, in
 * order. Requests share one timeout timer (`PendingRequests`); a request's
 * message carries its inbox number, so answering it builds and parses no
 * reply subject (one is made only for a handler that reads `reply`).
 */
import type { Bus, ReplyWaiter, BusMessage, BusSubscription, RequestOptions, SubscribeOptions } from './bus.ts';
import { PendingRequest, PendingRequests } from './pending-requests.ts';
import { ParleyError } from '../protocol/errors.ts';
import { logger } from '../logger.ts';

/** Reply subjects of requests: `_INBOX.embedded.<n>`. */
const INBOX_PREFIX = '_INBOX.embedded.';
/** A publishable subject: dot-separated tokens without whitespace or wildcards. */
const PLAIN_SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;
const EMPTY_TOKENS: string[] = [];
/** Default `maxPayloadBytes` of the embedded bus: NATS's default `max_payload`, so both modes page alike. */
export const DEFAULT_EMBEDDED_MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface EmbeddedBusOptions {
  /** Largest message carried, bytes; larger ones fail with TOO_LARGE, as over NATS. Default 1 MiB. */
  maxPayloadBytes?: number;
}

/**
 * One subscription, and the handle its subscriber holds. A class, so that a
 * subscription costs one object and no closures: an edge holds one per
 * online account.
 */
class Sub implements BusSubscription {
  readonly subject: string;
  /** The subject's tokens for a wildcard subscription; empty for an exact one (looked up directly). */
  readonly tokens: string[];
  readonly queue: string | undefined;
  readonly handler: (msg: BusMessage) => void;
  /** Still receives what was dispatched to it. */
  active = true;
  /** Still found by new publishes. */
  routed = true;
  /** Removes the subscription from its bus's routing; false when it was already removed. */
  private readonly detach: (sub: Sub) => boolean;

  constructor(subject: string, tokens: string[], queue: string | undefined, handler: (msg: BusMessage) => void, detach: (sub: Sub) => boolean) {
    this.subject = subject;
    this.tokens = tokens;
    this.queue = queue;
    this.handler = handler;
    this.detach = detach;
  }

  unsubscribe(): void {
    this.detach(this);
    this.active = false;
  }

  async drain(): Promise<void> {
    if (!this.detach(this)) return;
    // Deliveries already dispatched run as microtasks before this resolves.
    await new Promise((resolve) => setImmediate(resolve));
    this.active = false;
  }
}

/** True when `subject` matches `pattern` (`*` one token, `>` one or more trailing tokens). */
export function subjectMatches(pattern: string[], subject: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '>') return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== '*' && p !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}

function checkSubject(subject: string, wildcards: boolean): string[] {
  const tokens = subject.split('.');
  if (subject === '' || tokens.some((t) => t === '' || /\s/.test(t))) {
    throw new ParleyError('BAD_REQUEST', `invalid subject '${subject}'`);
  }
  if (!wildcards && tokens.some((t) => t === '*' || t === '>')) {
    throw new ParleyError('BAD_REQUEST', `wildcards are not allowed when publishing: '${subject}'`);
  }
  const gt = tokens.indexOf('>');
  if (gt !== -1 && gt !== tokens.length - 1) throw new ParleyError('BAD_REQUEST', `'>' must be the last token: '${subject}'`);
  return tokens;
}

export class EmbeddedBus implements Bus {
  /** Exact subjects are looked up directly; wildcard subscriptions are scanned. */
  private readonly exact = new Map<string, Sub[]>();
  private readonly wild: Sub[] = [];
  private readonly queueCursor = new Map<string, number>();
  private inboxSeq = 0;
  /** Requests waiting for their reply, by inbox number. */
  private readonly replies = new PendingRequests();
  /** Messages dispatched and not yet delivered, oldest first. */
  private queue: Delivery[] = [];
  private draining = false;
  private readonly drainNow = (): void => this.drainQueue();
  private closed = false;
  readonly maxPayloadBytes: number;

  constructor(options: EmbeddedBusOptions = {}) {
    const max = options.maxPayloadBytes ?? DEFAULT_EMBEDDED_MAX_PAYLOAD_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxPayloadBytes must be a positive integer, got ${max}`);
    this.maxPayloadBytes = max;
  }

  get connected(): boolean {
    return !this.closed;
  }

  subscribe(subject: string, handler: (msg: BusMessage) => void, opts: SubscribeOptions = {}): BusSubscription {
    const tokens = checkSubject(subject, true);
    const isWild = tokens.includes('*') || tokens.includes('>');
    const sub = new Sub(subject, isWild ? tokens : EMPTY_TOKENS, opts.queue, handler, this.detach);
    if (isWild) this.wild.push(sub);
    else {
      const list = this.exact.get(subject);
      if (list === undefined) this.exact.set(subject, [sub]);
      else list.push(sub);
    }
    return sub;
  }

  private readonly detach = (sub: Sub): boolean => {
    if (!sub.routed) return false;
    sub.routed = false;
    if (sub.tokens.length > 0) this.wild.splice(this.wild.indexOf(sub), 1);
    else {
      const list = this.exact.get(sub.subject)!;
      list.splice(list.indexOf(sub), 1);
      if (list.length === 0) this.exact.delete(sub.subject);
    }
    return true;
  };

  publish(subject: string, data: Uint8Array): void {
    this.checkSize(subject, data, 'publish');
    if (subject.startsWith(INBOX_PREFIX)) {
      this.answer(Number(subject.slice(INBOX_PREFIX.length)), data);
      return;
    }
    this.dispatch(subject, data, 0);
  }

  /** A reply: straight to its waiting request, if still waiting (the first one wins, as with NATS). */
  private answer(inbox: number, data: Uint8Array): void {
    // Told now, within the responder's `respond`: a promised request still resumes on a later microtask.
    this.replies.take(inbox)?.resolve(data.slice());
  }

  request(subject: string, data: Uint8Array, opts: RequestOptions): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const refused = this.requestTo(subject, data, opts.timeoutMs, { resolve, reject });
      if (refused !== undefined) reject(refused);
    });
  }

  requestTo(subject: string, data: Uint8Array, timeoutMs: number, waiter: ReplyWaiter): Error | undefined {
    if (this.closed) return new ParleyError('UNAVAILABLE', 'the bus is closed');
    try {
      this.checkSize(subject, data, 'request');
    } catch (err) {
      return err as Error;
    }
    const id = ++this.inboxSeq;
    this.replies.add(id, new PendingRequest(subject, timeoutMs, waiter));
    let reached: number;
    try {
      reached = this.dispatch(subject, data, id);
    } catch (err) {
      this.replies.take(id);
      return err as Error;
    }
    if (reached === 0) {
      this.replies.take(id);
      return new ParleyError('UNAVAILABLE', `no responders on ${subject}`);
    }
    return undefined;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.replies.takeAll()) waiting.reject(new ParleyError('UNAVAILABLE', 'the bus closed before the reply came'));
    this.exact.clear();
    this.wild.length = 0;
  }

  /** Refuses what NATS would refuse: a message over `maxPayloadBytes`. */
  private checkSize(subject: string, data: Uint8Array, what: string): void {
    if (data.byteLength > this.maxPayloadBytes) {
      throw new ParleyError('TOO_LARGE', `${what} on ${subject} refused: ${data.byteLength} bytes exceed max_payload (${this.maxPayloadBytes})`);
    }
  }

  /** Delivers to every plain subscriber and one member per queue group, with the request's inbox number (0 for none); returns how many got it. */
  private dispatch(subject: string, data: Uint8Array, reply: number): number {
    if (this.closed) return 0;
    if (!PLAIN_SUBJECT.test(subject)) checkSubject(subject, false); // throws, naming the problem
    let reached = 0;
    // Queue groups met, made only when one is: most subjects have none.
    let groups: Map<string, Sub[]> | undefined;
    const direct = this.exact.get(subject);
    if (direct !== undefined) {
      for (const sub of direct) {
        if (sub.queue === undefined) reached += this.enqueue(sub, subject, data, reply);
        else groups = joinGroup(groups, sub);
      }
    }
    if (this.wild.length > 0) {
      const tokens = subject.split('.');
      for (const sub of this.wild) {
        if (!subjectMatches(sub.tokens, tokens)) continue;
        if (sub.queue === undefined) reached += this.enqueue(sub, subject, data, reply);
        else groups = joinGroup(groups, sub);
      }
    }
    if (groups !== undefined) {
      for (const [queue, members] of groups) {
        const key = `${queue}\u0000${subject}`;
        const n = this.queueCursor.get(key) ?? 0;
        this.queueCursor.set(key, n + 1);
        reached += this.enqueue(members[n % members.length]!, subject, data, reply);
      }
    }
    return reached;
  }

  /** Queues a copy of the message for `sub`; one microtask delivers everything queued. */
  private enqueue(sub: Sub, subject: string, data: Uint8Array, reply: number): number {
    this.queue.push(new Delivery(this, sub, subject, data.slice(), reply));
    if (!this.draining) {
      this.draining = true;
      queueMicrotask(this.drainNow);
    }
    return 1;
  }

  /** Delivers the queued messages in order, including those their handlers dispatch meanwhile. */
  private drainQueue(): void {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      for (const delivery of batch) this.deliver(delivery);
    }
    this.draining = false;
  }

  private deliver(delivery: Delivery): void {
    if (!delivery.sub.active) return;
    try {
      delivery.sub.handler(delivery);
    } catch (err) {
      // A subscriber's bug must not stop delivery to the others.
      logger.error('bus subscriber failed', { subject: delivery.subject, err });
    }
  }

  /** Sends a subscriber's answer to request `inbox`; as over NATS, one the bus refuses (too large) is dropped and the requester times out. */
  respondTo(inbox: number, subject: string, answer: Uint8Array): void {
    if (answer.byteLength > this.maxPayloadBytes) {
      logger.warn('bus reply dropped', { subject, err: new ParleyError('TOO_LARGE', `publish on ${INBOX_PREFIX}${inbox} refused: ${answer.byteLength} bytes exceed max_payload (${this.maxPayloadBytes})`) });
      return;
    }
    this.answer(inbox, answer);
  }
}

/** Adds `sub` to its queue group's members in `groups` (made when undefined). */
function joinGroup(groups: Map<string, Sub[]> | undefined, sub: Sub): Map<string, Sub[]> {
  const all = groups ?? new Map<string, Sub[]>();
  const members = all.get(sub.queue!);
  if (members === undefined) all.set(sub.queue!, [sub]);
  else members.push(sub);
  return all;
}

/** One message on its way to one subscription, and the message its handler receives: no closure per delivery. */
class Delivery implements BusMessage {
  readonly bus: EmbeddedBus;
  readonly sub: Sub;
  readonly subject: string;
  readonly data: Uint8Array;
  /** The request's inbox number; 0 for a publish. */
  readonly inbox: number;

  constructor(bus: EmbeddedBus, sub: Sub, subject: string, data: Uint8Array, inbox: number) {
    this.bus = bus;
    this.sub = sub;
    this.subject = subject;
    this.data = data;
    this.inbox = inbox;
  }

  get reply(): string | undefined {
    return this.inbox === 0 ? undefined : INBOX_PREFIX + this.inbox;
  }

  respond(answer: Uint8Array): void {
    if (this.inbox !== 0) this.bus.respondTo(this.inbox, this.subject, answer);
  }
}
