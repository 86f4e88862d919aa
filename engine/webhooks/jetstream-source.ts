/**
 * The cluster webhook feed's reader: one per actor partition, run by the
 * node that holds the partition's lease, reading the partition's Log
 * subjects (`parley.log.<p>.>`) with an ordered consumer from the
 * partition's feed position.
 *
 * Why per partition, by its owner: every lane (a conversation, a group, an
 * account) lives in one partition, so one reader per partition keeps each
 * lane's order with no coordination beyond the leases the actors already
 * use, and the work spreads over the hosts as the partitions do.
 *
 * The position: `p.<partition>` in the KV bucket `parley-webhook-feed`
 * holds the stream sequence below which every entry of the partition is
 * done (its events acknowledged or recorded dead). The reader keeps it
 * itself and writes it at most every `saveEveryMs` and when it stops. A new
 * owner reads it and goes on from the entry after it at once: there are no
 * server-side acknowledgements, pulls or redelivery timers to wait out.
 * Entries done after the last write are sent again, with the same ids (at
 * least once). A late write by an earlier owner can only name entries that
 * were done, or move the position back (more sent again): never past an
 * entry not done.
 *
 * Order across a move: the reader runs only while its host holds the
 * partition's lease (the feed checks `owns` before every try; a lease that
 * lapses on the local clock stops the reader before the next host can take
 * the key), and a graceful handover stops it, aborting its tries in flight,
 * before the lease key is deleted. The next owner starts at or below every
 * entry the earlier one had not done, so it sends each lane's events in
 * order again from there, each after the previous was acknowledged.
 *
 * At most `window` entries read and not done are held, which bounds the
 * node's memory however long a receiver is away. Positions are created with
 * every node's start (`ensureFeedPositions`), before any actor appends, at
 * the stream's end (or, once, at the ack floor of the durable consumer an
 * earlier version read with), so no entry goes by unseen.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Consumer, ConsumerMessages } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import { logStreamName } from '../log/jetstream-log.ts';
import { logger } from '../logger.ts';
import { ParleyError } from '../protocol/errors.ts';
import type { FeedSource, TakeEntry } from './feed.ts';

export const FEED_BUCKET = 'parley-webhook-feed';

export interface JetStreamFeedOptions {
  partitions: number;
  streams: number;
  /** JetStream replicas of the position bucket. Default 1. */
  replicas?: number;
  /** Most entries read and not done per partition. Default 2000. */
  window?: number;
  /** Most often the position is written, ms. Default 200. */
  saveEveryMs?: number;
}

/** How long one fetch stays open on the server, ms (a stopped reader's ends by then). */
const FETCH_EXPIRES_MS = 2000;
/** Most entries asked for at once. */
const FETCH_BATCH = 256;

/** The durable consumer earlier versions read `partition` with; its ack floor seeds the position once. */
export function feedConsumerName(partition: number): string {
  return `parley-webhooks-${partition}`;
}

function positionKey(partition: number): string {
  return `p.${partition}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The position bucket; created where it is missing. */
export async function openFeedPositions(nc: NatsConnection, replicas = 1): Promise<KV> {
  return new Kvm(nc).create(FEED_BUCKET, { history: 1, replicas });
}

/**
 * Creates each partition's feed position where it is missing (at its
 * stream's end, or at an earlier version's consumer's ack floor); safe to
 * call from every node. Returns the bucket.
 */
export async function ensureFeedPositions(nc: NatsConnection, opts: JetStreamFeedOptions): Promise<KV> {
  try {
    const kv = await openFeedPositions(nc, opts.replicas);
    const jsm = await jetstreamManager(nc);
    const ends = new Map<string, number>();
    for (let p = 0; p < opts.partitions; p++) {
      if ((await kv.get(positionKey(p)))?.operation === 'PUT') continue;
      const stream = logStreamName(p, opts.streams);
      let start: number | undefined;
      try {
        start = (await jsm.consumers.info(stream, feedConsumerName(p))).ack_floor.stream_seq;
      } catch (err) {
        if ((err as { code?: unknown }).code !== 10014 && !/consumer not found/i.test(String((err as Error).message))) throw err;
      }
      if (start === undefined) {
        if (!ends.has(stream)) ends.set(stream, (await jsm.streams.info(stream)).state.last_seq);
        start = ends.get(stream)!;
      }
      try {
        await kv.create(positionKey(p), encoder.encode(String(start)));
      } catch (err) {
        // Another node created it first: theirs stands.
        if (!/wrong last sequence|key exists/i.test(String((err as Error).message))) throw err;
      }
    }
    return kv;
  } catch (err) {
    throw new ParleyError('UNAVAILABLE', `cannot set up the webhook feed positions: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads one partition's Log subjects from its feed position. */
export class JetStreamFeedSource implements FeedSource {
  readonly name: string;
  private readonly nc: NatsConnection;
  private readonly kv: KV;
  private readonly partition: number;
  private readonly window: number;
  private readonly saveEveryMs: number;
  private readonly streams: number;
  /** Stream sequences read and not done, ascending. */
  private readonly open = new Set<number>();
  /** The last stream sequence read. */
  private readUpTo = 0;
  private saved = 0;
  private batch: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private saving: Promise<void> = Promise.resolve();
  private room: (() => void) | undefined;
  private stopped = false;

  constructor(nc: NatsConnection, kv: KV, partition: number, opts: JetStreamFeedOptions) {
    this.nc = nc;
    this.kv = kv;
    this.partition = partition;
    this.streams = opts.streams;
    this.window = opts.window ?? 2000;
    this.saveEveryMs = opts.saveEveryMs ?? 200;
    this.name = `jetstream partition ${partition}`;
  }

  /** The stream sequence up to which every entry of the partition is done. */
  get position(): number {
    const first = this.open.values().next();
    return first.done === true ? this.readUpTo : first.value - 1;
  }

  async start(take: TakeEntry): Promise<void> {
    const stored = await this.kv.get(positionKey(this.partition));
    const at = stored?.operation === 'PUT' ? Number(decoder.decode(stored.value)) : 0;
    this.readUpTo = Number.isSafeInteger(at) && at > 0 ? at : 0;
    this.saved = this.readUpTo;
    const consumer = await jetstream(this.nc).consumers.get(logStreamName(this.partition, this.streams), {
      filter_subjects: `parley.log.${this.partition}.>`,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.readUpTo + 1,
    });
    if (this.stopped) return;
    this.loop = this.read(consumer, take);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.saveTimer);
    this.room?.();
    await this.batch?.close().catch(() => undefined);
    await this.loop;
    await this.saving;
    await this.save();
  }

  private async read(consumer: Consumer, take: TakeEntry): Promise<void> {
    while (!this.stopped) {
      if (this.open.size >= this.window) {
        await new Promise<void>((resolve) => (this.room = resolve));
        this.room = undefined;
        continue;
      }
      try {
        this.batch = await consumer.fetch({ max_messages: Math.min(FETCH_BATCH, this.window - this.open.size), expires: FETCH_EXPIRES_MS });
        for await (const msg of this.batch) {
          if (this.stopped) break;
          const seq = msg.seq;
          if (seq <= this.readUpTo) continue;
          this.readUpTo = seq;
          this.open.add(seq);
          take({ subject: msg.subject, seq, data: msg.data, time: Math.floor(msg.info.timestampNanos / 1e6) }, () => this.finish(seq));
        }
      } catch (err) {
        if (this.stopped) break;
        logger.warn('webhook feed read failed; trying again', { partition: this.partition, err: String(err) });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private finish(seq: number): void {
    if (!this.open.delete(seq)) return;
    this.room?.();
    if (this.saveTimer === undefined && !this.stopped) {
      this.saveTimer = setTimeout(() => {
        this.saveTimer = undefined;
        this.saving = this.save();
      }, this.saveEveryMs);
    }
  }

  /** Writes the position when it moved. */
  private async save(): Promise<void> {
    const position = this.position;
    if (position <= this.saved) return;
    try {
      await this.kv.put(positionKey(this.partition), encoder.encode(String(position)));
      this.saved = Math.max(this.saved, position);
    } catch (err) {
      logger.warn('webhook feed cannot save its position', { partition: this.partition, position, err: String(err) });
      if (!this.stopped && this.saveTimer === undefined) {
        this.saveTimer = setTimeout(() => {
          this.saveTimer = undefined;
          this.saving = this.save();
        }, 1000);
      }
    }
  }
}
