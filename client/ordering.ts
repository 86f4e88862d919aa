/**
 * Live messages in order: per session, `msg` is emitted in `seq` order,
 * without gaps where the SDK knows the session and without duplicates.
 * A message that arrives past a gap (a delivery lost in a reconnect or a
 * handover) waits while the missing ones are fetched from history — at most
 * a page of `GAP_FILL_LIMIT`; beyond that the app pages history itself.
 * What has been seen is kept by `SyncState`. Browser-safe: no Node APIs.
 *
 * A session update's newest message counts as a delivery of it (its `msg`
 * may come later, or not at all), except during a login sync: an update then
 * may be about a message sent while the device was away (a read, a recall
 * or an unread change elsewhere), which the sync brings as an offline
 * message. Such messages wait for `syncdone` and are dropped there when the
 * sync brought them. The account's own messages sent with `isSyncable:
 * false` are never made a `msg` on its other devices.
 */
import type { SyncState } from './sync-state.ts';
import { isRecord, toError } from './shared.ts';

/** Most messages fetched to fill one gap in a session. */
export const GAP_FILL_LIMIT = 100;

/** What ordering needs from the client: a `getHistoryMsgs` request and the emitter. */
export interface OrderingOwner {
  /** Sends `getHistoryMsgs` with these arguments; resolves with its result. */
  fetchHistory(a: Record<string, unknown>): Promise<unknown>;
  emit(event: 'msg' | 'error', data: unknown): void;
}

export class MessageOrdering {
  private readonly sync: SyncState;
  private readonly owner: OrderingOwner;
  /** Gap fills in progress per session: later messages of the session wait for them. */
  private readonly gapFills = new Map<string, Promise<void>>();
  /** While a login sync runs: the newest message of each session an update carried, delivered after `syncdone`. */
  private held: Map<string, Record<string, unknown>> | undefined;

  constructor(sync: SyncState, owner: OrderingOwner) {
    this.sync = sync;
    this.owner = owner;
  }

  /** Emits `msg` for a live message once the ones before it are out; drops a duplicate. */
  deliver(msg: unknown): void {
    if (!isRecord(msg) || typeof msg.sessionId !== 'string' || typeof msg.seq !== 'number') {
      this.owner.emit('msg', msg);
      return;
    }
    const sessionId = msg.sessionId;
    const seq = msg.seq;
    const pending = this.gapFills.get(sessionId);
    const known = this.sync.lastSeq(sessionId);
    if (pending === undefined && (known === undefined || seq <= known + 1)) {
      this.emitIfNew(msg);
      return;
    }
    const fill = (pending ?? Promise.resolve())
      .then(() => this.fillGap(msg, seq))
      .then(() => this.emitIfNew(msg))
      .finally(() => {
        if (this.gapFills.get(sessionId) === fill) this.gapFills.delete(sessionId);
      });
    this.gapFills.set(sessionId, fill);
  }

  /** A login is sent: until its sync is done, the messages session updates carry wait. */
  holdSessionMessages(): void {
    this.held ??= new Map();
  }

  /** The newest message of a session update: delivered as a live one, or held while a login sync runs. */
  deliverSessionMessage(msg: unknown): void {
    if (unsyncedOwn(msg)) return;
    if (this.held === undefined || !isRecord(msg) || typeof msg.sessionId !== 'string' || typeof msg.seq !== 'number') {
      this.deliver(msg);
      return;
    }
    const prev = this.held.get(msg.sessionId);
    // One per session is enough: a later one brings the ones before it through the gap fill.
    if (prev === undefined || (prev.seq as number) < msg.seq) this.held.set(msg.sessionId, msg);
  }

  /** The login sync is done: the held messages are delivered; those the sync brought are duplicates and dropped. */
  releaseSessionMessages(): void {
    const held = this.held;
    this.held = undefined;
    for (const msg of held?.values() ?? []) this.deliver(msg);
  }

  /** Records a batch of stored messages (offline, roaming) and returns the ones not seen before, in their order. */
  unseen(msgs: readonly unknown[]): unknown[] {
    return msgs.filter((m) => this.sync.noteMessage(m));
  }

  private emitIfNew(msg: unknown): void {
    if (this.sync.noteMessage(msg)) this.owner.emit('msg', msg);
  }

  /** Fetches and emits, in order, the messages between the last one seen and `msg`. */
  private async fillGap(msg: Record<string, unknown>, seq: number): Promise<void> {
    const sessionId = msg.sessionId as string;
    const known = this.sync.lastSeq(sessionId) ?? seq - 1;
    if (seq <= known + 1 || typeof msg.scene !== 'string' || typeof msg.target !== 'string') return;
    try {
      const page = (await this.owner.fetchHistory({
        scene: msg.scene,
        to: msg.target,
        endTime: msg.time,
        lastMsgId: msg.idServer,
        limit: Math.min(GAP_FILL_LIMIT, seq - known - 1),
        asc: true,
      })) as { msgs?: unknown[] } | undefined;
      for (const m of page?.msgs ?? []) {
        if (isRecord(m) && typeof m.seq === 'number' && m.seq > known && m.seq < seq && !unsyncedOwn(m)) this.emitIfNew(m);
      }
    } catch (err) {
      // The app still gets `msg`; it can page history for what is missing.
      this.owner.emit('error', toError(err));
    }
  }
}

/**
 * One of this account's own messages sent with `isSyncable: false`: the
 * server does not deliver it to the sender's other devices, so neither a
 * session update nor a gap fill makes it a `msg` here (history still holds it).
 */
function unsyncedOwn(msg: unknown): boolean {
  return isRecord(msg) && msg.flow === 'out' && msg.isSyncable === false;
}
