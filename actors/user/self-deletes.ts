/**
 * Messages the account deleted for self, journaled by its user actor so a
 * device that was offline learns them at its next login (`DeleteMsgSelf`).
 * The conversation tells online devices at once and the user actor with
 * `selfDeleted`; the login sync reads the entries after the device's
 * `sessions` cursor (which the SDK also moves to the newest `deletedTime` it
 * saw), in time order, so the cost follows what changed. A
 * device without a cursor has nothing to hide (its history already leaves
 * the messages out). Entries older than `selfDeleteSettings.retentionMs` go.
 *
 * LMDB rows (keys from engine/keys.ts): `user-self-deletes
 * userSelfDelete(address, deletedTime, sessionId, idServer) → DeletedMsgSelf`.
 */
import type { ActorContext } from '../../engine/actor/behavior.ts';
import { pageBudget } from '../../engine/actor/behavior.ts';
import { decodeKey, keyOf, rangeOf } from '../../engine/keys.ts';
import { encode } from '../../engine/protocol/codec.ts';
import type { DeletedMsgSelf } from '../../engine/protocol/objects.ts';

/** How long deletes-for-self are kept for login sync; one value per process, a test may change it. */
export const selfDeleteSettings = {
  /** Default 30 days, in ms: a device offline longer relies on history, which leaves the messages out anyway. */
  retentionMs: 30 * 24 * 3600 * 1000,
};

export type SelfDeleteEvent = { t: 'selfDeleted'; deleted: DeletedMsgSelf[]; time: number };

export function decideSelfDeleted(deleted: readonly DeletedMsgSelf[], now: number): SelfDeleteEvent[] {
  return deleted.length === 0 ? [] : [{ t: 'selfDeleted', deleted: [...deleted], time: now }];
}

function keyOfEntry(address: string, d: DeletedMsgSelf) {
  return keyOf('userSelfDelete', address, Math.max(0, Math.floor(d.deletedTime)), d.sessionId, d.idServer);
}

/** Writes the entries and drops those past the retention, inside the batch's transaction. */
export function persistSelfDeleted(e: SelfDeleteEvent, ctx: ActorContext): void {
  const db = ctx.store.db('user-self-deletes');
  for (const d of e.deleted) void db.put(keyOfEntry(ctx.address, d), d);
  const cutoff = e.time - selfDeleteSettings.retentionMs;
  if (cutoff <= 0) return;
  const { start } = rangeOf('userSelfDelete', ctx.address);
  for (const key of db.getKeys({ start, end: keyOf('userSelfDelete', ctx.address, cutoff, '', '') })) void db.remove(key);
}

/** Arguments of one page. */
export interface SelfDeleteSyncArgs {
  /** The device's `sessions` cursor (ms); absent or 0: nothing to send. */
  since?: number;
  /** The `next` of the previous page. */
  after?: [number, string, string];
  maxBytes?: number;
}

export interface SelfDeleteSyncPage {
  deleted: DeletedMsgSelf[];
  next?: [number, string, string];
}

/** The entries after `since`, oldest first, bounded by bytes. */
export function selfDeleteSyncPage(a: SelfDeleteSyncArgs, ctx: ActorContext): SelfDeleteSyncPage {
  const page: SelfDeleteSyncPage = { deleted: [] };
  const since = typeof a.since === 'number' && a.since > 0 ? Math.floor(a.since) : 0;
  if (since === 0) return page;
  const budget = pageBudget(ctx, a.maxBytes);
  const db = ctx.store.db('user-self-deletes');
  const after = Array.isArray(a.after) && a.after.length === 3 ? a.after : undefined;
  const start = after === undefined ? keyOf('userSelfDelete', ctx.address, since + 1, '', '') : keyOf('userSelfDelete', ctx.address, after[0], after[1], after[2]);
  const { end } = rangeOf('userSelfDelete', ctx.address);
  let bytes = 0;
  for (const { key, value } of db.getRange({ start, end })) {
    const parts = decodeKey('userSelfDelete', key);
    if (after !== undefined && parts[1] === after[0] && parts[2] === after[1] && parts[3] === after[2]) continue;
    const d = value as DeletedMsgSelf;
    const size = encode(d).byteLength;
    if (page.deleted.length > 0 && bytes + size > budget) {
      const last = page.deleted[page.deleted.length - 1]!;
      page.next = [Math.floor(last.deletedTime), last.sessionId, last.idServer];
      break;
    }
    page.deleted.push(d);
    bytes += size;
  }
  return page;
}
