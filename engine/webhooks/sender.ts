/**
 * Delivering webhook events to the host's backend: each event is POSTed as
 * JSON `{id, type, time, data}`, signed anew at every try (`Parley-Signature`,
 * signature.ts) with its id in `Parley-Webhook-Id`. A 2xx answer
 * acknowledges it; any other status, a refused connection or a timeout is
 * tried again after an exponential backoff with jitter, from `retryMinMs` up
 * to `retryMaxMs` between tries, for up to `retryForMs`, after which the
 * event is handed to `onDead`.
 *
 * Events of one lane (a conversation) go out in order: an event is not sent
 * before the previous one of its lane was acknowledged or given up. Lanes
 * are independent, so a failing one holds back only itself — except while
 * the receiver cannot be reached at all: then one lane probes it on its
 * backoff and the others wait until it answers (see `unreachable`). `enqueue`
 * returns at once: a receiver that is down never slows the caller.
 *
 * Delivery is at least once: a receiver that answered too slowly, or a
 * process that stopped before it heard the answer, gets the event again
 * with the same id, which receivers dedup by.
 */
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { logger } from '../logger.ts';
import { signWebhook } from './signature.ts';

/** POSTs `body` and resolves with the answer's status once its body was read (so the kept-alive connection is free again). */
function post(url: URL, agent: HttpAgent, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal }, (res) => {
      res.on('error', reject);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.resume();
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What a receiver gets. */
export interface WebhookEvent {
  /** Stable id of the event: the same at every try and after a restart. */
  readonly id: string;
  /** `msg.sent`, `msg.recalled`, `msg.deletedSelf`, `login`, `logout`, … */
  readonly type: string;
  /** When it happened, ms since the epoch. */
  readonly time: number;
  readonly data: unknown;
}

export interface WebhookSenderOptions {
  /** Where events go. */
  url: string;
  /** HMAC-SHA256 key of the signatures. */
  secret: string;
  /** First pause before a retry, ms. Default 500. */
  retryMinMs?: number;
  /** Longest pause between tries, ms. Default 60000. */
  retryMaxMs?: number;
  /** How long an event is retried before it is dead, ms. Default 24 h. */
  retryForMs?: number;
  /** Deadline of one try, ms. Default 10000. */
  timeoutMs?: number;
  /** Called once an event was acknowledged (a 2xx), in lane order: where a durable feed advances its cursor. */
  onAcknowledged?: (event: WebhookEvent, lane: string) => void;
  /** Called when an event ran out of retries, with the last failure. */
  onDead?: (event: WebhookEvent, lane: string, lastError: string) => void;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * Asked before every try: false holds the lane back (looked at again after
   * a pause). Where a feed stops a lane whose partition this node no longer
   * serves. Default: always.
   */
  mayTry?: (lane: string) => boolean;
}

/** Pause before a lane held back by `mayTry` is looked at again, ms. */
const HELD_BACK_MS = 250;

interface Queued {
  readonly event: WebhookEvent;
  readonly body: string;
  /** When the first try was made, ms (0 before it). */
  firstTryMs: number;
  attempts: number;
}

interface Lane {
  readonly name: string;
  readonly queue: Queued[];
  busy: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Set by dropLanes: a try still in flight is aborted and not reported. */
  dropped: boolean;
  /** The try in flight: aborts it, and settles once it ended. */
  inFlight: { abort: AbortController; ended: Promise<void> } | undefined;
}

/** The pause before try `attempt + 1` (attempt ≥ 1): `min·2^(attempt−1)` capped at `max`, drawn uniformly from its upper half. */
export function retryDelayMs(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class WebhookSender {
  private readonly opts: Required<Omit<WebhookSenderOptions, 'onAcknowledged' | 'onDead' | 'mayTry'>> & Pick<WebhookSenderOptions, 'onAcknowledged' | 'onDead' | 'mayTry'>;
  private readonly lanes = new Map<string, Lane>();
  private readonly url: URL;
  /** Kept-alive connections to the receiver, one per lane in flight at most. */
  private readonly agent: HttpAgent;
  private stopped = false;
  private waiting = 0;
  /**
   * Set when a try could not reach the receiver at all (refused, reset, timed
   * out) and none has reached it since: the receiver is down, so one lane at
   * a time tries (the probe, on its own backoff) and the others wait parked
   * until a try gets an answer, instead of every lane paying for refused
   * connections. An HTTP status, even 500, is an answer: lanes stay apart.
   */
  private unreachable = false;
  private probe: Lane | undefined = undefined;
  private readonly parked = new Set<Lane>();
  /** Counters since start: tries, acknowledgements, failed tries, dead events. */
  readonly stats = { tries: 0, acknowledged: 0, failures: 0, dead: 0 };

  constructor(options: WebhookSenderOptions) {
    this.opts = {
      retryMinMs: 500,
      retryMaxMs: 60_000,
      retryForMs: 24 * 60 * 60 * 1000,
      timeoutMs: 10_000,
      random: Math.random,
      ...options,
    };
    if (!(this.opts.retryMinMs > 0 && this.opts.retryMaxMs >= this.opts.retryMinMs)) {
      throw new RangeError(`webhook retries need 0 < retryMinMs <= retryMaxMs, got ${this.opts.retryMinMs} and ${this.opts.retryMaxMs}`);
    }
    this.url = new URL(this.opts.url);
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  /** Events queued and not yet acknowledged or dead. */
  get backlog(): number {
    return this.waiting;
  }

  /** Queues `event` behind the earlier events of `lane`; returns at once. */
  enqueue(lane: string, event: WebhookEvent): void {
    if (this.stopped) return;
    let l = this.lanes.get(lane);
    if (l === undefined) {
      l = { name: lane, queue: [], busy: false, timer: undefined, dropped: false, inFlight: undefined };
      this.lanes.set(lane, l);
    }
    l.queue.push({ event, body: JSON.stringify({ id: event.id, type: event.type, time: event.time, data: event.data }), firstTryMs: 0, attempts: 0 });
    this.waiting++;
    // Tries start on a later turn: the caller never waits on a connection, not even to open one.
    if (l.queue.length === 1) {
      const lane = l;
      setImmediate(() => this.pump(lane));
    }
  }

  /**
   * Drops the queued events of every lane whose name starts with `prefix`
   * (a partition this node no longer serves: its next reader sends them);
   * a try in flight is aborted, unreported. Returns how many were dropped
   * and when the aborted tries have ended.
   */
  dropLanes(prefix: string): { dropped: number; ended: Promise<void> } {
    let dropped = 0;
    const ending: Promise<void>[] = [];
    for (const [name, l] of this.lanes) {
      if (!name.startsWith(prefix)) continue;
      clearTimeout(l.timer);
      dropped += l.queue.length;
      this.waiting -= l.queue.length;
      l.queue.length = 0;
      this.lanes.delete(name);
      this.parked.delete(l);
      l.dropped = true;
      if (l.inFlight !== undefined) {
        l.inFlight.abort.abort();
        ending.push(l.inFlight.ended);
      }
      if (this.probe === l) this.handOverProbe();
    }
    return { dropped, ended: Promise.all(ending).then(() => undefined) };
  }

  /** Stops sending: queued events are dropped (a durable feed sends them again from its cursor). */
  stop(): void {
    this.stopped = true;
    for (const l of this.lanes.values()) {
      clearTimeout(l.timer);
      l.inFlight?.abort.abort();
    }
    this.lanes.clear();
    this.parked.clear();
    this.probe = undefined;
    this.waiting = 0;
    this.agent.destroy();
  }

  private pump(l: Lane): void {
    if (this.stopped || l.dropped || l.busy || l.timer !== undefined) return;
    const head = l.queue[0];
    if (head === undefined) {
      this.lanes.delete(l.name);
      if (this.probe === l) this.handOverProbe();
      return;
    }
    if (this.unreachable) {
      this.probe ??= l;
      if (this.probe !== l) {
        this.parked.add(l);
        return;
      }
    }
    if (this.opts.mayTry !== undefined && !this.opts.mayTry(l.name)) {
      l.timer = setTimeout(() => {
        l.timer = undefined;
        this.pump(l);
      }, HELD_BACK_MS);
      return;
    }
    l.busy = true;
    const abort = new AbortController();
    const ended = this.attempt(l, head, abort);
    l.inFlight = { abort, ended };
    void ended.finally(() => {
      if (l.inFlight?.ended === ended) l.inFlight = undefined;
    });
  }

  private async attempt(l: Lane, q: Queued, abort: AbortController): Promise<void> {
    const now = Date.now();
    if (q.firstTryMs === 0) q.firstTryMs = now;
    q.attempts++;
    this.stats.tries++;
    let failure: string | undefined;
    /** Whether the receiver answered at all. */
    let reached = false;
    const timer = setTimeout(() => abort.abort(new Error(`timed out after ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
    try {
      const status = await post(this.url, this.agent, {
        'content-type': 'application/json',
        'parley-signature': signWebhook(this.opts.secret, q.body),
        'parley-webhook-id': q.event.id,
      }, q.body, abort.signal);
      reached = true;
      if (status < 200 || status > 299) failure = `HTTP ${status}`;
    } catch (err) {
      failure = abort.signal.aborted ? String(abort.signal.reason ?? err) : String((err as Error)?.cause ?? err);
    } finally {
      clearTimeout(timer);
    }
    l.busy = false;
    if (this.stopped || l.dropped) return;
    if (reached) this.reachable();
    else {
      this.unreachable = true;
      this.probe ??= l;
    }
    if (failure === undefined) {
      this.done(l);
      this.stats.acknowledged++;
      this.safely(() => this.opts.onAcknowledged?.(q.event, l.name));
      this.pump(l);
      return;
    }
    this.stats.failures++;
    const delay = retryDelayMs(q.attempts, this.opts.retryMinMs, this.opts.retryMaxMs, this.opts.random);
    if (Date.now() + delay - q.firstTryMs > this.opts.retryForMs) {
      this.done(l);
      this.stats.dead++;
      logger.warn('webhook event given up', { id: q.event.id, type: q.event.type, attempts: q.attempts, failure });
      this.safely(() => this.opts.onDead?.(q.event, l.name, failure));
      this.pump(l);
      return;
    }
    if (q.attempts === 1 || q.attempts % 10 === 0) logger.info('webhook delivery failed; retrying', { id: q.event.id, attempts: q.attempts, delayMs: delay, failure });
    l.timer = setTimeout(() => {
      l.timer = undefined;
      this.pump(l);
    }, delay);
  }

  /** The probing lane has nothing left to try (emptied or dropped): a parked lane probes instead. */
  private handOverProbe(): void {
    this.probe = undefined;
    const next = this.parked.values().next();
    if (next.done === true) return;
    this.parked.delete(next.value);
    const l = next.value;
    setImmediate(() => this.pump(l));
  }

  /** The receiver answered: parked lanes try again. */
  private reachable(): void {
    if (!this.unreachable) return;
    this.unreachable = false;
    this.probe = undefined;
    const waiting = [...this.parked];
    this.parked.clear();
    for (const l of waiting) setImmediate(() => this.pump(l));
  }

  private done(l: Lane): void {
    l.queue.shift();
    this.waiting--;
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      logger.error('webhook callback failed', { err });
    }
  }
}
