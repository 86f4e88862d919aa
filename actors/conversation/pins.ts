/**
 * Pinned messages of a conversation, free of I/O: at most one pin per
 * message, any participant may pin, change a pin's `pinCustom` or unpin.
 * Pins are rows of their own (`conv-pins`, by the pinned message's seq); an
 * event carries the row as it becomes, so replaying it writes the same row.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { MsgPin, MsgRef, PinMsgChange } from '../../engine/protocol/methods.ts';
import { sessionIdOf } from '../../engine/protocol/methods.ts';
import { locate, peerOf, seenBy, viewOf } from './logic.ts';
import type { ConversationState, ConversationView, StoredMessage } from './logic.ts';

/** Most pins one conversation holds, by default. */
export const MAX_PINS_PER_CONVERSATION = 100;

/** A pin as stored. */
export interface PinRow {
  seq: number;
  pinFrom: string;
  pinCustom?: string;
  createTime: number;
  updateTime: number;
}

/** A pin added, changed or removed: `row` is the pin as it becomes (undefined once removed), `shown` what the participants are told. */
export interface PinEvent {
  t: 'pin';
  type: PinMsgChange['type'];
  seq: number;
  row?: PinRow;
  shown: PinRow;
  by: string;
  /** When the change happened (ms); events logged before it was kept lack it. */
  time?: number;
  conn?: string;
}

/** The pin rows of one conversation, supplied by the I/O shell. */
export interface PinView {
  pinAt(seq: number): PinRow | undefined;
  /** Every pin, by seq ascending. */
  all(): PinRow[];
}

export interface PinInput {
  by: string;
  ref: MsgRef;
  /** Absent: no extension (or, for an update, clears it). */
  pinCustom?: string | undefined;
  now: number;
  /** Most pins the conversation may hold. */
  limit: number;
  conn?: string | undefined;
}

/** The message a pin command names, as `by` sees it: NOT_FOUND, never a hint, for one elsewhere or out of their sight. */
function pinned(state: ConversationState, view: ConversationView, by: string, ref: MsgRef): StoredMessage {
  peerOf(state, by);
  const m = locate(state, view, ref);
  if (m === undefined || !seenBy(state, m, by)) throw new ParleyError('NOT_FOUND', `no message ${ref.idServer} at time ${ref.time} in this conversation`);
  return m;
}

function pinEvent(type: PinEvent['type'], seq: number, row: PinRow | undefined, shown: PinRow, input: PinInput): PinEvent {
  const e: PinEvent = { t: 'pin', type, seq, shown, by: input.by, time: input.now };
  if (row !== undefined) e.row = row;
  if (input.conn !== undefined) e.conn = input.conn;
  return e;
}

function withCustom(row: PinRow, custom: string | undefined): PinRow {
  const { pinCustom: _old, ...rest } = row;
  return custom === undefined ? rest : { ...rest, pinCustom: custom };
}

/** `addMsgPin`: the same pin again is no change; another `pinCustom` on a pinned message is a CONFLICT. */
export function decideAddPin(state: ConversationState, view: ConversationView, pins: PinView, input: PinInput): { pin: PinRow; msg: StoredMessage; event?: PinEvent } {
  return addPinOn(pinned(state, view, input.by, input.ref), pins, input);
}

/** `addMsgPin` on message `m`, located and allowed by the conversation that holds it (p2p or group). */
export function addPinOn(m: StoredMessage, pins: PinView, input: PinInput): { pin: PinRow; msg: StoredMessage; event?: PinEvent } {
  const old = pins.pinAt(m.seq);
  if (old !== undefined) {
    if (old.pinCustom === input.pinCustom) return { pin: old, msg: m };
    throw new ParleyError('CONFLICT', 'the message is pinned already; updateMsgPin changes its pinCustom');
  }
  if (pins.all().length >= input.limit) throw new ParleyError('BAD_REQUEST', `at most ${input.limit} messages of a conversation may be pinned; unpin one first`);
  const row = withCustom({ seq: m.seq, pinFrom: input.by, createTime: input.now, updateTime: input.now }, input.pinCustom);
  return { pin: row, msg: m, event: pinEvent('add', m.seq, row, row, input) };
}

/** `updateMsgPin`: only `pinCustom` changes; NOT_FOUND when the message is not pinned. */
export function decideUpdatePin(state: ConversationState, view: ConversationView, pins: PinView, input: PinInput): { pin: PinRow; msg: StoredMessage; event?: PinEvent } {
  return updatePinOn(pinned(state, view, input.by, input.ref), pins, input);
}

/** `updateMsgPin` on message `m`, located and allowed by its conversation. */
export function updatePinOn(m: StoredMessage, pins: PinView, input: PinInput): { pin: PinRow; msg: StoredMessage; event?: PinEvent } {
  const old = pins.pinAt(m.seq);
  if (old === undefined) throw new ParleyError('NOT_FOUND', 'the message is not pinned');
  if (old.pinCustom === input.pinCustom) return { pin: old, msg: m };
  const row = { ...withCustom(old, input.pinCustom), updateTime: input.now };
  return { pin: row, msg: m, event: pinEvent('update', m.seq, row, row, input) };
}

/** `deleteMsgPin`: a message not pinned is no change. */
export function decideDeletePin(state: ConversationState, view: ConversationView, pins: PinView, input: PinInput): { pin?: PinRow; msg: StoredMessage; event?: PinEvent } {
  return deletePinOn(pinned(state, view, input.by, input.ref), pins, input);
}

/** `deleteMsgPin` on message `m`, located and allowed by its conversation. */
export function deletePinOn(m: StoredMessage, pins: PinView, input: PinInput): { pin?: PinRow; msg: StoredMessage; event?: PinEvent } {
  const old = pins.pinAt(m.seq);
  if (old === undefined) return { msg: m };
  return { pin: old, msg: m, event: pinEvent('delete', m.seq, undefined, old, input) };
}

/** A pin as `viewer` sees it. */
export function pinView(row: PinRow, msg: StoredMessage, viewer: string): MsgPin {
  const pin: MsgPin = { msg: viewOf(msg, viewer), pinFrom: row.pinFrom, createTime: row.createTime, updateTime: row.updateTime };
  if (row.pinCustom !== undefined) pin.pinCustom = row.pinCustom;
  return pin;
}

/** The change as `viewer` is told it. */
export function pinChange(event: PinEvent, msg: StoredMessage, viewer: string): PinMsgChange {
  const peer = msg.from === viewer ? msg.to : msg.from;
  return { type: event.type, sessionId: sessionIdOf('p2p', peer), pin: pinView(event.shown, msg, viewer), time: event.time ?? event.shown.updateTime };
}

/** Every pin of the conversation `viewer` may see, oldest pin first. */
export function pinsSeenBy(state: ConversationState, rows: readonly PinRow[], bySeq: (seq: number) => StoredMessage | undefined, viewer: string): MsgPin[] {
  const out: { at: number; pin: MsgPin }[] = [];
  for (const row of rows) {
    const m = bySeq(row.seq);
    if (m !== undefined && seenBy(state, m, viewer)) out.push({ at: row.createTime, pin: pinView(row, m, viewer) });
  }
  return out.sort((a, b) => a.at - b.at).map((p) => p.pin);
}
