/**
 * Quick comments of a conversation's messages, free of I/O: at most one of
 * each `body` per account and message, and a bounded number per message.
 * A message's comments are one row (`conv-comments`, by its seq); an event
 * carries the row as it becomes, so replaying it writes the same row.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Args, CommentedMsg, MsgQuickComments, MsgRef, QuickComment, QuickCommentChange } from '../../engine/protocol/methods.ts';
import { sessionIdOf } from '../../engine/protocol/methods.ts';
import { locate, peerOf, seenBy } from './logic.ts';
import type { ConversationState, ConversationView, StoredMessage } from './logic.ts';

/** Most quick comments one message holds, by default. */
export const MAX_COMMENTS_PER_MSG = 500;

/** A message's comments as stored; `updateTime` is their last change. */
export interface CommentsRow {
  updateTime: number;
  comments: QuickComment[];
}

/** The push options of an add or a removal, kept in the Log for push delivery. */
export type CommentPush = Pick<Args<'addQuickComment'>, 'needPush' | 'needBadge' | 'pushTitle' | 'apnsText' | 'pushPayload'>;

/** A comment added or removed; `row` is the message's comments as they become. */
export interface CommentEvent {
  t: 'comments';
  type: 'add' | 'delete';
  seq: number;
  row: CommentsRow;
  comment: QuickComment;
  push: CommentPush;
  /** When the change happened (ms); events logged before it was kept lack it. */
  time?: number;
  conn?: string;
}

export interface CommentInput {
  by: string;
  ref: MsgRef;
  body: number;
  custom?: string | undefined;
  push: CommentPush;
  now: number;
  /** Most comments a message may hold. */
  limit: number;
  conn?: string | undefined;
}

/** The message commented on, as `by` sees it: NOT_FOUND for one elsewhere or out of their sight. */
function target(state: ConversationState, view: ConversationView, by: string, ref: MsgRef): StoredMessage {
  peerOf(state, by);
  const m = locate(state, view, ref);
  if (m === undefined || !seenBy(state, m, by)) throw new ParleyError('NOT_FOUND', `no message ${ref.idServer} at time ${ref.time} in this conversation`);
  return m;
}

/** The locating fields of a commented message, as `viewer` names it. */
export function commentedMsg(m: StoredMessage, viewer: string): CommentedMsg {
  const peer = m.from === viewer ? m.to : m.from;
  return { scene: 'p2p', from: m.from, to: m.to, time: m.time, idServer: m.idServer, idClient: m.idClient, sessionId: sessionIdOf('p2p', peer) };
}

function event(type: CommentEvent['type'], seq: number, row: CommentsRow, comment: QuickComment, input: CommentInput): CommentEvent {
  const e: CommentEvent = { t: 'comments', type, seq, row, comment, push: input.push, time: input.now };
  if (input.conn !== undefined) e.conn = input.conn;
  return e;
}

/** `addQuickComment`: the caller's `body` again is no change (answered with the comment held). */
export function decideAddComment(state: ConversationState, view: ConversationView, rowOf: (seq: number) => CommentsRow | undefined, input: CommentInput): { change: QuickCommentChange; event?: CommentEvent } {
  const m = target(state, view, input.by, input.ref);
  return addCommentOn(m.seq, commentedMsg(m, input.by), rowOf(m.seq), input);
}

/** `addQuickComment` on the message at `seq` (named `named` for the caller), located and allowed by the conversation that holds it (p2p or group). */
export function addCommentOn(seq: number, named: CommentedMsg, held: CommentsRow | undefined, input: CommentInput): { change: QuickCommentChange; event?: CommentEvent } {
  const row = held ?? { updateTime: 0, comments: [] };
  const same = row.comments.find((c) => c.from === input.by && c.body === input.body);
  if (same !== undefined) return { change: { msg: named, comment: same } };
  if (row.comments.length >= input.limit) throw new ParleyError('BAD_REQUEST', `a message holds at most ${input.limit} quick comments`);
  const comment: QuickComment = { from: input.by, body: input.body, time: input.now };
  if (input.custom !== undefined) comment.custom = input.custom;
  const next: CommentsRow = { updateTime: input.now, comments: [...row.comments, comment] };
  return { change: { msg: named, comment }, event: event('add', seq, next, comment, input) };
}

/** `deleteQuickComment`: removes the caller's comment with `body`; none is no change. */
export function decideDeleteComment(state: ConversationState, view: ConversationView, rowOf: (seq: number) => CommentsRow | undefined, input: CommentInput): { msg: CommentedMsg; comment?: QuickComment; event?: CommentEvent } {
  const m = target(state, view, input.by, input.ref);
  return deleteCommentOn(m.seq, commentedMsg(m, input.by), rowOf(m.seq), input);
}

/** `deleteQuickComment` on the message at `seq`, located and allowed by its conversation. */
export function deleteCommentOn(seq: number, named: CommentedMsg, row: CommentsRow | undefined, input: CommentInput): { msg: CommentedMsg; comment?: QuickComment; event?: CommentEvent } {
  const held = row?.comments.find((c) => c.from === input.by && c.body === input.body);
  if (row === undefined || held === undefined) return { msg: named };
  const next: CommentsRow = { updateTime: input.now, comments: row.comments.filter((c) => c !== held) };
  return { msg: named, comment: held, event: event('delete', seq, next, held, input) };
}

/** The comments of the messages `refs` name that `viewer` sees, in the order asked, each once. */
export function commentsOf(
  state: ConversationState,
  view: ConversationView,
  rowOf: (seq: number) => CommentsRow | undefined,
  refs: readonly MsgRef[],
  viewer: string,
): MsgQuickComments[] {
  const out: MsgQuickComments[] = [];
  const seen = new Set<number>();
  for (const ref of refs) {
    const m = locate(state, view, ref);
    if (m === undefined || seen.has(m.seq) || !seenBy(state, m, viewer)) continue;
    seen.add(m.seq);
    const row = rowOf(m.seq);
    out.push({ idClient: m.idClient, idServer: m.idServer, updateTime: row?.updateTime ?? 0, comments: row?.comments ?? [] });
  }
  return out;
}

/** The change as `viewer` is told it. */
export function commentChange(event: CommentEvent, m: StoredMessage, viewer: string): QuickCommentChange {
  return { msg: commentedMsg(m, viewer), comment: event.comment, time: event.time ?? event.row.updateTime };
}
