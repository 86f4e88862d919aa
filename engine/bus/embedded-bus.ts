/**
 * In-process Bus with the subjects and semantics of NATS core: wildcards,
 * queue groups, request/reply with no-responders and timeouts. It carries
 * bytes only — every message is copied, so no object is ever shared between
 * sender and receiver — and delivers asynchronously, as a network would.
 */
import type { Bus, BusMessage, BusSubscription, RequestOptions, SubscribeOptions } from './bus.ts';
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
  private readonly replies = new Map<
    number,
    { resolve: (data: Uint8Array) => void; reject: (err: Error) => void; timer: ReturnType<typeof setTimeout> }
  >();
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
      // A reply: straight to its waiting request (the first one wins, as with NATS).
      const id = Number(subject.slice(INBOX_PREFIX.length));
      const waiting = this.replies.get(id);
      if (waiting === undefined) return;
      this.replies.delete(id);
      clearTimeout(waiting.timer);
      const copy = data.slice();
      queueMicrotask(() => waiting.resolve(copy));
      return;
    }
    this.dispatch(subject, data, undefined);
  }

  request(subject: string, data: Uint8Array, opts: RequestOptions): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new ParleyError('UNAVAILABLE', 'the bus is closed'));
    try {
      this.checkSize(subject, data, 'request');
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const id = ++this.inboxSeq;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(new ParleyError('TIMEOUT', `no reply on ${subject} within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      this.replies.set(id, { resolve, reject, timer });
      if (this.dispatch(subject, data, INBOX_PREFIX + id) === 0) {
        clearTimeout(timer);
        this.replies.delete(id);
        reject(new ParleyError('UNAVAILABLE', `no responders on ${subject}`));
      }
    });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.replies.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new ParleyError('UNAVAILABLE', 'the bus closed before the reply came'));
    }
    this.replies.clear();
    this.exact.clear();
    this.wild.length = 0;
  }

  /** Refuses what NATS would refuse: a message over `maxPayloadBytes`. */
  private checkSize(subject: string, data: Uint8Array, what: string): void {
    if (data.byteLength > this.maxPayloadBytes) {
      throw new ParleyError('TOO_LARGE', `${what} on ${subject} refused: ${data.byteLength} bytes exceed max_payload (${this.maxPayloadBytes})`);
    }
  }

  /** Delivers to every plain subscriber and one member per queue group; returns how many got it. */
  private dispatch(subject: string, data: Uint8Array, reply: string | undefined): number {
    if (this.closed) return 0;
    if (!PLAIN_SUBJECT.test(subject)) checkSubject(subject, false); // throws, naming the problem
    const tokens = this.wild.length === 0 ? EMPTY_TOKENS : subject.split('.');
    const plain: Sub[] = [];
    const groups = new Map<string, Sub[]>();
    const consider = (sub: Sub) => {
      if (sub.queue === undefined) plain.push(sub);
      else {
        const g = groups.get(sub.queue);
        if (g === undefined) groups.set(sub.queue, [sub]);
        else g.push(sub);
      }
    };
    const direct = this.exact.get(subject);
    if (direct !== undefined) for (const sub of direct) consider(sub);
    for (const sub of this.wild) if (subjectMatches(sub.tokens, tokens)) consider(sub);
    const targets = plain;
    for (const [queue, members] of groups) {
      const key = `${queue}\u0000${subject}`;
      const n = this.queueCursor.get(key) ?? 0;
      this.queueCursor.set(key, n + 1);
      targets.push(members[n % members.length]!);
    }
    for (const sub of targets) {
      const copy = data.slice();
      queueMicrotask(() => this.deliver(sub, subject, copy, reply));
    }
    return targets.length;
  }

  private deliver(sub: Sub, subject: string, data: Uint8Array, reply: string | undefined): void {
    if (!sub.active) return;
    const msg: BusMessage = {
      subject,
      data,
      reply,
      respond: (answer: Uint8Array) => {
        if (reply === undefined) return;
        try {
          this.publish(reply, answer);
        } catch (err) {
          // As over NATS: a reply the bus refuses (too large) is dropped, and the requester times out.
          logger.warn('bus reply dropped', { subject, err });
        }
      },
    };
    try {
      sub.handler(msg);
    } catch (err) {
      // A subscriber's bug must not stop delivery to the others.
      logger.error('bus subscriber failed', { subject, err });
    }
  }
}
