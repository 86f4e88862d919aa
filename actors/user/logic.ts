/**
 * The user actor's rules for server sessions, free of I/O.
 *
 * Unread counts come from read pointers: a conversation tells each member its
 * last `seq` and how many of those messages the member sent (`own`). The
 * member's unread count is the other party's messages past its read pointer:
 * `(lastSeq - lastOwn) - (readSeq - readOwn)`. Updates carry absolute
 * positions, so they may arrive twice or out of order without harm.
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
  ext?: string;
}

export interface UserState {
  account: string;
  sessions: Map<string, SessionRow>;
}

export type UserEvent =
  | { t: 'touch'; id: string; scene: Scene; to: string; address: string; seq: number; own: number; msg: Message }
  | { t: 'read'; id: string; seq: number; own: number };

export function unreadOf(row: SessionRow): number {
  return Math.max(0, row.lastSeq - row.lastOwn - (row.readSeq - row.readOwn));
}

export function sessionView(row: SessionRow, withLastMsg = true): Session {
  const s: Session = { id: row.id, scene: row.scene, to: row.to, unread: unreadOf(row), updateTime: row.updateTime, isTop: false };
  // The time the peer last acknowledged reading (read receipts); 0 until it has.
  if (row.scene === 'p2p') s.msgReceiptTime = 0;
  if (withLastMsg && row.lastMsg !== undefined) s.lastMsg = row.lastMsg;
  if (row.ext !== undefined) s.ext = row.ext;
  return s;
}

/** A conversation reports its newest message: an event only when it is newer than what the row has. */
export function decideTouch(state: UserState, t: Omit<UserEvent & { t: 'touch' }, 't'>): UserEvent | undefined {
  const row = state.sessions.get(t.id);
  if (row !== undefined && row.lastSeq >= t.seq) return undefined;
  return { t: 'touch', ...t };
}

export function decideRead(state: UserState, sessionId: string): UserEvent {
  const row = state.sessions.get(sessionId);
  if (row === undefined) throw new ParleyError('NOT_FOUND', `no session \`${sessionId}\``);
  return { t: 'read', id: sessionId, seq: row.lastSeq, own: row.lastOwn };
}

/**
 * Moves the read pointers of several sessions to their last message: the
 * rows found, once each in the order first named, and an event for each
 * with anything unread (a session whose newest messages are all the
 * account's own needs none). Ids of sessions the account does not have are
 * skipped.
 */
export function decideReads(state: UserState, sessionIds: readonly string[]): { rows: SessionRow[]; events: UserEvent[] } {
  const rows: SessionRow[] = [];
  const events: UserEvent[] = [];
  for (const id of new Set(sessionIds)) {
    const row = state.sessions.get(id);
    if (row === undefined) continue;
    rows.push(row);
    if (unreadOf(row) > 0) events.push({ t: 'read', id, seq: row.lastSeq, own: row.lastOwn });
  }
  return { rows, events };
}

type TouchEvent = Extract<UserEvent, { t: 'touch' }>;
type ReadEvent = Extract<UserEvent, { t: 'read' }>;

/** A conversation's newest message: the session row is created on first touch, and moves only forward. */
export function applyTouch(state: UserState, event: TouchEvent): void {
  let row = state.sessions.get(event.id);
  if (row === undefined) {
    row = {
      id: event.id,
      scene: event.scene,
      to: event.to,
      address: event.address,
      lastMsg: undefined,
      lastSeq: 0,
      lastOwn: 0,
      readSeq: 0,
      readOwn: 0,
      updateTime: 0,
    };
    state.sessions.set(event.id, row);
  }
  if (event.seq > row.lastSeq) {
    row.lastSeq = event.seq;
    row.lastOwn = event.own;
    row.lastMsg = event.msg;
    row.updateTime = Math.max(row.updateTime, event.msg.time);
  }
}

/** The read pointer moves to `seq`, never back. */
export function applyRead(state: UserState, event: ReadEvent): void {
  const row = state.sessions.get(event.id);
  if (row !== undefined && event.seq >= row.readSeq) {
    row.readSeq = event.seq;
    row.readOwn = event.own;
  }
}

/** Applies any user event by its type. */
export function applyUserEvent(state: UserState, event: UserEvent): UserState {
  switch (event.t) {
    case 'touch':
      applyTouch(state, event);
      break;
    case 'read':
      applyRead(state, event);
      break;
    default:
      throw new Error(`unknown user event ${String((event as { t: unknown }).t)}`);
  }
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
    .filter((r) => r.updateTime >= q.minTimestamp && r.updateTime <= max)
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

/** Bounds of one page of the login sync plan. */
export interface SyncPageBounds {
  /** Resume after this session id: the `next` of the previous page. Default: from the start. */
  after?: string | undefined;
  /** Most encoded bytes of the page's sessions and fetch items together. Default: unbounded. */
  maxBytes?: number | undefined;
  /** Most sessions in the page. Default: unbounded. */
  maxSessions?: number | undefined;
}

/** One page of the login sync plan; `next` (the last session id of the page) is set when more sessions follow. */
export interface SyncPage {
  sessions: Session[];
  fetch: SyncFetch[];
  next?: string;
}

/**
 * What a device logging in must receive: the sessions changed since its
 * cursor, and for each the messages it lacks — past its own `seqs` cursor
 * when it sent one, else past the account's read pointer — at most `limit`.
 *
 * Paged by session id, which does not move as sessions change, so a session
 * touched between two pages is neither skipped nor sent twice (one sent
 * already reaches the device as `updatesessions`). A page stops before
 * `maxBytes` or `maxSessions`, holding at least one session; within a page,
 * sessions are newest first.
 */
export function syncPlan(state: UserState, cursors: SyncCursors | undefined, limit: number, bounds: SyncPageBounds = {}): SyncPage {
  const since = cursors?.sessions ?? 0;
  // Own keys only: a session id must never find something on Object.prototype.
  const seqs = new Map(Object.entries(cursors?.seqs ?? {}));
  const after = bounds.after;
  const maxBytes = bounds.maxBytes ?? Infinity;
  const maxSessions = bounds.maxSessions ?? Infinity;
  const rows = [...state.sessions.values()]
    .filter((r) => (after === undefined || r.id > after) && (r.updateTime > since || (seqs.get(r.id) ?? r.readSeq) < r.lastSeq))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page: Array<{ row: SessionRow; session: Session; fetch: SyncFetch | undefined }> = [];
  let bytes = 0;
  let next: string | undefined;
  for (const r of rows) {
    const session = sessionView(r);
    const known = seqs.get(r.id) ?? r.readSeq;
    const fromSeq = Math.max(known + 1, r.lastSeq - limit + 1);
    const fetch = fromSeq <= r.lastSeq ? { sessionId: r.id, scene: r.scene, to: r.to, address: r.address, fromSeq } : undefined;
    const size = encode(session).byteLength + (fetch === undefined ? 0 : encode(fetch).byteLength);
    if (page.length > 0 && (page.length >= maxSessions || bytes + size > maxBytes)) {
      next = page[page.length - 1]!.row.id;
      break;
    }
    page.push({ row: r, session, fetch });
    bytes += size;
  }
  page.sort((a, b) => b.row.updateTime - a.row.updateTime);
  const out: SyncPage = { sessions: page.map((p) => p.session), fetch: page.flatMap((p) => (p.fetch === undefined ? [] : [p.fetch])) };
  if (next !== undefined) out.next = next;
  return out;
}
