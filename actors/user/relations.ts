/**
 * The account's blocklist and mutelist, kept by its user actor, and the
 * replica of who blocked the account (`blockedBy`, for refusing its friend
 * requests). Pure: no I/O.
 *
 * Where the blocklist is enforced: the owner's user actor decides every
 * change, and each change is pushed, as a durable call effect with absolute
 * values, to the two places that must refuse the blocked account without
 * asking anyone at send time: the p2p conversation actor of the pair (it
 * refuses the blocked account's messages of every kind, and marks a muted
 * one's) and the blocked account's user actor (it refuses friend
 * requests). An actor never waits on another inside a turn, so a per-send
 * question to the recipient would cost a round trip and a second actor on
 * the hot path; the replicas cost one call per relation change instead. The
 * edge answers a blocklist or mutelist write only after both replicas
 * acknowledged it, so once the owner has its answer the block holds; should
 * the edge fail before that, the owner's outbox still carries the change.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import { MAX_RELATIONS } from '../../engine/protocol/methods/people.ts';
import type { RelationChange, RelationRecord } from '../../engine/protocol/objects.ts';

export type RelationList = 'blacklist' | 'mutelist';

export interface RelationsState {
  /** Blocked accounts → when they were added, in the order added. */
  blacklist: Map<string, number>;
  /** Muted accounts → when they were added, in the order added. */
  mutelist: Map<string, number>;
  /** Accounts that marked this one → their latest mark (replica, see above); unblocks are kept so a late older block cannot undo them. */
  blockedBy: Map<string, { blocked: boolean; time: number }>;
}

export type RelationEvent =
  /** The owner added `account` to a list, or removed it. */
  | { t: 'mark'; list: RelationList; account: string; isAdd: boolean; time: number; conn?: string }
  /** `by` blocked this account (`blocked`) or unblocked it, as of `time`. */
  | { t: 'blockedBy'; by: string; blocked: boolean; time: number };

/** What the pair's replicas hold about one owner's marks on its peer: absolute values, newest `time` wins. */
export interface RelationMark {
  /** The owner of the lists. */
  owner: string;
  peer: string;
  blocked: boolean;
  muted: boolean;
  time: number;
}

export function emptyRelations(): RelationsState {
  return { blacklist: new Map(), mutelist: new Map(), blockedBy: new Map() };
}

export function recordsOf(list: Map<string, number>): RelationRecord[] {
  return [...list].map(([account, updateTime]) => ({ account, updateTime }));
}

/**
 * Adds `account` to a list or removes it. A repeat is no change and
 * answers the entry as it is (a stranger removed: `isAdd: false` with
 * `updateTime` 0).
 */
export function decideMark(
  state: RelationsState,
  owner: string,
  list: RelationList,
  account: string,
  isAdd: boolean,
  now: number,
  conn: string | undefined,
): { reply: RelationChange; events: Extract<RelationEvent, { t: 'mark' }>[] } {
  if (account === owner) throw new ParleyError('BAD_REQUEST', `\`account\` must be another account: ${list === 'blacklist' ? 'blocking' : 'muting'} oneself is meaningless`);
  const entries = state[list];
  const at = entries.get(account);
  if (isAdd === (at !== undefined)) return { reply: { isAdd, record: { account, updateTime: at ?? 0 } }, events: [] };
  if (isAdd && entries.size >= MAX_RELATIONS) throw new ParleyError('CONFLICT', `the ${list} holds ${MAX_RELATIONS} accounts already, the most it may`);
  const e: Extract<RelationEvent, { t: 'mark' }> = { t: 'mark', list, account, isAdd, time: now };
  if (conn !== undefined) e.conn = conn;
  return { reply: { isAdd, record: { account, updateTime: now } }, events: [e] };
}

/** The owner's marks on `peer`, for the replicas. */
export function markOf(state: RelationsState, owner: string, peer: string, time: number): RelationMark {
  return { owner, peer, blocked: state.blacklist.has(peer), muted: state.mutelist.has(peer), time };
}

export function applyMark(state: RelationsState, e: Extract<RelationEvent, { t: 'mark' }>): void {
  const entries = state[e.list];
  // Removed then set again: a Map keeps insertion order, so the lists stay oldest first.
  entries.delete(e.account);
  if (e.isAdd) entries.set(e.account, e.time);
}

/** A replica mark from `by`: an event only when it is newer than what is held and changes it. */
export function decideBlockedBy(state: RelationsState, by: string, blocked: boolean, time: number): Extract<RelationEvent, { t: 'blockedBy' }>[] {
  const held = state.blockedBy.get(by) ?? { blocked: false, time: 0 };
  if (held.time > time || (held.time === time && held.blocked === blocked)) return [];
  return [{ t: 'blockedBy', by, blocked, time }];
}

export function applyBlockedBy(state: RelationsState, e: Extract<RelationEvent, { t: 'blockedBy' }>): void {
  state.blockedBy.set(e.by, { blocked: e.blocked, time: e.time });
}

/** Whether `by` has this account in its blocklist, as far as the replica knows. */
export function isBlockedBy(state: RelationsState, by: string): boolean {
  return state.blockedBy.get(by)?.blocked === true;
}
