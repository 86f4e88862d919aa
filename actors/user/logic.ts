/**
 * The user actor's rules for server sessions, free of I/O.
 *
 * Unread counts come from read pointers: a conversation tells each member its
 * last `seq` and how many of those messages the member sent (`own`). The
 * member's unread count is the other party's messages past its read pointer,
 * leaving out those sent with `isUnreadable: false` (`quiet`):
 * `(lastSeq - lastOwn - lastQuiet) - (readSeq - readOwn - readQuiet)`.
 * Updates carry absolute positions, so they may arrive twice or out of order
 * without harm.
 *
 * A row also holds what the owner sets on a session (its `ext`, a pin), the
 * read receipts both ways (p2p), and a deletion mark: a deleted session
 * stays as a hidden row, keeping its pointers, so a stale update cannot bring
 * it back and a later message brings it back with only that message unread.
 */
import { encode } from '../../engine/protocol/codec.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Message, Scene, Session } from '../../engine/protocol/methods.ts';

export interface SessionRow {
  id: string;
  scene: Scene;
  to: string;
  /** Address of the conversation actor. */
  address: string;
  lastMsg: Message | undefined;
  lastSeq: number;
  lastOwn: number;
  readSeq: number;
  readOwn: number;
  updateTime: number;
  /** The owner's extension (`updateServerSession`). */
  ext?: string;
  /** Messages of others up to `lastSeq` sent with `isUnreadable: false`; absent = 0. */
  lastQuiet?: number;
  /** `lastQuiet` as of the read pointer; absent = 0. */
  readQuiet?: number;
  /** Server time of the latest change that is not a new message (read, ext, pin, receipt, delete): the login sync's filter. */
  changeTime?: number;
  /** Set by `deleteServerSessions`: the row is hidden until a message past this seq arrives. */
  deletedSeq?: number;
  /** Pinned (`addStickTopSession`), with the pin's extension. */
  isTop?: boolean;
  topCustom?: string;
  /** p2p: time of the newest message of ours the peer acknowledged reading. */
  receiptTime?: number;
  /** p2p: time of the newest message of the peer's we acknowledged reading (our receipt pointer). */
  sentReceiptTime?: number;
  /** Seqs past the read pointer of others' messages that were recalled: they no longer count as unread. */
  recalledUnread?: number[];
}

export interface UserState {
  account: string;
  sessions: Map<string, SessionRow>;
  /** Profile, relations and friends (people.ts); loaded with the actor, made empty on first use otherwise. */
  people?: import('./people.ts').PeopleState;
}

/**
 * The user actor's events. `touch` and `read` entries written before
 * `quiet` and `time` existed replay as they did (both absent = 0).
 */
export type UserEvent =
  | { t: 'touch'; id: string; scene: Scene; to: string; address: string; seq: number; own: number; msg: Message; quiet?: number; corrected?: boolean; time?: number }
  | { t: 'read'; id: string; seq: number; own: number; quiet?: number; time?: number }
  /** Every named row's read pointer moves to its last message. */
  | { t: 'readAll'; ids: string[]; time: number }
  /** `conn`: the socket that set it, which `SyncUpdateServerSession` skips. */
  | { t: 'ext'; id: string; ext: string; time: number; conn?: string }
  /** Pins the session, or changes its pin's extension (absent clears it). */
  | { t: 'top'; id: string; custom?: string; time: number }
  | { t: 'untop'; id: string; time: number }
  /** Hides the rows until a newer message; their read pointers move to the end, their ext and pin go. */
  | { t: 'delete'; ids: string[]; time: number }
  /** We acknowledged the peer's messages up to `msgTime`. */
  | { t: 'receiptSent'; id: string; msgTime: number; time: number }
  /** The peer acknowledged our messages up to `msgTime`; creates a hidden row when no message reached us yet. */
  | { t: 'receipt'; id: string; to: string; address: string; msgTime: number; time: number }
  /** The peer recalled its message at `seq`, past our read pointer: it leaves the unread count. */
  | { t: 'recalled'; id: string; seq: number; time: number }
  | import('./people.ts').PeopleEvent;

type Of<T extends UserEvent['t']> = Extract<UserEvent, { t: T }>;
/** The events that change session rows. */
type SessionEvent = Exclude<UserEvent, import('./people.ts').PeopleEvent>;

/** Most sessions pinned at once. */
export const MAX_STICK_TOP_SESSIONS = 100;

/** Messages that count as unread up to a position: neither the account's own nor sent with `isUnreadable: false`. */
function countedAtLast(row: SessionRow): number {
  return row.lastSeq - row.lastOwn - (row.lastQuiet ?? 0);
}
function countedAtRead(row: SessionRow): number {
  return row.readSeq - row.readOwn - (row.readQuiet ?? 0);
}

export function unreadOf(row: SessionRow): number {
  return Math.max(0, countedAtLast(row) - countedAtRead(row) - (row.recalledUnread?.length ?? 0));
}

/** Recalled messages the read pointer has passed count no more either way: forgets them. */
function forgetRecalledRead(row: SessionRow): void {
  if (row.recalledUnread === undefined) return;
  const left = row.recalledUnread.filter((seq) => seq > row.readSeq);
  if (left.length === 0) delete row.recalledUnread;
  else row.recalledUnread = left;
}

/**
 * A message of this session was recalled: an event when it counted as
 * unread here (somebody else's, sent counting as unread, past the read
 * pointer, not already taken out). Repeats and late arrivals change nothing.
 */
export function decideRecalled(state: UserState, a: { sessionId: string; seq: number; from: string; counted: boolean }, now: number): UserEvent[] {
  const row = state.sessions.get(a.sessionId);
  if (row === undefined || a.from === state.account || !a.counted || a.seq <= row.readSeq) return [];
  if (row.recalledUnread?.includes(a.seq) === true) return [];
  return [{ t: 'recalled', id: a.sessionId, seq: a.seq, time: now }];
}

export function applyRecalled(state: UserState, event: Of<'recalled'>): void {
  const row = state.sessions.get(event.id);
  if (row === undefined || event.seq <= row.readSeq || row.recalledUnread?.includes(event.seq) === true) return;
  row.recalledUnread = [...(row.recalledUnread ?? []), event.seq];
  changed(row, event.time);
}

/** A row the account sees: it has a message past its last deletion. */
export function isVisible(row: SessionRow): boolean {
  return row.lastSeq > (row.deletedSeq ?? 0);
}

/** The row of a session in the account's list, or NOT_FOUND. */
export function visibleRow(state: UserState, id: string): SessionRow {
  const row = state.sessions.get(id);
  if (row === undefined || !isVisible(row)) throw new ParleyError('NOT_FOUND', `no session \`${id}\``);
  return row;
}

export function sessionView(row: SessionRow, withLastMsg = true): Session {
  const s: Session = { id: row.id, scene: row.scene, to: row.to, unread: unreadOf(row), updateTime: row.updateTime, isTop: row.isTop === true };
  // The time the peer last acknowledged reading (read receipts); 0 until it has.
  if (row.scene === 'p2p') s.msgReceiptTime = row.receiptTime ?? 0;
  if (withLastMsg && row.lastMsg !== undefined) s.lastMsg = row.lastMsg;
  if (row.ext !== undefined) s.ext = row.ext;
  if (row.topCustom !== undefined) s.topCustom = row.topCustom;
  return s;
}

/** The session as it will be once `events` are applied, for a reply decided before they are. */
export function previewSession(state: UserState, id: string, events: readonly UserEvent[]): Session {
  const copy: SessionRow = { ...state.sessions.get(id)! };
  const scratch: UserState = { account: state.account, sessions: new Map([[id, copy]]) };
  for (const e of events) if (idsOf(e).includes(id)) applyUserEvent(scratch, e);
  return sessionView(copy);
}

/** The session ids an event changes. */
export function idsOf(e: UserEvent): readonly string[] {
  if (!SESSION_EVENT_TYPES.has(e.t)) return [];
  const s = e as SessionEvent;
  return s.t === 'readAll' || s.t === 'delete' ? s.ids : [s.id];
}

/**
 * A conversation reports its newest message: an event only when it is newer
 * than what the row has. `quiet` (others' `isUnreadable: false` messages up
 * to `seq`) comes from the conversation when it sends it; otherwise it is
 * counted here from the message the touch carries, which misses such
 * messages only when several arrive in one touch and one of them is not the
 * last (they then count as unread).
 */
export function decideTouch(state: UserState, t: Omit<Of<'touch'>, 't'>): UserEvent | undefined {
  const row = state.sessions.get(t.id);
  if (row !== undefined && t.corrected === true && row.lastSeq === t.seq) {
    // A recall at the head: the session shows the newest message left, once.
    return row.lastMsg?.idServer === t.msg.idServer ? undefined : { t: 'touch', ...t };
  }
  if (row !== undefined && row.lastSeq >= t.seq) return undefined;
  const quiet = t.quiet ?? (row?.lastQuiet ?? 0) + (t.msg.from !== state.account && t.msg.isUnreadable === false ? 1 : 0);
  const e: Of<'touch'> = { t: 'touch', ...t };
  if (t.quiet === undefined && quiet > 0) e.quiet = quiet;
  return e;
}

/** A read pointer moved to the row's last message. */
function readToEnd(row: SessionRow, now: number | undefined): Of<'read'> {
  const e: Of<'read'> = { t: 'read', id: row.id, seq: row.lastSeq, own: row.lastOwn };
  if ((row.lastQuiet ?? 0) !== 0) e.quiet = row.lastQuiet!;
  if (now !== undefined) e.time = now;
  return e;
}

export function decideRead(state: UserState, sessionId: string, now?: number): UserEvent {
  return readToEnd(visibleRow(state, sessionId), now);
}

/**
 * Moves the read pointers of several sessions to their last message: the
 * rows found, once each in the order first named, and an event for each
 * with anything unread (a session whose newest messages are all the
 * account's own needs none). Ids of sessions the account does not have are
 * skipped.
 */
export function decideReads(state: UserState, sessionIds: readonly string[], now?: number): { rows: SessionRow[]; events: UserEvent[] } {
  const rows: SessionRow[] = [];
  const events: UserEvent[] = [];
  for (const id of new Set(sessionIds)) {
    const row = state.sessions.get(id);
    if (row === undefined || !isVisible(row)) continue;
    rows.push(row);
    if (unreadOf(row) > 0) events.push(readToEnd(row, now));
  }
  return { rows, events };
}

/** Every session with anything unread, read to its end: one event naming them all (none when nothing is unread). */
export function decideReadAll(state: UserState, now: number): UserEvent[] {
  const ids: string[] = [];
  for (const row of state.sessions.values()) if (isVisible(row) && unreadOf(row) > 0) ids.push(row.id);
  return ids.length === 0 ? [] : [{ t: 'readAll', ids, time: now }];
}

/** Sets the owner's extension of a session; nothing when it already holds it. */
export function decideExt(state: UserState, id: string, ext: string, now: number, conn?: string): UserEvent[] {
  const row = visibleRow(state, id);
  if (row.ext === ext) return [];
  return [conn === undefined ? { t: 'ext', id, ext, time: now } : { t: 'ext', id, ext, time: now, conn }];
}

/**
 * Pins a session. The same pin again is no change (a repeated call); a pin
 * with another extension is a CONFLICT (that is `updateStickTopSession`).
 */
export function decideAddTop(state: UserState, id: string, custom: string | undefined, now: number): UserEvent[] {
  const row = visibleRow(state, id);
  if (row.isTop === true) {
    if (row.topCustom === custom) return [];
    throw new ParleyError('CONFLICT', `session \`${id}\` is pinned already; updateStickTopSession changes its topCustom`);
  }
  let pinned = 0;
  for (const r of state.sessions.values()) if (r.isTop === true) pinned++;
  if (pinned >= MAX_STICK_TOP_SESSIONS) {
    throw new ParleyError('BAD_REQUEST', `at most ${MAX_STICK_TOP_SESSIONS} sessions may be pinned; unpin one first`);
  }
  return [custom === undefined ? { t: 'top', id, time: now } : { t: 'top', id, custom, time: now }];
}

/** Changes a pin's extension; NOT_FOUND when the session is not pinned. */
export function decideUpdateTop(state: UserState, id: string, custom: string | undefined, now: number): UserEvent[] {
  const row = visibleRow(state, id);
  if (row.isTop !== true) throw new ParleyError('NOT_FOUND', `session \`${id}\` is not pinned`);
  if (row.topCustom === custom) return [];
  return [custom === undefined ? { t: 'top', id, time: now } : { t: 'top', id, custom, time: now }];
}

/** Unpins a session; nothing when it is not pinned. */
export function decideDeleteTop(state: UserState, id: string, now: number): UserEvent[] {
  const row = visibleRow(state, id);
  return row.isTop === true ? [{ t: 'untop', id, time: now }] : [];
}

/** Removes sessions from the list: the ids found, once each; unknown or already removed ones are skipped. */
export function decideDelete(state: UserState, ids: readonly string[], now: number): { ids: string[]; events: UserEvent[] } {
  const found = [...new Set(ids)].filter((id) => {
    const row = state.sessions.get(id);
    return row !== undefined && isVisible(row);
  });
  return { ids: found, events: found.length === 0 ? [] : [{ t: 'delete', ids: found, time: now }] };
}

/** The part of a message `sendMsgReceipt` reads. */
export interface ReceiptMsg {
  scene: Scene;
  from: string;
  to: string;
  seq: number;
  time: number;
}

/**
 * The read pointer at `seq`. Past the row's last message it is the end;
 * before it, which of the later messages count is not known here, so they
 * all count as unread (never fewer than the pointer already says).
 */
function readAt(row: SessionRow, seq: number, now: number): Of<'read'> {
  if (seq >= row.lastSeq) return readToEnd(row, now);
  const counted = Math.max(countedAtRead(row), seq - row.lastOwn - (row.lastQuiet ?? 0));
  const quiet = seq - row.lastOwn - counted;
  const e: Of<'read'> = { t: 'read', id: row.id, seq, own: row.lastOwn, time: now };
  if (quiet !== 0) e.quiet = quiet;
  return e;
}

/**
 * A p2p read receipt for the peer's message `msg`: the reader's read pointer
 * moves to it and its receipt pointer to the message's time, neither ever
 * back. The time is the stored one when `msg` is the session's last message,
 * else the one given, never past now.
 */
export function decideReceipt(state: UserState, msg: ReceiptMsg, now: number): { id: string; events: UserEvent[] } {
  // Well-formed arguments that name no message this receipt can acknowledge: NOT_FOUND / FORBIDDEN, not BAD_REQUEST.
  if (msg.scene !== 'p2p') throw new ParleyError('NOT_FOUND', '`msg` is a team message, which has no p2p receipt: team receipts are sendTeamMsgReceipt');
  if (msg.from === state.account) throw new ParleyError('FORBIDDEN', '`msg` must be a message the account received, not one it sent');
  const id = `p2p-${msg.from}`;
  if (msg.to !== state.account) throw new ParleyError('NOT_FOUND', `no message to this account in session \`${id}\``);
  const row = visibleRow(state, id);
  const events: UserEvent[] = [];
  const seq = Math.min(msg.seq, row.lastSeq);
  if (seq > row.readSeq) events.push(readAt(row, seq, now));
  const msgTime = row.lastMsg !== undefined && msg.seq >= row.lastMsg.seq ? row.lastMsg.time : Math.min(msg.time, now);
  if (msgTime > (row.sentReceiptTime ?? 0)) events.push({ t: 'receiptSent', id, msgTime, time: now });
  return { id, events };
}

/** The peer acknowledged reading our messages up to `msgTime`: an event only when that is newer than what we hold. */
export function decideReceived(state: UserState, a: { sessionId: string; to: string; address: string; time: number }, now: number): UserEvent[] {
  const row = state.sessions.get(a.sessionId);
  if (row !== undefined && (row.receiptTime ?? 0) >= a.time) return [];
  return [{ t: 'receipt', id: a.sessionId, to: a.to, address: a.address, msgTime: a.time, time: now }];
}

function newRow(id: string, scene: Scene, to: string, address: string): SessionRow {
  return { id, scene, to, address, lastMsg: undefined, lastSeq: 0, lastOwn: 0, readSeq: 0, readOwn: 0, updateTime: 0 };
}

function changed(row: SessionRow, time: number | undefined): void {
  if (time !== undefined && time > (row.changeTime ?? 0)) row.changeTime = time;
}

/** A conversation's newest message: the session row is created on first touch, and moves only forward. */
export function applyTouch(state: UserState, event: Of<'touch'>): void {
  let row = state.sessions.get(event.id);
  if (row === undefined) {
    row = newRow(event.id, event.scene, event.to, event.address);
    state.sessions.set(event.id, row);
  }
  if (event.corrected === true && event.seq === row.lastSeq) {
    row.lastMsg = event.msg;
    // A device that was offline learns the corrected lastMsg at login.
    changed(row, event.time);
    return;
  }
  if (event.seq > row.lastSeq) {
    row.lastSeq = event.seq;
    row.lastOwn = event.own;
    if (event.quiet !== undefined) row.lastQuiet = event.quiet;
    else if (row.lastQuiet !== undefined) delete row.lastQuiet;
    row.lastMsg = event.msg;
    row.updateTime = Math.max(row.updateTime, event.msg.time);
  }
}

/** The read pointer moves to `seq`, never back. */
export function applyRead(state: UserState, event: Of<'read'>): void {
  const row = state.sessions.get(event.id);
  if (row !== undefined && event.seq >= row.readSeq) {
    row.readSeq = event.seq;
    row.readOwn = event.own;
    if (event.quiet !== undefined) row.readQuiet = event.quiet;
    else if (row.readQuiet !== undefined) delete row.readQuiet;
    forgetRecalledRead(row);
    changed(row, event.time);
  }
}

function moveReadToEnd(row: SessionRow): void {
  row.readSeq = row.lastSeq;
  row.readOwn = row.lastOwn;
  if (row.lastQuiet !== undefined) row.readQuiet = row.lastQuiet;
  else if (row.readQuiet !== undefined) delete row.readQuiet;
  forgetRecalledRead(row);
}

export function applyReadAll(state: UserState, event: Of<'readAll'>): void {
  for (const id of event.ids) {
    const row = state.sessions.get(id);
    if (row === undefined) continue;
    moveReadToEnd(row);
    changed(row, event.time);
  }
}

export function applyExt(state: UserState, event: Of<'ext'>): void {
  const row = state.sessions.get(event.id);
  if (row === undefined) return;
  row.ext = event.ext;
  changed(row, event.time);
}

export function applyTop(state: UserState, event: Of<'top'>): void {
  const row = state.sessions.get(event.id);
  if (row === undefined) return;
  row.isTop = true;
  if (event.custom !== undefined) row.topCustom = event.custom;
  else delete row.topCustom;
  changed(row, event.time);
}

export function applyUntop(state: UserState, event: Of<'untop'>): void {
  const row = state.sessions.get(event.id);
  if (row === undefined) return;
  delete row.isTop;
  delete row.topCustom;
  changed(row, event.time);
}

export function applyDelete(state: UserState, event: Of<'delete'>): void {
  for (const id of event.ids) {
    const row = state.sessions.get(id);
    if (row === undefined) continue;
    row.deletedSeq = row.lastSeq;
    moveReadToEnd(row);
    delete row.ext;
    delete row.isTop;
    delete row.topCustom;
    changed(row, event.time);
  }
}

export function applyReceiptSent(state: UserState, event: Of<'receiptSent'>): void {
  const row = state.sessions.get(event.id);
  if (row !== undefined && event.msgTime > (row.sentReceiptTime ?? 0)) row.sentReceiptTime = event.msgTime;
}

export function applyReceipt(state: UserState, event: Of<'receipt'>): void {
  let row = state.sessions.get(event.id);
  if (row === undefined) {
    row = newRow(event.id, 'p2p', event.to, event.address);
    state.sessions.set(event.id, row);
  }
  if (event.msgTime > (row.receiptTime ?? 0)) {
    row.receiptTime = event.msgTime;
    changed(row, event.time);
  }
}

/** Each session event type's apply, by type. */
export const USER_EVENT_APPLY: { readonly [T in SessionEvent['t']]: (state: UserState, event: Of<T>) => void } = {
  touch: applyTouch,
  read: applyRead,
  readAll: applyReadAll,
  ext: applyExt,
  top: applyTop,
  untop: applyUntop,
  delete: applyDelete,
  receiptSent: applyReceiptSent,
  receipt: applyReceipt,
  recalled: applyRecalled,
};

const SESSION_EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(USER_EVENT_APPLY));

/** Applies any session event by its type. */
export function applyUserEvent(state: UserState, event: UserEvent): UserState {
  const apply = (USER_EVENT_APPLY as Record<string, ((state: UserState, event: UserEvent) => void) | undefined>)[event.t];
  if (apply === undefined) throw new Error(`unknown user event ${String((event as { t: unknown }).t)}`);
  apply(state, event);
  return state;
}

export interface SessionsQuery {
  limit: number;
  minTimestamp: number;
  /** 0 = now. */
  maxTimestamp: number;
  needLastMsg: boolean;
}

/** Sessions newest first within [minTimestamp, maxTimestamp], at most `limit`, and whether more remain. */
export function sessionsPage(state: UserState, q: SessionsQuery, now: number): { sessionList: Session[]; hasMore: boolean } {
  const max = q.maxTimestamp === 0 ? now : q.maxTimestamp;
  const rows = [...state.sessions.values()]
    .filter((r) => isVisible(r) && r.updateTime >= q.minTimestamp && r.updateTime <= max)
    .sort((a, b) => b.updateTime - a.updateTime || (a.id < b.id ? -1 : 1));
  return {
    sessionList: rows.slice(0, q.limit).map((r) => sessionView(r, q.needLastMsg)),
    hasMore: rows.length > q.limit,
  };
}

export interface SyncCursors {
  sessions?: number | undefined;
  seqs?: Record<string, number> | undefined;
}

export interface SyncFetch {
  sessionId: string;
  scene: Scene;
  to: string;
  address: string;
  fromSeq: number;
}

/** Messages a login sync sends per session: `all` for every scene but supergroups, `superTeam` for those. */
export interface SyncLimits {
  all: number;
  superTeam: number;
}

/** Bounds of one page of the login sync plan. */
export interface SyncPageBounds {
  /** Resume after this session id: the `next` of the previous page. Default: from the start. */
  after?: string | undefined;
  /** Most encoded bytes of the page's sessions and fetch items together. Default: unbounded. */
  maxBytes?: number | undefined;
  /** Most sessions in the page. Default: unbounded. */
  maxSessions?: number | undefined;
}

/**
 * One page of the login sync plan; `next` (the last session id of the page)
 * is set when more sessions follow. `deleted`: sessions removed from the list
 * since the device's cursor (a device with no cursor has none to remove).
 */
export interface SyncPage {
  sessions: Session[];
  fetch: SyncFetch[];
  next?: string;
  deleted?: string[];
}

/** When a row last changed in a way a device must hear of at login. */
function changedAt(row: SessionRow): number {
  return Math.max(row.updateTime, row.changeTime ?? 0);
}

/**
 * What a device logging in must receive: the sessions changed since its
 * cursor (a new message, or a read, ext, pin or receipt change), each with
 * its `isTop`, `topCustom` and `msgReceiptTime`, and for each the messages
 * it lacks — past its own `seqs` cursor when it sent one, else past the
 * account's read pointer — at most `limit` (the newest of them; a
 * supergroup's at most `limit.superTeam`); and the sessions deleted since
 * its cursor.
 *
 * Paged by session id, which does not move as sessions change, so a session
 * touched between two pages is neither skipped nor sent twice (one sent
 * already reaches the device as `updatesessions`). A page stops before
 * `maxBytes` or `maxSessions`, holding at least one session; within a page,
 * sessions are newest first.
 */
export function syncPlan(state: UserState, cursors: SyncCursors | undefined, limit: number | SyncLimits, bounds: SyncPageBounds = {}): SyncPage {
  const limits = typeof limit === 'number' ? { all: limit, superTeam: limit } : limit;
  const since = cursors?.sessions ?? 0;
  // Own keys only: a session id must never find something on Object.prototype.
  const seqs = new Map(Object.entries(cursors?.seqs ?? {}));
  const after = bounds.after;
  const maxBytes = bounds.maxBytes ?? Infinity;
  const maxSessions = bounds.maxSessions ?? Infinity;
  const wanted = (r: SessionRow): boolean =>
    isVisible(r) ? changedAt(r) > since || (seqs.get(r.id) ?? r.readSeq) < r.lastSeq : since > 0 && r.deletedSeq !== undefined && changedAt(r) > since;
  const rows = [...state.sessions.values()]
    .filter((r) => (after === undefined || r.id > after) && wanted(r))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page: Array<{ row: SessionRow; session: Session; fetch: SyncFetch | undefined }> = [];
  const deleted: string[] = [];
  let bytes = 0;
  let next: string | undefined;
  for (const r of rows) {
    const items = page.length + deleted.length;
    if (!isVisible(r)) {
      const size = encode(r.id).byteLength;
      if (items > 0 && (items >= maxSessions || bytes + size > maxBytes)) {
        next = lastIdOf(page, deleted);
        break;
      }
      deleted.push(r.id);
      bytes += size;
      continue;
    }
    const session = sessionView(r);
    const known = seqs.get(r.id) ?? r.readSeq;
    const fromSeq = Math.max(known + 1, r.lastSeq - (r.scene === 'superTeam' ? limits.superTeam : limits.all) + 1);
    const fetch = fromSeq <= r.lastSeq ? { sessionId: r.id, scene: r.scene, to: r.to, address: r.address, fromSeq } : undefined;
    const size = encode(session).byteLength + (fetch === undefined ? 0 : encode(fetch).byteLength);
    if (items > 0 && (items >= maxSessions || bytes + size > maxBytes)) {
      next = lastIdOf(page, deleted);
      break;
    }
    page.push({ row: r, session, fetch });
    bytes += size;
  }
  page.sort((a, b) => b.row.updateTime - a.row.updateTime);
  const out: SyncPage = { sessions: page.map((p) => p.session), fetch: page.flatMap((p) => (p.fetch === undefined ? [] : [p.fetch])) };
  if (next !== undefined) out.next = next;
  if (deleted.length > 0) out.deleted = deleted;
  return out;
}

/** The greatest session id of a page still in id order (before its sessions are sorted by time). */
function lastIdOf(page: ReadonlyArray<{ row: SessionRow }>, deleted: readonly string[]): string {
  const a = page.length > 0 ? page[page.length - 1]!.row.id : '';
  const b = deleted.length > 0 ? deleted[deleted.length - 1]! : '';
  return a > b ? a : b;
}
