/**
 * The embedded webhook feed's reader: an index of every append in the
 * order they were made, and a durable cursor over it.
 *
 * The embedded Log keeps entries by subject (`[subject, seq]`), which gives
 * no order across subjects. `LmdbFeedIndex` adds one: an observer on the
 * Log (`LmdbLog.onAppend`) writes `webhookFeedIndex(log, n) → [subject, seq,
 * ms]` for the n-th append, in the same transaction as the entry, so an
 * entry is indexed if and only if it is durable. The index is installed only
 * when webhooks are configured: without them an append writes what it
 * always did. Appends made while webhooks were off are not indexed, so
 * they are never sent.
 *
 * `LmdbFeedSource` reads the index from its cursor (`webhookCursor(log)`,
 * the position up to which every entry is done), at most `window` entries
 * beyond the first one not done, and saves the cursor at most every
 * `saveEveryMs`, pruning the index behind it. After a kill -9 it starts
 * again from the saved cursor: entries done since the last save are sent
 * again, with the same ids.
 */
import type { LmdbLog } from '../log/lmdb-log.ts';
import type { StateStore, Database } from '../store.ts';
import { keyOf, rangeOf, decodeKey } from '../keys.ts';
import { logger } from '../logger.ts';
import type { FeedSource, TakeEntry } from './feed.ts';

/** The feed's name in its keys. */
const FEED = 'log';

type IndexRow = [subject: string, seq: number, ms: number];

/** Writes the append index (see the module comment); one per Log. */
export class LmdbFeedIndex {
  readonly db: Database<IndexRow | number>;
  private last: number;

  /** Installs the index on `log`, whose environment must be `store`'s. */
  constructor(log: LmdbLog, store: StateStore) {
    if (!log.shares(store.root)) throw new Error('the webhook feed index needs the Log in the state store environment (embedded mode)');
    this.db = store.db<IndexRow | number>('webhook-feed');
    this.last = 0;
    // A reverse range runs from its upper bound (exclusive here) down to its lower one.
    const range = rangeOf('webhookFeedIndex', FEED);
    for (const key of this.db.getKeys({ start: range.end, end: range.start, reverse: true, limit: 1 })) {
      if (key[0] === range.start[0]) this.last = decodeKey('webhookFeedIndex', key)[1];
    }
    const cursor = this.db.get(keyOf('webhookCursor', FEED));
    if (typeof cursor === 'number' && cursor > this.last) this.last = cursor;
    log.onAppend((subject, seq) => {
      void this.db.put(keyOf('webhookFeedIndex', FEED, ++this.last), [subject, seq, Date.now()]);
    });
  }
}

export interface LmdbFeedSourceOptions {
  /** Most entries read beyond the first one not done. Default 2000. */
  window?: number;
  /** Pause between looks for new entries when there were none, ms. Default 20. */
  pollMs?: number;
  /** Most often the cursor is saved, ms. Default 200. */
  saveEveryMs?: number;
}

export class LmdbFeedSource implements FeedSource {
  readonly name = 'lmdb';
  private readonly index: LmdbFeedIndex;
  private readonly log: LmdbLog;
  private readonly window: number;
  private readonly pollMs: number;
  private readonly saveEveryMs: number;
  /** Index positions read and not done, in order. */
  private readonly open = new Map<number, true>();
  private take: TakeEntry | undefined;
  /** The last index position read. */
  private readUpTo = 0;
  private saved = 0;
  private prunedUpTo = 0;
  private reading = false;
  private stopped = false;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(index: LmdbFeedIndex, log: LmdbLog, options: LmdbFeedSourceOptions = {}) {
    this.index = index;
    this.log = log;
    this.window = options.window ?? 2000;
    this.pollMs = options.pollMs ?? 20;
    this.saveEveryMs = options.saveEveryMs ?? 200;
  }

  /** The position up to which every entry is done. */
  get cursor(): number {
    const first = this.open.keys().next();
    return first.done === true ? this.readUpTo : first.value - 1;
  }

  start(take: TakeEntry): Promise<void> {
    this.take = take;
    const cursor = this.index.db.get(keyOf('webhookCursor', FEED));
    this.readUpTo = typeof cursor === 'number' ? cursor : 0;
    this.saved = this.readUpTo;
    this.prunedUpTo = this.readUpTo;
    void this.read();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.saveTimer);
    await this.save();
  }

  private async read(): Promise<void> {
    if (this.reading || this.stopped) return;
    this.reading = true;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    try {
      const room = this.window - this.open.size;
      if (room <= 0) return; // a done entry wakes the reader
      const range = rangeOf('webhookFeedIndex', FEED);
      const rows: [number, IndexRow][] = [];
      for (const { key, value } of this.index.db.getRange({ start: keyOf('webhookFeedIndex', FEED, this.readUpTo + 1), end: range.end, limit: room })) {
        rows.push([decodeKey('webhookFeedIndex', key)[1], value as IndexRow]);
      }
      for (const [position, [subject, seq, ms]] of rows) {
        if (this.stopped) return;
        const [entry] = await this.log.read(subject, seq, 1);
        this.readUpTo = position;
        if (entry === undefined || entry.seq !== seq) {
          logger.error('webhook feed index names a log entry that is not there', { subject, seq });
          continue;
        }
        this.open.set(position, true);
        this.take!({ subject, seq, data: entry.data, time: ms }, () => this.finish(position));
      }
      if (rows.length === room) setImmediate(() => void this.read());
      else if (!this.stopped) this.pollTimer = setTimeout(() => void this.read(), this.pollMs);
    } catch (err) {
      logger.error('webhook feed cannot read the log index; trying again', { err });
      if (!this.stopped) this.pollTimer = setTimeout(() => void this.read(), 1000);
    } finally {
      this.reading = false;
    }
  }

  private finish(position: number): void {
    const wasFull = this.open.size >= this.window;
    this.open.delete(position);
    if (wasFull) setImmediate(() => void this.read());
    if (this.saveTimer === undefined && !this.stopped) {
      this.saveTimer = setTimeout(() => {
        this.saveTimer = undefined;
        void this.save();
      }, this.saveEveryMs);
    }
  }

  /** Writes the cursor and drops the index rows behind it. */
  private async save(): Promise<void> {
    const cursor = this.cursor;
    if (cursor <= this.saved) return;
    const from = this.prunedUpTo;
    this.saved = cursor;
    this.prunedUpTo = cursor;
    try {
      await this.index.db.transaction(() => {
        void this.index.db.put(keyOf('webhookCursor', FEED), cursor);
        for (const key of this.index.db.getKeys({ start: keyOf('webhookFeedIndex', FEED, from), end: keyOf('webhookFeedIndex', FEED, cursor + 1) })) {
          void this.index.db.remove(key);
        }
      });
    } catch (err) {
      logger.error('webhook feed cannot save its cursor', { cursor, err });
      this.saved = Math.min(this.saved, from);
    }
  }
}
