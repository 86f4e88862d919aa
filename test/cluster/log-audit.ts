/**
 * Auditing who wrote what, from NATS itself: positions and entries of the Log
 * streams (`PARLEY_LOG_<i>`, each entry with its `Parley-Node` writer header
 * and its JetStream timestamp), and a recording of every lease change with
 * the server's timestamp, so a test can tell whether a writer held the
 * partition's lease when its entry was stored.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KvWatchEntry } from '@nats-io/kv';
import { decode } from '../../engine/protocol/codec.ts';
import { LEASES_BUCKET, until } from './harness.ts';

/** The header each Log append carries, naming its writer. */
export const WRITER_HEADER = 'Parley-Node';
const LOG_STREAM_PREFIX = 'PARLEY_LOG_';

export interface LogEntryInfo {
  stream: string;
  /** Stream sequence. */
  seq: number;
  subject: string;
  /** From the subject, `parley.log.<partition>.…`. */
  partition: number;
  /** The `Parley-Node` header; undefined when missing. */
  node: string | undefined;
  /** When JetStream stored it, ms since the epoch (server clock, truncated). */
  timeMs: number;
  /** The entry's payload (the encoded events). */
  data: Uint8Array;
}

/** The `time` (decision time, ms) of every message event in a Log entry's payload. */
export function decidedAt(entry: LogEntryInfo): number[] {
  try {
    const events = decode(entry.data) as { msg?: { time?: unknown } }[];
    return Array.isArray(events) ? events.map((e) => e?.msg?.time).filter((t): t is number => typeof t === 'number') : [];
  } catch {
    return [];
  }
}

/** Last sequence of every Log stream. */
export async function logPositions(nc: NatsConnection): Promise<Map<string, number>> {
  const jsm = await jetstreamManager(nc);
  const out = new Map<string, number>();
  for await (const info of jsm.streams.list()) {
    if (info.config.name.startsWith(LOG_STREAM_PREFIX)) out.set(info.config.name, info.state.last_seq);
  }
  return out;
}

/** Every Log entry stored after `after` (stream → sequence), up to each stream's end now. */
export async function readLogAfter(nc: NatsConnection, after: ReadonlyMap<string, number>): Promise<LogEntryInfo[]> {
  const js = jetstream(nc);
  const now = await logPositions(nc);
  const out: LogEntryInfo[] = [];
  for (const [stream, last] of now) {
    const from = (after.get(stream) ?? 0) + 1;
    if (last < from) continue;
    const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
    let seen = from - 1;
    while (seen < last) {
      const batch = await consumer.fetch({ max_messages: Math.min(1000, last - seen), expires: 5000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        seen = m.seq;
        out.push({
          stream,
          seq: m.seq,
          subject: m.subject,
          partition: Number(m.subject.split('.')[2]),
          node: m.headers?.get(WRITER_HEADER) || undefined,
          timeMs: Math.floor(m.info.timestampNanos / 1e6),
          data: m.data,
        });
        if (seen >= last) break;
      }
      if (got === 0) throw new Error(`${stream}: no entries past ${seen} although the stream ends at ${last}`);
    }
  }
  return out;
}

export interface LeaseEvent {
  partition: number;
  /** The new holder; undefined for a delete. */
  node: string | undefined;
  /** Server time of the change, ms since the epoch. */
  timeMs: number;
  revision: number;
}

/**
 * Records every change of the lease table from now on (after the current
 * value of every key). Expiries leave no trace in KV: a lapsed lease still
 * shows its last holder until somebody takes the key.
 */
export class LeaseRecorder {
  readonly events: LeaseEvent[] = [];
  private readonly iter: AsyncIterable<KvWatchEntry> & { stop(): void };
  private readonly done: Promise<void>;

  private constructor(iter: AsyncIterable<KvWatchEntry> & { stop(): void }) {
    this.iter = iter;
    this.done = (async () => {
      for await (const e of iter) {
        let node: string | undefined;
        if (e.operation === 'PUT') {
          try {
            node = (JSON.parse(e.string()) as { node?: string }).node;
          } catch {
            node = undefined;
          }
        }
        this.events.push({ partition: Number(e.key.slice(2)), node, timeMs: e.created.getTime(), revision: e.revision });
      }
    })().catch(() => {});
  }

  static async start(nc: NatsConnection): Promise<LeaseRecorder> {
    const kv = await new Kvm(nc).open(LEASES_BUCKET);
    return new LeaseRecorder(await kv.watch({ key: 'p.>' }));
  }

  /** Highest revision recorded so far. */
  get lastRevision(): number {
    return this.events.reduce((max, e) => Math.max(max, e.revision), 0);
  }

  /** The holder of `partition` at server time `timeMs` as far as recorded (changes at the same ms count as before). */
  holderAt(partition: number, timeMs: number): string | undefined {
    let holder: string | undefined;
    for (const e of this.events) {
      if (e.partition === partition && e.timeMs <= timeMs) holder = e.node;
    }
    return holder;
  }

  /** Partitions that `node` took over (PUT) after `timeMs`. */
  takenBy(node: string, afterMs: number): number[] {
    return [...new Set(this.events.filter((e) => e.node === node && e.timeMs > afterMs).map((e) => e.partition))].sort((a, b) => a - b);
  }

  /** Waits until every change stored so far has been recorded (the bucket's stream end is reached). */
  async caughtUp(nc: NatsConnection, timeoutMs = 5000): Promise<void> {
    const jsm = await jetstreamManager(nc);
    const last = (await jsm.streams.info(`KV_${LEASES_BUCKET}`)).state.last_seq;
    await until(`the lease recording to reach revision ${last}`, () => (this.lastRevision >= last ? true : undefined), timeoutMs, () => `recorded up to ${this.lastRevision}`);
  }

  async stop(): Promise<void> {
    this.iter.stop();
    await this.done;
  }
}
