/**
 * Webhook events that ran out of retries, kept durably until the host asks
 * for them to be sent again (the admin methods `listDeadWebhookEvents` and
 * `replayDeadWebhookEvents`). A replay request is a mark beside the dead
 * event; the feed that serves the event's partition picks marks up, sends
 * the event again (same id, signed anew) and removes both once it is
 * acknowledged, or records it dead again with the new failure.
 *
 * Two implementations, one per mode: rows in the state store's LMDB
 * environment (embedded), and a JetStream KV bucket that every node of a
 * cluster reaches (so an edge's admin API lists what any actor host
 * recorded).
 */
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { WebhookEvent } from './sender.ts';
import type { StateStore, Database } from '../store.ts';
import { keyOf, rangeOf, decodeKey } from '../keys.ts';
import { ParleyError } from '../protocol/errors.ts';

/** A dead event as kept. */
export interface DeadEvent {
  readonly event: WebhookEvent;
  /** The lane it was sent on (its Log subject). */
  readonly lane: string;
  /** The message's `env`, which chose its URL. */
  readonly env?: string;
  /** The actor partition of its Log subject: the feed serving it replays it. */
  readonly partition: number;
  /** The last failure (`HTTP 500`, a connection error, a timeout). */
  readonly error: string;
  /** When it was recorded dead, ms. */
  readonly deadAt: number;
}

/** One page of dead events, in id order; `next` is the `after` of the next page. */
export interface DeadPage {
  events: DeadEvent[];
  next?: string;
}

export interface DeadEvents {
  /** Records `dead` (replacing a record of the same id); resolves once durable. */
  put(dead: DeadEvent): Promise<void>;
  /** Up to `limit` dead events with ids after `after`, in id order. */
  list(limit: number, after?: string): Promise<DeadPage>;
  /** Marks the dead events of `ids` (every dead event when absent) to be sent again; resolves with how many were marked. */
  markReplay(ids?: readonly string[]): Promise<number>;
  /** The dead events marked to be sent again, at most `limit`. */
  replays(limit: number): Promise<DeadEvent[]>;
  /** Forgets the dead event `id` and its replay mark (it was acknowledged). */
  remove(id: string): Promise<void>;
  /** Forgets the replay mark of `id` only (it died again and was recorded anew). */
  unmark(id: string): Promise<void>;
}

const DEAD = 'dead';
const REPLAY = 'replay';

/** Dead events in the state store (embedded mode): `webhooks webhookDead(dead, id)` and `webhookReplay(replay, id)`. */
export class LmdbDeadEvents implements DeadEvents {
  private readonly db: Database<DeadEvent | 1>;

  constructor(store: StateStore) {
    this.db = store.db<DeadEvent | 1>('webhooks');
  }

  async put(dead: DeadEvent): Promise<void> {
    await this.db.put(keyOf('webhookDead', DEAD, dead.event.id), dead);
  }

  list(limit: number, after?: string): Promise<DeadPage> {
    const range = rangeOf('webhookDead', DEAD);
    const start = after === undefined ? range.start : keyOf('webhookDead', DEAD, after);
    const events: DeadEvent[] = [];
    for (const { key, value } of this.db.getRange({ start, end: range.end, limit: limit + 2 })) {
      if (after !== undefined && decodeKey('webhookDead', key)[1] === after) continue;
      if (events.length === limit) return Promise.resolve({ events, next: events[events.length - 1]!.event.id });
      events.push(value as DeadEvent);
    }
    return Promise.resolve({ events });
  }

  async markReplay(ids?: readonly string[]): Promise<number> {
    const marked: string[] = [];
    if (ids === undefined) {
      for (const key of this.db.getKeys(rangeOf('webhookDead', DEAD))) marked.push(decodeKey('webhookDead', key)[1]);
    } else {
      for (const id of ids) if (this.db.doesExist(keyOf('webhookDead', DEAD, id))) marked.push(id);
    }
    await this.db.transaction(() => {
      for (const id of marked) void this.db.put(keyOf('webhookReplay', REPLAY, id), 1);
    });
    return marked.length;
  }

  replays(limit: number): Promise<DeadEvent[]> {
    const out: DeadEvent[] = [];
    for (const key of this.db.getKeys({ ...rangeOf('webhookReplay', REPLAY), limit })) {
      const id = decodeKey('webhookReplay', key)[1];
      const dead = this.db.get(keyOf('webhookDead', DEAD, id));
      if (dead !== undefined && dead !== 1) out.push(dead);
      else void this.db.remove(key);
    }
    return Promise.resolve(out);
  }

  async remove(id: string): Promise<void> {
    await this.db.transaction(() => {
      void this.db.remove(keyOf('webhookDead', DEAD, id));
      void this.db.remove(keyOf('webhookReplay', REPLAY, id));
    });
  }

  async unmark(id: string): Promise<void> {
    await this.db.remove(keyOf('webhookReplay', REPLAY, id));
  }
}

/** Name of the cluster's dead-event bucket. */
export const DEAD_BUCKET = 'PARLEY_WEBHOOK_DEAD';

/** KV keys allow `[-/_=.a-zA-Z0-9]`: an id is kept as its base64url. */
function kvKey(prefix: string, id: string): string {
  return `${prefix}.${Buffer.from(id, 'utf8').toString('base64url')}`;
}

function idOfKvKey(key: string): string {
  return Buffer.from(key.slice(key.indexOf('.') + 1), 'base64url').toString('utf8');
}

const TE = new TextEncoder();
const TD = new TextDecoder();

/** Dead events in a JetStream KV bucket (cluster mode): keys `dead.<id>` and `replay.<id>`, ids in base64url. */
export class KvDeadEvents implements DeadEvents {
  private readonly kv: KV;

  private constructor(kv: KV) {
    this.kv = kv;
  }

  /** Opens (creating if needed) the bucket with `replicas` replicas. */
  static async open(nc: NatsConnection, replicas: number): Promise<KvDeadEvents> {
    try {
      const kv = await new Kvm(nc).create(DEAD_BUCKET, { history: 1, replicas });
      return new KvDeadEvents(kv);
    } catch (err) {
      throw new ParleyError('UNAVAILABLE', `cannot open the webhook dead-event bucket ${DEAD_BUCKET}: ${(err as Error).message}`, { cause: err });
    }
  }

  async put(dead: DeadEvent): Promise<void> {
    await this.kv.put(kvKey(DEAD, dead.event.id), TE.encode(JSON.stringify(dead)));
  }

  private async ids(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for await (const key of await this.kv.keys(`${prefix}.>`)) out.push(idOfKvKey(key));
    return out.sort();
  }

  private async get(id: string): Promise<DeadEvent | undefined> {
    const entry = await this.kv.get(kvKey(DEAD, id));
    if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    return JSON.parse(TD.decode(entry.value)) as DeadEvent;
  }

  async list(limit: number, after?: string): Promise<DeadPage> {
    const ids = (await this.ids(DEAD)).filter((id) => after === undefined || id > after);
    const events: DeadEvent[] = [];
    for (const id of ids.slice(0, limit)) {
      const dead = await this.get(id);
      if (dead !== undefined) events.push(dead);
    }
    return ids.length > limit ? { events, next: ids[limit - 1]! } : { events };
  }

  async markReplay(ids?: readonly string[]): Promise<number> {
    const known = new Set(await this.ids(DEAD));
    const marked = ids === undefined ? [...known] : ids.filter((id) => known.has(id));
    for (const id of marked) await this.kv.put(kvKey(REPLAY, id), TE.encode('1'));
    return marked.length;
  }

  async replays(limit: number): Promise<DeadEvent[]> {
    const out: DeadEvent[] = [];
    for (const id of (await this.ids(REPLAY)).slice(0, limit)) {
      const dead = await this.get(id);
      if (dead !== undefined) out.push(dead);
      else await this.kv.purge(kvKey(REPLAY, id));
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    await this.kv.purge(kvKey(DEAD, id));
    await this.kv.purge(kvKey(REPLAY, id));
  }

  async unmark(id: string): Promise<void> {
    await this.kv.purge(kvKey(REPLAY, id));
  }
}
