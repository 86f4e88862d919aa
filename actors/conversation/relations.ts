/**
 * The blocklist and mutelist as a p2p conversation enforces them: each
 * member's marks on the other, a replica pushed by the member's user actor
 * (see actors/user/relations.ts for why the replica lives here). A blocked
 * sender's sends of every kind are refused with BLOCKED before anything is
 * numbered or stored; a muted sender's messages are stored and delivered as
 * usual, marked `isMuted` in the recipient's view so no push alert is
 * raised for them. Pure: no I/O.
 */
import type { ActorContext } from '../../engine/actor/behavior.ts';
import { decodeKey, keyOf, rangeOf } from '../../engine/keys.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import type { RelationMark } from '../user/relations.ts';
import type { ConversationState, MsgEvent } from './logic.ts';

export type { RelationMark } from '../user/relations.ts';

/** The conversation's event for a member's marks. */
export type RelationMarkEvent = { t: 'relation'; mark: RelationMark };

export const relationCalls = {
  relation: internal({
    doc: "A member's current marks (blocked, muted) on the other member, as of `time`: absolute, so repeats and reorders are harmless.",
    args: takes<RelationMark>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
};

/** The marks of each member on the other, loaded with the conversation (at most two rows). */
export function loadRelations(state: ConversationState, ctx: ActorContext): void {
  for (const { key, value } of ctx.store.db('conv-relations').getRange(rangeOf('convRelation', ctx.address))) {
    const [, owner] = decodeKey('convRelation', key);
    (state.relations ??= new Map()).set(owner, value as RelationMark);
  }
}

/** An event only when the mark is newer than the one held and names a member's peer. */
export function decideRelation(state: ConversationState, mark: RelationMark): RelationMarkEvent[] {
  const [a, b] = state.members;
  const peer = mark.owner === a ? b : mark.owner === b ? a : undefined;
  if (peer === undefined || mark.peer !== peer || mark.owner === mark.peer) return [];
  const held = state.relations?.get(mark.owner);
  if (held !== undefined && (held.time > mark.time || (held.time === mark.time && held.blocked === mark.blocked && held.muted === mark.muted))) return [];
  return [{ t: 'relation', mark: { owner: mark.owner, peer, blocked: mark.blocked, muted: mark.muted, time: mark.time } }];
}

export function applyRelation(state: ConversationState, e: RelationMarkEvent): ConversationState {
  const held = state.relations?.get(e.mark.owner);
  if (held === undefined || held.time <= e.mark.time) (state.relations ??= new Map()).set(e.mark.owner, e.mark);
  return state;
}

export function persistRelation(e: RelationMarkEvent, ctx: ActorContext): void {
  void ctx.store.db('conv-relations').put(keyOf('convRelation', ctx.address, e.mark.owner), e.mark);
}

/** BLOCKED when the recipient of a send from `from` has blocked `from`. */
export function refuseBlocked(state: ConversationState, from: string): void {
  const [a, b] = state.members;
  const to = from === a ? b : a;
  if (to === from) return;
  if (state.relations?.get(to)?.blocked === true) throw new ParleyError('BLOCKED', `\`to\` ${to} has blocked the sender`);
}

/** Marks a new message `isMuted` when its recipient muted its sender. */
export function markMuted(state: ConversationState, event: MsgEvent): MsgEvent {
  const { from, to } = event.msg;
  if (to !== from && state.relations?.get(to)?.muted === true) event.msg.isMuted = true;
  return event;
}
