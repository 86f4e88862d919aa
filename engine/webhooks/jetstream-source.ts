/**
 * The cluster webhook feed's reader: one JetStream durable pull consumer
 * per actor partition (`parley-webhooks-<p>` on the partition's Log stream,
 * filtered to `parley.log.<p>.>`), read by the node that owns the partition.
 *
 * Why per partition, by its owner: every lane (a conversation, a group, an
 * account) lives in one partition, so one reader per partition keeps each
 * lane's order with no coordination beyond the leases the actors already
 * use; the work spreads over the hosts as the partitions do; and after a
 * host dies the partition's next owner binds to the same consumer and goes
 * on from its acknowledgements. A consumer shared by every node would hand
 * consecutive events of one conversation to two nodes and lose the order.
 *
 * An entry is acknowledged once done. Entries held longer (a receiver down)
 * are kept from redelivery with `working()` every `ackWaitMs / 3`; at most
 * `window` entries are out unacknowledged (`max_ack_pending`), which bounds
 * the node's memory however long a receiver is away. A partition handed
 * over gracefully gives its unfinished entries back (`nak`) so the next
 * owner gets them at once; a crashed owner's come back after `ackWaitMs`.
 * A new reader first waits for pulls an earlier reader left open on the
 * server to expire (5 s at most), then, when entries are still out to that
 * reader, for them to come back before it reads (JetStream redelivers them
 * before newer ones), so a lane's order holds across moves.
 * Consumers are created with every node's start (`ensureConsumers`), before
 * any actor appends, so no entry goes by unseen; they deliver what is
 * appended from their creation on.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { nanos } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { logStreamName } from '../log/jetstream-log.ts';
import { logger } from '../logger.ts';
import { ParleyError } from '../protocol/errors.ts';
import type { FeedSource, TakeEntry } from './feed.ts';

export interface JetStreamFeedOptions {
  partitions: number;
  streams: number;
  /** Most entries out unacknowledged per partition. Default 2000. */
  window?: number;
  /** JetStream's redelivery deadline of an unacknowledged entry, ms: how soon a crashed owner's entries come back. Default 10000. */
  ackWaitMs?: number;
}

/** How long one pull request stays open on the server, ms: bounds how long a stopped reader's pull can linger. */
const PULL_EXPIRES_MS = 5000;

/** The durable consumer of `partition`. */
export function feedConsumerName(partition: number): string {
  return `parley-webhooks-${partition}`;
}

/** Creates each partition's feed consumer where it is missing; safe to call from every node. */
export async function ensureConsumers(nc: NatsConnection, opts: JetStreamFeedOptions): Promise<void> {
  try {
    const jsm = await jetstreamManager(nc);
    for (let p = 0; p < opts.partitions; p++) {
      const stream = logStreamName(p, opts.streams);
      const name = feedConsumerName(p);
      try {
        await jsm.consumers.info(stream, name);
        continue;
      } catch (err) {
        if ((err as { code?: unknown }).code !== 10014 && !/consumer not found/i.test(String((err as Error).message))) throw err;
      }
      await jsm.consumers.add(stream, {
        durable_name: name,
        filter_subject: `parley.log.${p}.>`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        ack_wait: nanos(opts.ackWaitMs ?? 10_000),
        max_ack_pending: opts.window ?? 2000,
        max_deliver: -1,
      });
    }
  } catch (err) {
    throw new ParleyError('UNAVAILABLE', `cannot set up the webhook feed consumers: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads one partition's feed consumer. */
export class JetStreamFeedSource implements FeedSource {
  readonly name: string;
  private readonly nc: NatsConnection;
  private readonly partition: number;
  private readonly opts: JetStreamFeedOptions;
  /** Entries not done, by stream position, with when they were last kept from redelivery. */
  private readonly held = new Map<number, { msg: JsMsg; touched: number }>();
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private keeper: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(nc: NatsConnection, partition: number, opts: JetStreamFeedOptions) {
    this.nc = nc;
    this.partition = partition;
    this.opts = opts;
    this.name = `jetstream partition ${partition}`;
  }

  async start(take: TakeEntry): Promise<void> {
    const consumer = await jetstream(this.nc).consumers.get(logStreamName(this.partition, this.opts.streams), feedConsumerName(this.partition));
    const window = this.opts.window ?? 2000;
    const ackWaitMs = this.opts.ackWaitMs ?? 10_000;
    // Entries handed to an earlier reader and not acknowledged (a crashed owner's, or ones caught in a
    // pull still open on the server) come back only once their ack wait ends; JetStream then delivers
    // them before newer ones. Reading only after that keeps each lane's order across the move.
    // A pull an earlier reader left open on the server could still take newer entries: wait for it to expire first.
    let info = await consumer.info();
    for (let waited = 0; info.num_waiting > 0 && waited < PULL_EXPIRES_MS * 2 && !this.stopped; waited += 250) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      info = await consumer.info();
    }
    if (info.num_ack_pending > 0 && !this.stopped) {
      logger.info('webhook feed waits for entries of the earlier reader to come back', { partition: this.partition, pending: info.num_ack_pending, waitMs: ackWaitMs });
      await new Promise((resolve) => setTimeout(resolve, ackWaitMs + 250));
    }
    if (this.stopped) return;
    this.messages = await consumer.consume({ max_messages: Math.min(window, 256), expires: PULL_EXPIRES_MS });
    this.keeper = setInterval(() => this.keep(ackWaitMs / 3), Math.max(100, ackWaitMs / 6));
    this.keeper.unref();
    const messages = this.messages;
    this.loop = (async () => {
      try {
        for await (const msg of messages) {
          if (this.stopped) break;
          const seq = msg.seq;
          // Redelivered while held here (a `working()` came late): it is still out once.
          if (this.held.has(seq)) continue;
          this.held.set(seq, { msg, touched: Date.now() });
          take({ subject: msg.subject, seq, data: msg.data, time: Math.floor(msg.info.timestampNanos / 1e6) }, () => {
            // Once stopped the entry was given back (nak): its next reader acknowledges it.
            if (this.held.delete(seq)) msg.ack();
          });
        }
      } catch (err) {
        if (!this.stopped) logger.error('webhook feed consumer stopped', { partition: this.partition, err });
      }
    })();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.keeper);
    // Given back, so the partition's next owner has them at once.
    for (const { msg } of this.held.values()) msg.nak();
    this.held.clear();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }

  /** Tells JetStream the entries held longer than `afterMs` are still being worked on. */
  private keep(afterMs: number): void {
    const now = Date.now();
    for (const h of this.held.values()) {
      if (now - h.touched < afterMs) continue;
      h.touched = now;
      h.msg.working();
    }
  }
}
