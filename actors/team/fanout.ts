/**
 * Supergroup fan-out: a message costs one Bus publish on the group's subject
 * (`groupSubject`), which each edge holding a member's socket receives once
 * and writes to its member sockets through uWS topics (edge/groups.ts). The
 * cost of a message grows with the edges, not the members.
 *
 * Membership changes travel on each changed account's delivery subject as a
 * `groups` control, before the message that announces them, so every edge
 * holding a device of the account subscribes it (from its join notice on)
 * or drops it at once. Accounts that must not see a message on the group
 * subject (a notice hidden from its operator, the members it removes) are
 * named in it; those no longer members who should see it get it on their
 * own delivery subject.
 */
import type { Effect } from '../../engine/actor/behavior.ts';
import type { Delivery, GroupDelivery, GroupsControl } from '../../engine/envelope.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { deliverySubject, groupSubject } from '../../engine/subjects.ts';
import type { StoredMessage } from '../conversation/logic.ts';
import { silencedBy, type NoticeFrame, type TeamEvent, type TeamState } from './logic.ts';
import { teamViewOf } from './messages.ts';

const NO_FRAME = new Uint8Array(0);

/** The control telling every edge with a device of `account` that its supergroups changed. */
export function groupsControl(account: string, groups: GroupsControl): Effect {
  const delivery: Delivery = { f: NO_FRAME, c: { groups } };
  return { kind: 'publish', subject: deliverySubject(account), data: encode(delivery) };
}

/** Publishes `d` once on the group's subject. */
export function groupPublish(teamId: string, d: GroupDelivery): Effect {
  return { kind: 'publish', subject: groupSubject(teamId), data: encode(d) };
}

/**
 * The effects of a supergroup batch's membership and message events, in
 * event order: controls for joins and departures, then each message once on
 * the group subject (and on the delivery subject of any non-member meant to
 * see it). `deliverTo` builds an account delivery effect.
 */
export function superTeamEffects(
  state: TeamState,
  events: readonly TeamEvent[],
  deliverTo: (account: string, f: Uint8Array, exclude?: string) => Effect,
): Effect[] {
  const out: Effect[] = [];
  // The seq the next message of the batch takes: joiners get messages from there on.
  let next = state.conv.lastSeq + 1;
  for (const e of events) if (e.t === 'msg' && e.msg.seq < next) next = e.msg.seq;
  for (const event of events) {
    if (event.t === 'members') {
      // A row put with its join time is a join; other puts (roles, mutes) change no subscription.
      for (const row of event.put) if (row.joinTime === row.updateTime) out.push(groupsControl(row.account, { add: [[state.id, next]] }));
      for (const account of event.removed) out.push(groupsControl(account, { remove: [state.id] }));
    } else if (event.t === 'msg') {
      out.push(...messageEffects(state, event.msg, event, deliverTo));
      next = event.msg.seq + 1;
    } else if (event.t === 'recall') {
      const notice = event.msg.recalled!;
      const d: GroupDelivery = { f: encode({ ev: 'sysmsg', d: notice }), a: notice.from };
      if (event.conn !== undefined) d.x = event.conn;
      out.push(groupPublish(state.id, d));
    }
  }
  return out;
}

function messageEffects(
  state: TeamState,
  msg: StoredMessage,
  event: Extract<TeamEvent, { t: 'msg' }>,
  deliverTo: (account: string, f: Uint8Array, exclude?: string) => Effect,
): Effect[] {
  const out: Effect[] = [];
  const inbound = encode({ ev: 'msg', d: teamViewOf(msg, '') });
  const outbound = encode({ ev: 'msg', d: teamViewOf(msg, msg.from) });
  const notTo = new Set(event.notTo ?? []);
  // Non-members meant to see it (the members a change removes, the sender who left) get it on their own subject.
  const direct = new Set<string>();
  for (const a of event.alsoTo ?? []) if (!state.members.has(a) && !notTo.has(a)) direct.add(a);
  if (event.notTo === undefined && !state.members.has(msg.from)) direct.add(msg.from);
  for (const account of direct) out.push(account === msg.from ? deliverTo(account, outbound, event.conn) : deliverTo(account, inbound));
  const d: GroupDelivery = { s: msg.seq, f: inbound, o: outbound, a: msg.from };
  if (event.conn !== undefined) d.x = event.conn;
  const skip = [...notTo, ...direct];
  if (skip.length > 0) d.n = skip;
  // Members whose alert setting silences this sender get it marked, as in an advanced group (kept sets, no member scan).
  const silenced = silencedBy(state, msg.from);
  if (silenced.length > 0) {
    d.q = silenced;
    d.fq = encode({ ev: 'msg', d: { ...teamViewOf(msg, ''), isMuted: true } });
  }
  out.push(groupPublish(state.id, d));
  return out;
}

/**
 * The deliveries of one frame of a change's notice (state as the batch left
 * it). A frame for every member goes, in a supergroup, once on the group
 * subject (a callback naming 200 joiners to 10,000 members is one publish,
 * not 10,000); the accounts that joined in the batch get it on their own
 * subject instead (an edge that subscribes for them may not receive the
 * group's yet), as do the accounts named beside the members (those the
 * change removed). In an advanced group each account gets it on its own.
 */
export function noticeFrameEffects(
  state: TeamState,
  events: readonly TeamEvent[],
  f: NoticeFrame,
  deliverTo: (account: string, f: Uint8Array) => Effect,
): Effect[] {
  const bytes = encode({ ev: f.ev, d: f.d });
  const out: Effect[] = [];
  const direct = new Set(f.accounts);
  if (f.members === true) {
    const joined = state.kind === 'superTeam' ? joinersOf(state, events) : [];
    if (state.kind === 'superTeam' && state.members.size > joined.length) {
      const d: GroupDelivery = { f: bytes, a: '' };
      const n = f.except === undefined ? joined : [...joined, f.except];
      if (n.length > 0) d.n = n;
      out.push(groupPublish(state.id, d));
      for (const a of joined) direct.add(a);
    } else {
      for (const a of state.members.keys()) direct.add(a);
    }
  }
  if (f.except !== undefined) direct.delete(f.except);
  for (const account of direct) out.push(deliverTo(account, bytes));
  return out;
}

/** The accounts a batch's member rows made members (a row put with its join time), still members after it. */
function joinersOf(state: TeamState, events: readonly TeamEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) if (e.t === 'members') for (const row of e.put) if (row.joinTime === row.updateTime && state.members.has(row.account)) out.push(row.account);
  return out;
}
