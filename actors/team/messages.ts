/**
 * A group's conversation, made of the p2p conversation's own rules
 * (actors/conversation/logic.ts): a group message is numbered, filled in,
 * stored, recalled and paged exactly as a p2p one. Those rules work on a
 * pair; a group message is one between its sender and the group, so each
 * rule is run with the pair (sender, group id), and only what the viewer
 * sees (`sessionId`, `target`) and who may recall differ. I/O free.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { DeletedMsgSelf, Message, MsgRef, SysMsg } from '../../engine/protocol/methods.ts';
import { sessionIdOf } from '../../engine/protocol/objects.ts';
import {
  decideSend,
  locate,
  viewOf,
  visibleTo,
  type ConversationState,
  type ConversationView,
  type RecallInput,
  type SendInput,
  type StoredMessage,
} from '../conversation/logic.ts';
import { isManagerOrOwner, memberOf, type TeamEvent, type TeamMsgEvent, type TeamState } from './logic.ts';

/** The group's numbering seen as the pair (`from`, group id): the only members the pair rules look at. */
function pairOf(state: TeamState, from: string): ConversationState {
  const members: [string, string] = from <= state.id ? [from, state.id] : [state.id, from];
  return { ...state.conv, members };
}

/** Numbers and fills in a group message (the membership and mute checks come first). */
export function decideTeamSend(state: TeamState, input: SendInput & { conn?: string }): TeamMsgEvent {
  const event = decideSend(pairOf(state, input.from), input);
  event.msg.scene = state.kind;
  return event;
}

/** A group message as `viewer` sees it: its session is the group's. */
export function teamViewOf(msg: StoredMessage, viewer: string): Message {
  const v = viewOf(msg, viewer);
  v.sessionId = sessionIdOf(msg.scene, msg.to);
  v.target = msg.to;
  return v;
}

/** The stored message `ref` names in this group, or undefined. */
export function locateInTeam(state: TeamState, view: ConversationView, ref: MsgRef): StoredMessage | undefined {
  if (ref.scene !== state.kind || ref.to !== state.id) return undefined;
  return locate(pairOf(state, ref.from), view, { ...ref, scene: 'p2p' });
}

/**
 * Decides a recall in a group: members only; the sender within the window,
 * and the owner and managers any member's message. Recalling again what is
 * already recalled answers the same notice.
 */
export function decideTeamRecall(state: TeamState, view: ConversationView, input: RecallInput): { notice: SysMsg; event?: TeamEvent } {
  const me = memberOf(state, input.by);
  const m = locateInTeam(state, view, input.ref);
  if (m === undefined) throw new ParleyError('NOT_FOUND', `no message ${input.ref.idServer} at time ${input.ref.time} in this group`);
  if (m.recalled !== undefined) return { notice: m.recalled };
  if (m.from !== input.by && !isManagerOrOwner(me)) throw new ParleyError('FORBIDDEN', "only the sender, the owner and managers may recall a group message");
  if (m.type === 'notification') throw new ParleyError('FORBIDDEN', 'notification messages cannot be recalled');
  if (input.now - m.time > input.windowMs) throw new ParleyError('EXPIRED', `the message is older than the recall window of ${input.windowMs} ms`);
  const notice: SysMsg = {
    type: 'deleteMsg',
    scene: state.kind,
    from: input.by,
    to: state.id,
    idServer: input.idServer,
    time: input.now,
    ...input.options,
    msg: { scene: state.kind, from: m.from, to: m.to, time: m.time, idServer: m.idServer, idClient: m.idClient, type: m.type },
  };
  const msg: StoredMessage = { ...m, recalled: notice };
  return { notice, event: input.conn === undefined ? { t: 'recall', msg } : { t: 'recall', msg, conn: input.conn } };
}

/** Decides a delete-for-self of group messages, as the p2p rule does (NOT_FOUND naming the first not found). */
export function decideTeamHide(
  state: TeamState,
  view: ConversationView,
  input: { viewer: string; refs: readonly MsgRef[]; now: number; custom?: string | undefined; conn?: string | undefined },
): { deleted: DeletedMsgSelf[]; event?: TeamEvent } {
  memberOf(state, input.viewer);
  const deleted: DeletedMsgSelf[] = [];
  const changed = new Map<number, StoredMessage>();
  input.refs.forEach((ref, i) => {
    const found = locateInTeam(state, view, ref);
    const m = found === undefined ? undefined : (changed.get(found.seq) ?? found);
    if (m === undefined || m.recalled !== undefined) {
      const which = input.refs.length === 1 ? 'the message' : `message ${i}`;
      throw new ParleyError('NOT_FOUND', `${which} (${ref.idServer} at time ${ref.time}) is not in this group`);
    }
    const item: DeletedMsgSelf = {
      scene: state.kind,
      from: m.from,
      to: m.to,
      time: m.time,
      idServer: m.idServer,
      idClient: m.idClient,
      sessionId: sessionIdOf(state.kind, state.id),
      deletedTime: input.now,
    };
    if (input.custom !== undefined) item.custom = input.custom;
    if (!deleted.some((d) => d.idServer === item.idServer)) deleted.push(item);
    if (m.hiddenFor?.includes(input.viewer) !== true) changed.set(m.seq, { ...m, hiddenFor: [...(m.hiddenFor ?? []), input.viewer] });
  });
  if (changed.size === 0) return { deleted };
  const event: TeamEvent = { t: 'hide', viewer: input.viewer, msgs: [...changed.values()], deleted };
  if (input.conn !== undefined) event.conn = input.conn;
  return { deleted, event };
}

/** The group messages `refs` name that `viewer` sees, in the order asked, each once. */
export function teamMessagesByRef(state: TeamState, view: ConversationView, refs: readonly MsgRef[], viewer: string): StoredMessage[] {
  const out: StoredMessage[] = [];
  const seen = new Set<number>();
  for (const ref of refs) {
    const m = locateInTeam(state, view, ref);
    if (m !== undefined && visibleTo(m, viewer) && !seen.has(m.seq)) {
      seen.add(m.seq);
      out.push(m);
    }
  }
  return out;
}
