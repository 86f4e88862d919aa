/**
 * Threads and clearing one's own history, free of I/O. A reply names the
 * message it answers; its thread's root is that message's root when it is a
 * reply itself, else that message. Replies are indexed by root
 * (`conv-threads`), so a thread pages without reading the conversation.
 * A clear moves the member's clear marks (`ClearMark`) to the last message.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { ClearedHistory, MsgRef, ThreadMessageInfo } from '../../engine/protocol/methods.ts';
import { sessionIdOf } from '../../engine/protocol/methods.ts';
import { locate, peerOf, seenBy } from './logic.ts';
import type { ConversationState, ConversationView, StoredMessage } from './logic.ts';

/** A member cleared their history up to `seq` (`roam`: also the login sync's copies). */
export interface ClearEvent {
  t: 'clear';
  viewer: string;
  seq: number;
  roam: boolean;
  cleared: ClearedHistory;
  /** Tell the member's other devices. */
  sync: boolean;
  conn?: string;
}

/** Where a reply to `ref` sits: NOT_FOUND when `ref` is not a message of this conversation `from` sees. */
export function replyPlace(state: ConversationState, view: ConversationView, from: string, ref: MsgRef): { info: ThreadMessageInfo; root: number } {
  const m = locate(state, view, ref);
  if (m === undefined || !seenBy(state, m, from)) throw new ParleyError('NOT_FOUND', `\`replyMsg\` (${ref.idServer} at time ${ref.time}) is not a message of this conversation`);
  const root = rootOf(state, view, m);
  return { root: root.seq, info: threadInfo(m, root) };
}

/** The thread fields of a reply to `m`, whose thread's root is `root`. */
export function threadInfo(m: StoredMessage, root: StoredMessage): ThreadMessageInfo {
  return {
    replyMsgFromAccount: m.from,
    replyMsgToAccount: m.to,
    replyMsgTime: m.time,
    replyMsgIdServer: m.idServer,
    replyMsgIdClient: m.idClient,
    threadMsgFromAccount: root.from,
    threadMsgToAccount: root.to,
    threadMsgTime: root.time,
    threadMsgIdServer: root.idServer,
    threadMsgIdClient: root.idClient,
  };
}

/** The root of the thread `m` belongs to: the message its `threadMessageInfo` names, else `m` itself. */
export function rootOf(state: ConversationState, view: ConversationView, m: StoredMessage): StoredMessage {
  const info = m.threadMessageInfo;
  if (info === undefined) return m;
  const ref: MsgRef = { scene: 'p2p', from: info.threadMsgFromAccount, to: info.threadMsgToAccount, time: info.threadMsgTime, idServer: info.threadMsgIdServer };
  return locate(state, view, ref) ?? m;
}

export interface ThreadQuery {
  beginTime: number;
  /** 0 = no upper bound (the server's now). */
  endTime: number;
  lastMsgId?: string | undefined;
  limit: number;
  reverse: boolean;
}

/** The root a `getThreadMsgs` names, as `viewer` sees it. */
export function threadRoot(state: ConversationState, view: ConversationView, viewer: string, ref: MsgRef): StoredMessage {
  peerOf(state, viewer);
  const m = locate(state, view, ref);
  if (m === undefined || !seenBy(state, m, viewer)) throw new ParleyError('NOT_FOUND', `no message ${ref.idServer} at time ${ref.time} in this conversation`);
  return m;
}

/**
 * A page of a thread's replies, newest first. `rows` yields the replies in
 * walk order: newest first, or oldest first with `reverse`. `reverse = false`
 * walks back from `endTime`, `reverse = true` forward from `beginTime`; with
 * `lastMsgId` (the previous page's last reply, at the boundary time) the
 * replies at that time up to and including it are skipped, as history pages do.
 */
export function threadPage(state: ConversationState, rows: Iterable<StoredMessage>, q: ThreadQuery, viewer: string): StoredMessage[] {
  const end = q.endTime === 0 ? Number.POSITIVE_INFINITY : q.endTime;
  const out: StoredMessage[] = [];
  if (q.beginTime > end) return out;
  const boundary = q.reverse ? q.beginTime : end;
  const take = (m: StoredMessage) => {
    if (out.length < q.limit && seenBy(state, m, viewer)) out.push(m);
  };
  // Replies at the boundary time, held until `lastMsgId` is met among them (then dropped) or not (then taken).
  let held: StoredMessage[] | undefined = q.lastMsgId !== undefined && q.lastMsgId !== '' ? [] : undefined;
  for (const m of rows) {
    if (q.reverse ? m.time < q.beginTime : m.time > end) continue;
    if (q.reverse ? m.time > end : m.time < q.beginTime) break;
    if (held !== undefined) {
      if (m.time === boundary) {
        if (m.idServer === q.lastMsgId) held = undefined;
        else held.push(m);
        continue;
      }
      for (const h of held) take(h);
      held = undefined;
    }
    take(m);
    if (out.length >= q.limit) break;
  }
  if (held !== undefined) for (const h of held) take(h);
  if (q.reverse) out.reverse();
  return out;
}

/**
 * `clearServerHistoryMsgs`: the member's marks move to the last message
 * (`isDeleteRoam` moves the login sync's too); nothing to move is no change.
 */
export function decideClear(
  state: ConversationState,
  input: { viewer: string; isDeleteRoam: boolean; isSyncSelf: boolean; ext?: string | undefined; now: number; conn?: string | undefined },
): { cleared: ClearedHistory; event?: ClearEvent } {
  const peer = peerOf(state, input.viewer);
  const cleared: ClearedHistory = { sessionId: sessionIdOf('p2p', peer), scene: 'p2p', to: peer, time: input.now, isDeleteRoam: input.isDeleteRoam };
  if (input.ext !== undefined) cleared.ext = input.ext;
  const mark = state.cleared.get(input.viewer);
  const moves = (mark?.seq ?? 0) < state.lastSeq || (input.isDeleteRoam && (mark?.roamSeq ?? 0) < state.lastSeq);
  if (!moves) return { cleared };
  const event: ClearEvent = { t: 'clear', viewer: input.viewer, seq: state.lastSeq, roam: input.isDeleteRoam, cleared, sync: input.isSyncSelf };
  if (input.conn !== undefined) event.conn = input.conn;
  return { cleared, event };
}

/** The marks move forward, never back. */
export function applyClear(state: ConversationState, event: ClearEvent): ConversationState {
  const mark = state.cleared.get(event.viewer) ?? { seq: 0, roamSeq: 0 };
  state.cleared.set(event.viewer, {
    seq: Math.max(mark.seq, event.seq),
    roamSeq: event.roam ? Math.max(mark.roamSeq, event.seq) : mark.roamSeq,
  });
  return state;
}
