/**
 * Changes to the account's conversations beside their messages, journaled
 * by its user actor so a device that was offline learns them at its next
 * login: pins added, changed or removed (`PinMsgChange`), quick comments
 * put or taken off (`QuickComment`, `DeleteQuickComment`) and clears the
 * account asked its devices to follow (`ClearServerHistoryMsgs`). The
 * conversation tells online devices at once and the participants' user
 * actors with `convChanged`; the login sync reads the entries after the
 * device's `sessions` cursor (which the SDK also moves to the newest change
 * `time` it saw), oldest first, so the cost follows what changed. A device
 * without a cursor has nothing to replay (`getMsgPins`, `getQuickComments`
 * and history answer the state as it is). Entries older than
 * `convChangeSettings.retentionMs` go.
 *
 * LMDB rows (keys from engine/keys.ts): `user-conv-changes
 * userConvChange(address, time, key) → ConvChangeEntry`, where `key` names
 * the change within its millisecond, so a repeated call writes the same row.
 */
import type { ActorContext } from '../../engine/actor/behavior.ts';
import { pageBudget } from '../../engine/actor/behavior.ts';
import { decodeKey, keyOf, rangeOf } from '../../engine/keys.ts';
import { encode } from '../../engine/protocol/codec.ts';
import type { ClearedHistory, PinMsgChange, QuickCommentChange } from '../../engine/protocol/methods.ts';

/** How long conversation changes are kept for login sync; one value per process, a test may change it. */
export const convChangeSettings = {
  /** Default 30 days, in ms: a device offline longer reads pins and reactions afresh. */
  retentionMs: 30 * 24 * 3600 * 1000,
};

/** One change as a device is told it: the event's name and payload, as delivered live. */
export type ConvChangeFrame =
  | { ev: 'PinMsgChange'; d: PinMsgChange }
  | { ev: 'QuickComment' | 'DeleteQuickComment'; d: QuickCommentChange }
  | { ev: 'ClearServerHistoryMsgs'; d: ClearedHistory[] };

/** A change as journaled: its frame, when it happened (ms) and what names it within that millisecond. */
export type ConvChangeEntry = ConvChangeFrame & { time: number; key: string };

export type ConvChangeEvent = { t: 'convChanged'; changes: ConvChangeEntry[]; time: number };

export function decideConvChanged(changes: readonly ConvChangeEntry[], now: number): ConvChangeEvent[] {
  return changes.length === 0 ? [] : [{ t: 'convChanged', changes: [...changes], time: now }];
}

function keyOfEntry(address: string, c: ConvChangeEntry) {
  return keyOf('userConvChange', address, Math.max(0, Math.floor(c.time)), c.key);
}

/** Writes the entries and drops those past the retention, inside the batch's transaction. */
export function persistConvChanged(e: ConvChangeEvent, ctx: ActorContext): void {
  const db = ctx.store.db('user-conv-changes');
  for (const c of e.changes) void db.put(keyOfEntry(ctx.address, c), c);
  const cutoff = e.time - convChangeSettings.retentionMs;
  if (cutoff <= 0) return;
  const { start } = rangeOf('userConvChange', ctx.address);
  for (const key of db.getKeys({ start, end: keyOf('userConvChange', ctx.address, cutoff, '') })) void db.remove(key);
}

/** Arguments of one page. */
export interface ConvChangeSyncArgs {
  /** The device's `sessions` cursor (ms); absent or 0: nothing to send. */
  since?: number;
  /** The `next` of the previous page. */
  after?: [number, string];
  maxBytes?: number;
}

export interface ConvChangeSyncPage {
  changes: ConvChangeFrame[];
  next?: [number, string];
}

/** The entries after `since`, oldest first, bounded by bytes. */
export function convChangeSyncPage(a: ConvChangeSyncArgs, ctx: ActorContext): ConvChangeSyncPage {
  const page: ConvChangeSyncPage = { changes: [] };
  const since = typeof a.since === 'number' && a.since > 0 ? Math.floor(a.since) : 0;
  if (since === 0) return page;
  const budget = pageBudget(ctx, a.maxBytes);
  const db = ctx.store.db('user-conv-changes');
  const after = Array.isArray(a.after) && a.after.length === 2 && typeof a.after[0] === 'number' && typeof a.after[1] === 'string' ? a.after : undefined;
  const start = after === undefined ? keyOf('userConvChange', ctx.address, since + 1, '') : keyOf('userConvChange', ctx.address, Math.max(0, Math.floor(after[0])), after[1]);
  const { end } = rangeOf('userConvChange', ctx.address);
  let bytes = 0;
  let last: [number, string] | undefined;
  for (const { key, value } of db.getRange({ start, end })) {
    const [, time, name] = decodeKey('userConvChange', key);
    if (after !== undefined && time === after[0] && name === after[1]) continue;
    const { ev, d } = value as ConvChangeEntry;
    const change = { ev, d } as ConvChangeFrame;
    const size = encode(change).byteLength;
    if (page.changes.length > 0 && bytes + size > budget) {
      page.next = last;
      break;
    }
    page.changes.push(change);
    bytes += size;
    last = [time, name];
  }
  return page;
}
