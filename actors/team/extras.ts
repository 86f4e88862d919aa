/**
 * What a group's conversation does beside its messages, free of I/O: pins,
 * quick comments, threads and clearing one's own history. The p2p rules
 * decide what happens to a located message (actors/conversation/pins.ts,
 * quick-comments.ts, threads.ts); here a group locates it, refuses
 * non-members (NOT_MEMBER) and names it as its members see it (the session
 * is the group's). The events and rows are the p2p ones, under the group's
 * address.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { ClearedHistory, CommentedMsg, MsgPin, MsgQuickComments, MsgRef, PinMsgChange, ThreadMessageInfo } from '../../engine/protocol/methods.ts';
import { sessionIdOf } from '../../engine/protocol/objects.ts';
import { rootOf, threadInfo, type ClearEvent } from '../conversation/threads.ts';
import type { CommentsRow } from '../conversation/quick-comments.ts';
import type { PinEvent, PinRow } from '../conversation/pins.ts';
import { seenBy, type ConversationState, type ConversationView, type StoredMessage } from '../conversation/logic.ts';
import { isManagerOrOwner, memberOf, type TeamState } from './logic.ts';
import { locateInTeam, teamViewOf } from './messages.ts';

/**
 * Whether member `account`'s alert strategy (`muteNotiType`) silences a
 * message from `from`: "1" silences every message, "2" all but those of the
 * owner and managers. Such a message reaches the member marked `isMuted`,
 * so no push alert is raised for it.
 */
export function alertMuted(state: TeamState, account: string, from: string): boolean {
  const setting = state.members.get(account)?.muteNotiType;
  if (setting === '1') return true;
  if (setting !== '2') return false;
  const sender = state.members.get(from);
  return sender === undefined || !isManagerOrOwner(sender);
}

/** The group's numbering seen as the pair (`from`, group id), as the p2p rules locate a message of `from`. */
function pairOf(state: TeamState, from: string): ConversationState {
  const members: [string, string] = from <= state.id ? [from, state.id] : [state.id, from];
  return { ...state.conv, members };
}

/** The group message `ref` names, as member `by` sees it: NOT_MEMBER for a non-member, NOT_FOUND for one not there or out of their sight. */
export function groupTarget(state: TeamState, view: ConversationView, by: string, ref: MsgRef): StoredMessage {
  memberOf(state, by);
  const m = locateInTeam(state, view, ref);
  if (m === undefined || !seenBy(state.conv, m, by)) throw new ParleyError('NOT_FOUND', `no message ${ref.idServer} at time ${ref.time} in this group`);
  return m;
}

/** A pin as `viewer` sees it in the group. */
export function groupPinView(row: PinRow, msg: StoredMessage, viewer: string): MsgPin {
  const pin: MsgPin = { msg: teamViewOf(msg, viewer), pinFrom: row.pinFrom, createTime: row.createTime, updateTime: row.updateTime };
  if (row.pinCustom !== undefined) pin.pinCustom = row.pinCustom;
  return pin;
}

/** A pin change as `viewer` is told it. */
export function groupPinChange(state: TeamState, event: PinEvent, msg: StoredMessage, viewer: string): PinMsgChange {
  return { type: event.type, sessionId: sessionIdOf(state.kind, state.id), pin: groupPinView(event.shown, msg, viewer) };
}

/** Every pin of the group `viewer` may see, oldest pin first. */
export function groupPins(state: TeamState, rows: readonly PinRow[], bySeq: (seq: number) => StoredMessage | undefined, viewer: string): MsgPin[] {
  memberOf(state, viewer);
  const out: { at: number; pin: MsgPin }[] = [];
  for (const row of rows) {
    const m = bySeq(row.seq);
    if (m !== undefined && seenBy(state.conv, m, viewer)) out.push({ at: row.createTime, pin: groupPinView(row, m, viewer) });
  }
  return out.sort((a, b) => a.at - b.at).map((p) => p.pin);
}

/** The locating fields of a group message, as its members name it. */
export function groupCommentedMsg(state: TeamState, m: StoredMessage): CommentedMsg {
  return { scene: state.kind, from: m.from, to: m.to, time: m.time, idServer: m.idServer, idClient: m.idClient, sessionId: sessionIdOf(state.kind, state.id) };
}

/** The comments of the group messages `refs` name that `viewer` sees, in the order asked, each once. */
export function groupComments(state: TeamState, view: ConversationView, rowOf: (seq: number) => CommentsRow | undefined, refs: readonly MsgRef[], viewer: string): MsgQuickComments[] {
  memberOf(state, viewer);
  const out: MsgQuickComments[] = [];
  const seen = new Set<number>();
  for (const ref of refs) {
    const m = locateInTeam(state, view, ref);
    if (m === undefined || seen.has(m.seq) || !seenBy(state.conv, m, viewer)) continue;
    seen.add(m.seq);
    const row = rowOf(m.seq);
    out.push({ idClient: m.idClient, idServer: m.idServer, updateTime: row?.updateTime ?? 0, comments: row?.comments ?? [] });
  }
  return out;
}

/** The thread root of group message `m`: the message its `threadMessageInfo` names, else `m` itself. */
export function groupRootOf(state: TeamState, view: ConversationView, m: StoredMessage): StoredMessage {
  return rootOf(pairOf(state, m.threadMessageInfo?.threadMsgFromAccount ?? m.from), view, m);
}

/** Where a reply to `ref` by `from` sits: NOT_FOUND when `ref` is not a message of this group `from` sees. */
export function groupReplyPlace(state: TeamState, view: ConversationView, from: string, ref: MsgRef): { info: ThreadMessageInfo; root: number } {
  const m = locateInTeam(state, view, ref);
  if (m === undefined || !seenBy(state.conv, m, from)) throw new ParleyError('NOT_FOUND', `\`replyMsg\` (${ref.idServer} at time ${ref.time}) is not a message of this group`);
  const root = groupRootOf(state, view, m);
  return { root: root.seq, info: threadInfo(m, root) };
}

/**
 * `clearServerHistoryMsgs` in a group: member `viewer`'s marks move to the
 * last message (`isDeleteRoam` also the login sync's); nothing to move is
 * no change. Members only.
 */
export function decideGroupClear(
  state: TeamState,
  input: { viewer: string; isDeleteRoam: boolean; isSyncSelf: boolean; ext?: string | undefined; now: number; conn?: string | undefined },
): { cleared: ClearedHistory; event?: ClearEvent } {
  memberOf(state, input.viewer);
  const cleared: ClearedHistory = { sessionId: sessionIdOf(state.kind, state.id), scene: state.kind, to: state.id, time: input.now, isDeleteRoam: input.isDeleteRoam };
  if (input.ext !== undefined) cleared.ext = input.ext;
  const last = state.conv.lastSeq;
  const mark = state.conv.cleared.get(input.viewer);
  const moves = (mark?.seq ?? 0) < last || (input.isDeleteRoam && (mark?.roamSeq ?? 0) < last);
  if (!moves) return { cleared };
  const event: ClearEvent = { t: 'clear', viewer: input.viewer, seq: last, roam: input.isDeleteRoam, cleared, sync: input.isSyncSelf };
  if (input.conn !== undefined) event.conn = input.conn;
  return { cleared, event };
}
