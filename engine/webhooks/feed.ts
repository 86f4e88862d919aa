/**
 * The webhook feed: Log entries in, signed requests out, nothing lost.
 *
 * A `FeedSource` reads the Log from a durable cursor and hands each entry
 * over with a `done` callback (`lmdb-source.ts` in embedded mode,
 * `jetstream-source.ts` in cluster mode). The feed turns the entry into
 * webhook events (events.ts), runs every deriver on each of them (derive.ts;
 * what one returns follows its event on the same lane), and queues them all
 * on the sender of their URL (`env` picks one). It calls `done` once every
 * event made from the entry was acknowledged by the receiver or recorded
 * dead durably: only then may the source move its cursor past the entry.
 * A crash before that sends the entry's events again, with the same ids.
 *
 * Sends never wait on the feed: it reads what the Log already made durable,
 * so a receiver that is down holds back only the lanes it failed on, and the
 * sources bound how many entries wait (their window), not the actors.
 *
 * Dead events (dead-events.ts) marked for replay are polled for and sent
 * again by the feed serving their partition, on a lane of their own.
 */
import { decode } from '../protocol/codec.ts';
import { logger } from '../logger.ts';
import { WebhookSender, type WebhookEvent } from './sender.ts';
import type { WebhookDeriver } from './derive.ts';
import { webhookEventsOf, type LaneEvent } from './events.ts';
import type { DeadEvent, DeadEvents } from './dead-events.ts';
import { webhookEnvName } from '../config.ts';
import { partitionOf } from '../subjects.ts';

/** One Log entry as a source reads it. */
export interface FeedEntry {
  readonly subject: string;
  /** Its position (per subject in embedded mode, stream-wide in cluster mode). */
  readonly seq: number;
  readonly data: Uint8Array;
  /** When it was appended, ms. */
  readonly time: number;
}

/** Hands an entry to the feed; `done` is called once, when the cursor may pass it. */
export type TakeEntry = (entry: FeedEntry, done: () => void) => void;

/** A durable reader of (a part of) the Log. */
export interface FeedSource {
  /** For logs: `lmdb`, `jetstream partition 5`. */
  readonly name: string;
  /** Starts reading from the cursor; every entry goes to `take`, in Log order. */
  start(take: TakeEntry): Promise<void>;
  /** Stops reading; entries not done are read again by whoever reads next. */
  stop(): Promise<void>;
}

export interface WebhookFeedOptions {
  /** URL of events without an `env`, or of an `env` without its own; empty: those are not sent. */
  url: string;
  /** URLs by upper-cased `env` name. */
  envUrls: Readonly<Record<string, string>>;
  secret: string;
  retryMinMs: number;
  retryMaxMs: number;
  retryForMs: number;
  /** Deadline of one try, ms. Default 10000. */
  timeoutMs?: number;
  /** Actor partitions, to find a dead event's partition. */
  partitions: number;
  /** Run on every event read; their events follow it on its lane. Default none. */
  derivers?: readonly WebhookDeriver[];
  dead: DeadEvents;
  /** Whether this node serves `partition` (replays of its dead events are this node's). */
  owns(partition: number): boolean;
  /** How often marks to replay dead events are looked for, ms. Default 1000. */
  replayPollMs?: number;
}

/** The entry a set of events came from, and how many of them are still out. */
interface Tracker {
  remaining: number;
  readonly done: () => void;
}

/** Pause before a deriver that failed runs again, ms. */
const DERIVER_RETRY_MS = 1000;
/** Dead events replayed per poll. */
const REPLAY_BATCH = 100;

export class WebhookFeed {
  private readonly opts: WebhookFeedOptions;
  private readonly derivers: readonly WebhookDeriver[];
  private readonly senders = new Map<string, WebhookSender>();
  /** Events sent and not yet acknowledged or dead, by id: the entries they came from (the same id may be out twice). */
  private readonly out = new Map<string, Tracker[]>();
  /** Replays in flight, by id. */
  private readonly replaying = new Map<string, DeadEvent>();
  private readonly sources: FeedSource[] = [];
  /** Sources whose `start` finished: they are handing entries over. */
  private readonly started = new Set<FeedSource>();
  /** Entries wait here for the derivers of the one before them, so derived events keep their lane's order. */
  private chain: Promise<void> = Promise.resolve();
  private replayTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  /** Counters since start: entries read, events queued, acknowledged, dead, replayed. */
  readonly stats = { entries: 0, events: 0, acknowledged: 0, dead: 0, replayed: 0 };

  constructor(options: WebhookFeedOptions) {
    this.opts = options;
    this.derivers = options.derivers ?? [];
  }

  /** Events queued on the senders and not yet acknowledged or dead. */
  get backlog(): number {
    let n = 0;
    for (const s of this.senders.values()) n += s.backlog;
    return n;
  }

  /**
   * Sources reading: started and handing entries over. A cluster partition's
   * reader starts once it read the partition's feed position and opened its
   * consumer (see jetstream-source.ts), so right after a start or a move
   * this is briefly behind the partitions owned.
   */
  get reading(): number {
    return this.started.size;
  }

  /** Requests made by every sender since start: acknowledged (2xx) and failed tries. */
  senderStats(): { acknowledged: number; failures: number } {
    let acknowledged = 0;
    let failures = 0;
    for (const s of this.senders.values()) {
      acknowledged += s.stats.acknowledged;
      failures += s.stats.failures;
    }
    return { acknowledged, failures };
  }

  /** Starts the replay poller. Sources are added with `addSource`. */
  start(): void {
    const every = this.opts.replayPollMs ?? 1000;
    this.replayTimer = setInterval(() => void this.pollReplays(), every);
    this.replayTimer.unref();
  }

  /** Starts reading `source` into this feed. */
  async addSource(source: FeedSource): Promise<void> {
    if (this.stopped) return;
    this.sources.push(source);
    await source.start((entry, done) => this.take(entry, done));
    if (this.sources.includes(source)) this.started.add(source);
    logger.info('webhook feed reading', { source: source.name });
  }

  /**
   * Stops reading `source` (its entries not done are read again by its next
   * reader). With `lanePrefix` (`parley.log.<p>.`), the events of those lanes
   * still queued are dropped too: the partition's next reader sends them.
   */
  async removeSource(source: FeedSource, lanePrefix?: string): Promise<void> {
    const i = this.sources.indexOf(source);
    if (i !== -1) this.sources.splice(i, 1);
    this.started.delete(source);
    await source.stop();
    if (lanePrefix === undefined) return;
    // Its tries in flight are aborted and ended before the partition can pass: the next reader's tries come after.
    await Promise.all([...this.senders.values()].map((s) => s.dropLanes(lanePrefix).ended));
    const idPrefix = lanePrefix.slice('parley.log.'.length);
    for (const id of this.out.keys()) if (id.startsWith(idPrefix)) this.out.delete(id);
  }

  /** Stops every source and sender; what was not acknowledged is sent again from the cursors. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.replayTimer);
    this.started.clear();
    await Promise.all(this.sources.splice(0).map((s) => s.stop().catch((err: unknown) => logger.warn('webhook source stop failed', { source: s.name, err }))));
    for (const s of this.senders.values()) s.stop();
    this.senders.clear();
    this.out.clear();
  }

  private take(entry: FeedEntry, done: () => void): void {
    if (this.stopped) return;
    this.stats.entries++;
    let events: LaneEvent[];
    try {
      events = webhookEventsOf(entry.subject, entry.seq, decode(entry.data), entry.time);
    } catch (err) {
      // An entry no version wrote events in (none is known): nothing to tell, and holding the cursor would stop every later event.
      logger.error('webhook feed skipped an unreadable log entry', { subject: entry.subject, seq: entry.seq, err });
      done();
      return;
    }
    if (this.derivers.length === 0) {
      this.queue(events, done);
      return;
    }
    this.chain = this.chain.then(async () => {
      const all: LaneEvent[] = [];
      for (const e of events) {
        all.push(e);
        for (const derive of this.derivers) {
          const made = await this.derived(derive, e.event);
          for (const d of made) all.push(e.env === undefined ? { lane: e.lane, event: d } : { lane: e.lane, event: d, env: e.env });
        }
      }
      if (!this.stopped) this.queue(all, done);
    }).catch((err: unknown) => logger.error('webhook feed could not queue an entry\'s events', { subject: entry.subject, seq: entry.seq, err }));
  }

  /** What `derive` makes of `event`; a deriver that fails is run again until it answers (the cursor cannot pass its event). */
  private async derived(derive: WebhookDeriver, event: WebhookEvent): Promise<WebhookEvent[]> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        return await derive(event);
      } catch (err) {
        if (attempt === 1 || attempt % 30 === 0) logger.error('webhook deriver failed; trying again', { id: event.id, attempt, err });
        await new Promise((resolve) => setTimeout(resolve, DERIVER_RETRY_MS));
      }
    }
    return [];
  }

  private queue(events: readonly LaneEvent[], done: () => void): void {
    const tracker: Tracker = { remaining: 0, done };
    for (const e of events) {
      const sender = this.senderFor(e.env);
      if (sender === undefined) continue;
      tracker.remaining++;
      const waiting = this.out.get(e.event.id);
      if (waiting === undefined) this.out.set(e.event.id, [tracker]);
      else waiting.push(tracker);
      this.stats.events++;
      sender.enqueue(e.lane, e.event);
    }
    if (tracker.remaining === 0) done();
  }

  /** The sender of `env`'s URL (the default URL without one of its own); undefined when there is none. */
  private senderFor(env: string | undefined): WebhookSender | undefined {
    const url = (env === undefined ? undefined : this.opts.envUrls[webhookEnvName(env)]) ?? this.opts.url;
    if (url === '') return undefined;
    let sender = this.senders.get(url);
    if (sender === undefined) {
      sender = new WebhookSender({
        url,
        secret: this.opts.secret,
        retryMinMs: this.opts.retryMinMs,
        retryMaxMs: this.opts.retryMaxMs,
        retryForMs: this.opts.retryForMs,
        ...(this.opts.timeoutMs === undefined ? {} : { timeoutMs: this.opts.timeoutMs }),
        onAcknowledged: (event, lane) => this.acknowledged(event, lane),
        // A lane of a partition this node no longer holds (its lease lapsed) is not tried: the next owner sends it.
        mayTry: (lane) => !lane.startsWith(LOG_LANE) || this.opts.owns(partitionOfLane(lane, this.opts.partitions)),
        onDead: (event, lane, error) => void this.died(event, lane, error, env),
      });
      this.senders.set(url, sender);
    }
    return sender;
  }

  private acknowledged(event: WebhookEvent, lane: string): void {
    if (lane.startsWith(REPLAY_LANE)) {
      this.replaying.delete(event.id);
      this.stats.replayed++;
      this.opts.dead.remove(event.id).catch((err: unknown) => logger.error('replayed webhook event acknowledged but not removed from the dead events', { id: event.id, err }));
      return;
    }
    this.stats.acknowledged++;
    this.settle(event.id);
  }

  /** Records `event` dead (durably, retried until it is), then lets the cursor pass it. */
  private async died(event: WebhookEvent, lane: string, error: string, env: string | undefined): Promise<void> {
    const replay = lane.startsWith(REPLAY_LANE);
    const original = replay ? this.replaying.get(event.id) : undefined;
    const sourceLane = original?.lane ?? lane;
    const dead: DeadEvent = {
      event,
      lane: sourceLane,
      ...(env === undefined ? {} : { env }),
      partition: partitionOfLane(sourceLane, this.opts.partitions),
      error,
      deadAt: Date.now(),
    };
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.opts.dead.put(dead);
        if (replay) await this.opts.dead.unmark(event.id);
        break;
      } catch (err) {
        if (attempt === 1 || attempt % 30 === 0) logger.error('cannot record a dead webhook event; trying again', { id: event.id, attempt, err });
        await new Promise((resolve) => setTimeout(resolve, DERIVER_RETRY_MS));
      }
    }
    if (this.stopped) return;
    if (replay) {
      this.replaying.delete(event.id);
      return;
    }
    this.stats.dead++;
    this.settle(event.id);
  }

  private settle(id: string): void {
    const waiting = this.out.get(id);
    const tracker = waiting?.shift();
    if (tracker === undefined) return;
    if (waiting!.length === 0) this.out.delete(id);
    if (--tracker.remaining === 0) tracker.done();
  }

  private async pollReplays(): Promise<void> {
    if (this.stopped) return;
    let marked: DeadEvent[];
    try {
      marked = await this.opts.dead.replays(REPLAY_BATCH);
    } catch (err) {
      logger.warn('cannot read the dead webhook events to replay', { err });
      return;
    }
    for (const dead of marked) {
      if (this.stopped || this.replaying.has(dead.event.id) || !this.opts.owns(dead.partition)) continue;
      const sender = this.senderFor(dead.env);
      if (sender === undefined) continue;
      this.replaying.set(dead.event.id, dead);
      sender.enqueue(`${REPLAY_LANE}${dead.event.id}`, dead.event);
    }
  }
}

/** Lanes of Log entries' events: `parley.log.<p>.…`. */
const LOG_LANE = 'parley.log.';

/** Lanes of replayed dead events: one each, since their own lane has moved on. */
const REPLAY_LANE = 'replay:';

/** The actor partition of a Log subject `parley.log.<p>.…`, 0 for anything else. */
function partitionOfLane(lane: string, partitions: number): number {
  const p = Number(lane.split('.')[2]);
  return Number.isInteger(p) && p >= 0 && p < partitions ? p : partitionOf(lane, partitions);
}
