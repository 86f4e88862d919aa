/**
 * The p2p conversation actor (`conv:<a>|<b>`): owns the conversation's
 * numbered messages, their recalls and who deleted which for themselves.
 * LMDB rows (keys from engine/keys.ts):
 * `conv-msgs convMsg(address, seq) → message` (with its recall notice and
 * the accounts that hid it, once it has them) and
 * `conv-idc convIdClient(address, from, idClient) → seq`, and for the
 * features beside the messages: `conv-pins convPin(address, seq) → pin`,
 * `conv-comments convComments(address, seq) → quick comments` and
 * `conv-threads convThread(address, rootSeq, replySeq) → 1`, and
 * `conv-cleared convCleared(address, account) → clear mark`.
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { ActorContext, Effect } from '../../engine/actor/behavior.ts';
import { callEffect, callerOf, defineActor } from '../../engine/actor/define.ts';
import type { Outcome } from '../../engine/actor/define.ts';
import type { Caller } from '../../engine/envelope.ts';
import type { Config } from '../../engine/config.ts';
import { decodeKey, keyOf, rangeUnder } from '../../engine/keys.ts';
import { encodedValue } from '../../engine/store.ts';
import { encode, encodeMapOfRaw, encodeString, encodingOf, extendMapRaw, joinBytes, rememberEncoding } from '../../engine/protocol/codec.ts';
import { sessionIdOf } from '../../engine/protocol/objects.ts';
import type { Message, MsgRef, MsgType, SysMsg } from '../../engine/protocol/objects.ts';
import type { Args, ClearedHistory, PinMsgChange, QuickCommentChange } from '../../engine/protocol/methods.ts';
import type { ConvChangeEntry, ConvChangeFrame } from '../user/conv-changes.ts';
import { userAddress } from '../../engine/subjects.ts';
import { userCalls } from '../user/calls.ts';
import type { TouchArgs } from '../user/calls.ts';
import { postSysMsg } from '../user/sysmsgs.ts';
import { conversationCalls } from './calls.ts';
import { applyRelation, decideRelation, loadRelations, markMuted, persistRelation, refuseBlocked } from './relations.ts';
import type { RelationMarkEvent } from './relations.ts';

/** The conversation actor's Log events: its messages' and its members' relation marks. */
type ConversationActorEvent = ConversationEvent | RelationMarkEvent;
import type { RangeReply } from './calls.ts';
import { MAX_PINS_PER_CONVERSATION, decideAddPin, decideDeletePin, decideUpdatePin, pinChange, pinView, pinsSeenBy } from './pins.ts';
import type { PinEvent, PinInput, PinRow, PinView } from './pins.ts';
import { MAX_COMMENTS_PER_MSG, commentChange, commentsOf, decideAddComment, decideDeleteComment } from './quick-comments.ts';
import type { CommentInput, CommentsRow } from './quick-comments.ts';
import { applyClear, decideClear, replyPlace, rootOf, threadPage, threadRoot } from './threads.ts';
import {
  RECALL_WINDOW_MS,
  applyEvent,
  applyRowChange,
  clearedSeq,
  rowAt,
  decideHide,
  decideRecall,
  decideSend,
  fileBody,
  findResend,
  forwardedBody,
  historyPage,
  initialState,
  lastVisible,
  markSaved,
  messageLimits,
  messagesByRef,
  quietFor,
  sentBy,
  syncedTo,
  viewOf,
  visibleTo,
  type ClearMark,
  type ConversationEvent,
  type ConversationState,
  type ConversationView,
  type DeletedMsgSelf,
  type MessageBody,
  type RecallOptions,
  type SendOptions,
  type StoredMessage,
} from './logic.ts';

/**
 * What the conversation reads when deciding, besides its state: the recall
 * window (ms after a message's `time`) and the pin and quick comment bounds.
 * One value per process, set from the configuration (`configureConversations`);
 * a test may change it.
 */
export const conversationSettings = {
  recallWindowMs: RECALL_WINDOW_MS,
  /** Most pinned messages per conversation. */
  maxPins: MAX_PINS_PER_CONVERSATION,
  /** Most quick comments per message. */
  maxCommentsPerMsg: MAX_COMMENTS_PER_MSG,
};

/** Takes the conversation settings from the process's configuration. */
export function configureConversations(
  config: Pick<Config, 'recallWindowMs' | 'maxPinsPerConversation' | 'maxQuickCommentsPerMsg' | 'maxTextChars' | 'maxContentChars' | 'maxCustomChars'>,
): void {
  messageLimits.textChars = config.maxTextChars;
  messageLimits.contentChars = config.maxContentChars;
  messageLimits.customChars = config.maxCustomChars;
  conversationSettings.recallWindowMs = config.recallWindowMs;
  conversationSettings.maxPins = config.maxPinsPerConversation;
  conversationSettings.maxCommentsPerMsg = config.maxQuickCommentsPerMsg;
}

interface Snapshot {
  logSeq: number;
  lastSeq: number;
  lastTime: number;
  /** Messages sent per member as `[account, count]` pairs; snapshots written before kept a plain object. */
  sent: [string, number][] | Record<string, unknown>;
  /** `ConversationState.quiet` as `[account, count]` pairs; snapshots written before lack it. */
  quiet?: [string, number][];
}

/**
 * The per-member counts of messages sent with `isUnreadable: false` as of a
 * snapshot: its own (null when malformed: the state is then rebuilt from
 * the Log), else, for a snapshot written before it kept them, counted from
 * the message rows it reflects, or undefined (not known) when one is missing.
 */
function quietOf(snap: Snapshot, view: ConversationView): Map<string, number> | undefined | null {
  const quiet = new Map<string, number>();
  if (snap.quiet !== undefined) {
    if (!Array.isArray(snap.quiet)) return null;
    for (const [account, n] of snap.quiet) {
      if (typeof account !== 'string' || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return null;
      quiet.set(account, n);
    }
    return quiet;
  }
  for (let seq = 1; seq <= snap.lastSeq; seq++) {
    const m = view.bySeq(seq);
    if (m === undefined) return undefined;
    if (m.isUnreadable === false) quiet.set(m.from, (quiet.get(m.from) ?? 0) + 1);
  }
  return quiet;
}

/**
 * The per-member counters of a snapshot, or undefined when they cannot be
 * trusted: a plain-object counter written for an account named like an
 * Object.prototype member (`constructor`, `__proto__`, …) held a string or
 * nothing, so such a snapshot is dropped and the state rebuilt from the Log.
 */
function sentOf(snap: Snapshot): Map<string, number> | undefined {
  const entries: [string, unknown][] = Array.isArray(snap.sent) ? snap.sent : Object.entries(snap.sent ?? {});
  const sent = new Map<string, number>();
  for (const [account, n] of entries) {
    if (typeof account !== 'string' || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return undefined;
    sent.set(account, n);
  }
  let total = 0;
  for (const n of sent.values()) total += n;
  return total === snap.lastSeq ? sent : undefined;
}

/** The conversation's rows in LMDB as `ConversationView`: one object per use, its lookups on the prototype (a send makes one). */
class LmdbConversationView implements ConversationView {
  private readonly ctx: ActorContext;

  constructor(ctx: ActorContext) {
    this.ctx = ctx;
  }

  bySeq(seq: number): StoredMessage | undefined {
    return this.ctx.store.db('conv-msgs').get(keyOf('convMsg', this.ctx.address, seq)) as StoredMessage | undefined;
  }

  seqOfIdClient(from: string, idClient: string): number | undefined {
    return this.ctx.store.db('conv-idc').get(keyOf('convIdClient', this.ctx.address, from, idClient)) as number | undefined;
  }
}

export function lmdbView(ctx: ActorContext): ConversationView {
  return new LmdbConversationView(ctx);
}

export function pinRows(ctx: ActorContext): PinView {
  const db = ctx.store.db('conv-pins');
  return {
    pinAt: (seq) => db.get(keyOf('convPin', ctx.address, seq)) as PinRow | undefined,
    all: () => [...db.getRange(rangeUnder('convPin', ctx.address))].map(({ value }) => value as PinRow),
  };
}

export function commentRows(ctx: ActorContext): (seq: number) => CommentsRow | undefined {
  const db = ctx.store.db('conv-comments');
  return (seq) => db.get(keyOf('convComments', ctx.address, seq)) as CommentsRow | undefined;
}

/** The replies of the thread rooted at `root`, by seq: newest first, or oldest first with `ascending`. */
export function* threadReplies(state: ConversationState, ctx: ActorContext, root: number, ascending: boolean): Generator<StoredMessage> {
  const view = lmdbView(ctx);
  const range = rangeUnder('convThread', ctx.address, root);
  const keys = ascending ? ctx.store.db('conv-threads').getKeys(range) : ctx.store.db('conv-threads').getKeys({ start: range.end, end: range.start, reverse: true });
  for (const key of keys) {
    const seq = decodeKey('convThread', key)[2];
    const m = rowAt(state, view, seq);
    if (m !== undefined) yield m;
  }
}

/**
 * The replies of the thread rooted at `root` that `viewer` sees: recalled
 * replies left the index; the ones the viewer cleared (at or below their
 * mark) are not read at all, the rest are read to leave out those the viewer
 * deleted for themselves.
 */
function threadTotal(state: ConversationState, ctx: ActorContext, root: number, viewer: string): number {
  const db = ctx.store.db('conv-threads');
  const range = rangeUnder('convThread', ctx.address, root);
  const floor = clearedSeq(state, viewer);
  const start = floor === 0 ? range.start : keyOf('convThread', ctx.address, root, floor + 1);
  const view = lmdbView(ctx);
  let n = 0;
  for (const key of db.getKeys({ start, end: range.end })) {
    const m = rowAt(state, view, decodeKey('convThread', key)[2]);
    if (m !== undefined && visibleTo(m, viewer)) n++;
  }
  return n;
}

/** What a pin command takes from its arguments and caller. */
export function pinInput(a: { msg: MsgRef; pinCustom?: string | undefined }, c: Caller | undefined, ctx: ActorContext, m: string): PinInput {
  const caller = callerOf(c, m);
  return { by: caller.account, ref: a.msg, pinCustom: a.pinCustom, now: ctx.now(), limit: conversationSettings.maxPins, conn: caller.conn };
}

/** What a quick comment command takes from its arguments and caller. */
export function commentInput(a: Args<'addQuickComment'>, c: Caller | undefined, ctx: ActorContext, m: string): CommentInput {
  const caller = callerOf(c, m);
  const { msg, body, custom, ...push } = a;
  return { by: caller.account, ref: msg, body, custom, push, now: ctx.now(), limit: conversationSettings.maxCommentsPerMsg, conn: caller.conn };
}

/**
 * A pin or quick comment change for every member: delivered to all devices
 * of the others and the other devices of `by`, and journaled by each
 * member's user actor for its devices that are offline (conv-changes.ts).
 * `key` names the change within its millisecond, so a retried call writes
 * the same entry.
 */
function changeToMembers(state: ConversationState, by: string, conn: string | undefined, ev: 'PinMsgChange', key: string, payload: (viewer: string) => PinMsgChange): Effect[];
function changeToMembers(state: ConversationState, by: string, conn: string | undefined, ev: 'QuickComment' | 'DeleteQuickComment', key: string, payload: (viewer: string) => QuickCommentChange): Effect[];
function changeToMembers(state: ConversationState, by: string, conn: string | undefined, ev: ConvChangeFrame['ev'], key: string, payload: (viewer: string) => PinMsgChange | QuickCommentChange): Effect[] {
  const out: Effect[] = [];
  for (const member of new Set(state.members)) {
    const d = payload(member);
    out.push(deliver(member, frame(ev, d), member === by ? conn : undefined));
    const entry = { ev, d, time: d.time ?? 0, key } as ConvChangeEntry;
    out.push(callEffect(userCalls, 'convChanged', userAddress(member), { changes: [entry] }));
  }
  return out;
}

/** What names a pin change within its millisecond. */
function pinKey(event: PinEvent, msg: StoredMessage): string {
  return `pin\u0000${event.type}\u0000${msg.idServer}`;
}

function frame(ev: string, d: unknown): Uint8Array {
  return encode({ ev, d });
}

/**
 * A new message is encoded once: its stored form's bytes, kept with the
 * stored object (`rememberEncoding`) from the send to the batch's effects,
 * go as they are into the Log entry's event and become each viewer's copy by
 * adding the three members a view adds (`extendMapRaw`), for the sender's
 * reply and both delivery frames alike. A stored object is never changed (a
 * recall or a delete-for-self makes a new row).
 */
function storedBytes(msg: StoredMessage): Uint8Array {
  let bytes = encodingOf(msg);
  if (bytes === undefined) {
    bytes = encode(msg);
    rememberEncoding(msg, bytes);
  }
  return bytes;
}

/** The sender's and the recipient's views of a new message, encoded: the reply, the frames and the touches share them. */
interface EncodedViews {
  from: Uint8Array | undefined;
  to: Uint8Array | undefined;
}

/**
 * Where a stored message keeps its `EncodedViews`: a property no spread,
 * `Object.keys` or encoder sees, rather than a WeakMap entry that every
 * garbage collection must trace.
 */
const VIEWS = Symbol('parley.views');
const VIEWS_PROPERTY: PropertyDescriptor = { value: undefined, writable: false, enumerable: false, configurable: false };

function viewsOf(msg: StoredMessage): EncodedViews {
  const holder = msg as StoredMessage & { [VIEWS]?: EncodedViews };
  let views = holder[VIEWS];
  if (views === undefined) {
    views = { from: undefined, to: undefined };
    VIEWS_PROPERTY.value = views;
    Object.defineProperty(holder, VIEWS, VIEWS_PROPERTY);
    VIEWS_PROPERTY.value = undefined;
  }
  return views;
}

/** What `encode(viewOf(msg, viewer))` makes, from the message encoded once; made once per message and member. */
function viewBytes(msg: StoredMessage, viewer: string): Uint8Array {
  // A view leaves out a recall notice, the hiders and (but for the recipient) the mute mark: such a row takes the plain path.
  if (msg.recalled !== undefined || msg.hiddenFor !== undefined || msg.isMuted === true) return encode(viewOf(msg, viewer));
  const sender = msg.from === viewer;
  if (!sender && msg.to !== viewer) return viewOfMember(msg, viewer);
  const views = viewsOf(msg);
  const known = sender ? views.from : views.to;
  if (known !== undefined) return known;
  const bytes = viewOfMember(msg, viewer);
  if (sender) views.from = bytes;
  else views.to = bytes;
  return bytes;
}

function viewOfMember(msg: StoredMessage, viewer: string): Uint8Array {
  const out = msg.from === viewer;
  return extendMapRaw(storedBytes(msg), viewerFields(out, out ? msg.to : msg.from));
}

/** Most entries of each table of `viewerFields`; a full table is emptied. */
const MAX_VIEWER_FIELDS = 4096;
const outFields = new Map<string, Uint8Array>();
const inFields = new Map<string, Uint8Array>();

/** The encoded `{flow, sessionId, target}` a member's view of a message to or from `peer` adds, kept per peer. */
function viewerFields(out: boolean, peer: string): Uint8Array {
  const table = out ? outFields : inFields;
  let bytes = table.get(peer);
  if (bytes === undefined) {
    if (table.size >= MAX_VIEWER_FIELDS) table.clear();
    bytes = new Uint8Array(encode({ flow: out ? 'out' : 'in', sessionId: sessionIdOf('p2p', peer), target: peer })); // a copy, not a view of the packer's buffer
    table.set(peer, bytes);
  }
  return bytes;
}

/** `'msg'`, encoded: the frame's `ev` and the event's `t`. */
const MSG_EV = encode('msg');

/** The Log's bytes of a `msg` event (`{t, msg, conn?, root?}`), around the message's single encoding; every member of the event goes in. */
function eventBytes(event: ConversationEvent & { t: 'msg' }): Uint8Array {
  const members: Array<[string, Uint8Array]> = [['t', MSG_EV], ['msg', storedBytes(event.msg)]];
  if (event.conn !== undefined) members.push(['conn', encodeString(event.conn)]);
  if (event.root !== undefined) members.push(['root', encode(event.root)]);
  return encodeMapOfRaw(members);
}

/** `{ev: 'msg', d: …}` up to the value of `d`: a copy, kept for the life of the process. */
const MSG_FRAME_HEAD = new Uint8Array(encodeMapOfRaw([['ev', MSG_EV], ['d', new Uint8Array(0)]]));

/** The `msg` frame of `msg` as `viewer` sees it (the bytes `frame('msg', viewOf(msg, viewer))` makes). */
function msgFrame(msg: StoredMessage, viewer: string): Uint8Array {
  return joinBytes(MSG_FRAME_HEAD, viewBytes(msg, viewer));
}


/** Any send: an earlier one with the same (from, idClient) is answered again, else the message is numbered and stored. */
function send(
  state: ConversationState,
  a: SendOptions & { idClient?: string | undefined; replyMsg?: MsgRef | undefined },
  c: Caller | undefined,
  ctx: ActorContext,
  m: string,
  type: MsgType,
  body: MessageBody,
): Outcome<ConversationEvent, Message> {
  const caller = callerOf(c, m);
  const idClient = a.idClient ?? ctx.nextIdServer(ctx.now());
  const earlier = findResend(state, lmdbView(ctx), caller.account, idClient);
  if (earlier !== undefined) return { reply: viewOf(earlier, caller.account) };
  // Every kind of send comes through here: a recipient's block refuses it before anything is stored.
  refuseBlocked(state, caller.account);
  const now = ctx.now();
  const thread = a.replyMsg === undefined ? undefined : replyPlace(state, lmdbView(ctx), caller.account, a.replyMsg);
  const event = markMuted(state, decideSend(state, {
    from: caller.account,
    fromDeviceId: caller.deviceId,
    fromClientType: caller.deviceType,
    idClient,
    now,
    idServer: ctx.nextIdServer(now),
    type,
    body,
    args: a,
    conn: caller.conn,
    thread,
  }));
  // The sender's view goes out as bytes only: no object of it is made.
  return { encodedReply: viewBytes(event.msg, caller.account), events: [rememberEncoding(event, eventBytes(event))] };
}

/** `recallMsg` and `deleteMsg`. */
function recall(state: ConversationState, a: RecallOptions & { msg: MsgRef }, c: Caller | undefined, ctx: ActorContext, m: string): Outcome<ConversationEvent, SysMsg> {
  const caller = callerOf(c, m);
  const { msg: ref, ...options } = a;
  const now = ctx.now();
  const { notice, event } = decideRecall(state, lmdbView(ctx), {
    by: caller.account,
    ref,
    now,
    idServer: ctx.nextIdServer(now),
    windowMs: conversationSettings.recallWindowMs,
    options,
    conn: caller.conn,
  });
  if (event === undefined) return { reply: notice };
  // A recalled reply leaves its thread: the event names the root whose index row it removes.
  if (event.t === 'recall' && event.msg.threadMessageInfo !== undefined) event.root = rootOf(state, lmdbView(ctx), event.msg).seq;
  return { reply: notice, events: [event] };
}

/** `deleteMsgSelf` and `deleteMsgSelfBatch`. */
function hide(
  state: ConversationState,
  refs: readonly MsgRef[],
  custom: string | undefined,
  c: Caller | undefined,
  ctx: ActorContext,
  m: string,
): Outcome<ConversationEvent, DeletedMsgSelf[]> {
  const caller = callerOf(c, m);
  const { deleted, event } = decideHide(state, lmdbView(ctx), { viewer: caller.account, refs, now: ctx.now(), custom, conn: caller.conn });
  return event === undefined ? { reply: deleted } : { reply: deleted, events: [event] };
}

/** `clearServerHistoryMsgs` under either name. */
function clear(state: ConversationState, a: Args<'clearServerHistoryMsgs'>, c: Caller | undefined, ctx: ActorContext, m: string): Outcome<ConversationEvent, ClearedHistory> {
  const caller = callerOf(c, m);
  const { cleared, event } = decideClear(state, { viewer: caller.account, isDeleteRoam: a.isDeleteRoam, isSyncSelf: a.isSyncSelf, ext: a.ext, now: ctx.now(), conn: caller.conn });
  return event === undefined ? { reply: cleared } : { reply: cleared, events: [event] };
}

/**
 * The members' session updates carrying `last`; `corrected` after a recall,
 * when `last` replaces what they hold at the same seq. Every count in one is
 * absolute (`seq`, `own`, `quiet`), so the host may replace a member's update
 * that has not gone out yet by a newer one (`supersede`, keyed by the
 * session): under load a member's user actor gets one update per round trip
 * instead of one per batch of this conversation.
 */
function touches(state: ConversationState, last: StoredMessage, ctx: ActorContext, corrected = false): Effect[] {
  const out: Effect[] = [];
  for (const member of new Set(state.members)) {
    const peer = member === state.members[0] ? state.members[1] : state.members[0];
    const touch: TouchArgs = {
      sessionId: sessionIdOf('p2p', peer),
      scene: 'p2p',
      to: peer,
      address: ctx.address,
      seq: state.lastSeq,
      own: sentBy(state, member),
      // The member's view as bytes: made once per message and viewer (the frames use the same), never encoded again on the way.
      view: viewBytes(last, member),
    };
    // Without the conversation's count the user actor counts from `msg`, which only every touch in turn makes right.
    const quiet = quietFor(state, member);
    if (quiet !== undefined) touch.quiet = quiet;
    if (corrected) touch.corrected = true;
    out.push(callEffect(userCalls, 'touch', userAddress(member), touch, quiet === undefined ? undefined : touch.sessionId));
  }
  return out;
}

/** Delivers frame `f` to every device of `account`, except the socket `conn` when given. */
function deliver(account: string, f: Uint8Array, conn: string | undefined): Effect {
  return conn === undefined ? { kind: 'deliver', account, frame: f } : { kind: 'deliver', account, frame: f, exclude: conn };
}

export const conversationBehavior = defineActor<'conv', ConversationState, ConversationActorEvent, typeof conversationCalls>({
  kind: 'conv',
  calls: conversationCalls,

  load(ctx) {
    const state = initialState(ctx.id);
    // Clear marks are rows of their own; a replay from an older position moves none of them back.
    for (const { key, value } of ctx.store.db('conv-cleared').getRange(rangeUnder('convCleared', ctx.address))) state.cleared.set(decodeKey('convCleared', key)[1], value as ClearMark);
    loadRelations(state, ctx);
    const snap = ctx.store.snapshot<Snapshot>(ctx.address);
    const sent = snap === undefined ? undefined : sentOf(snap);
    const quiet = snap === undefined || sent === undefined ? null : quietOf(snap, lmdbView(ctx));
    if (snap === undefined || sent === undefined || quiet === null) return { state, logSeq: 0 };
    state.lastSeq = snap.lastSeq;
    state.lastTime = snap.lastTime;
    state.sent = sent;
    state.quiet = quiet;
    return { state, logSeq: snap.logSeq };
  },

  methods: {
    sendText: (state, a, c, ctx) => send(state, a, c, ctx, 'sendText', 'text', { text: a.text }),
    sendGeo: (state, a, c, ctx) => send(state, a, c, ctx, 'sendGeo', 'geo', { geo: a.geo }),
    sendTipMsg: (state, a, c, ctx) => send(state, a, c, ctx, 'sendTipMsg', 'tip', { tip: a.tip }),
    sendCustomMsg: (state, a, c, ctx) => send(state, a, c, ctx, 'sendCustomMsg', 'custom', { content: a.content }),
    sendFile: (state, a, c, ctx) => send(state, a, c, ctx, 'sendFile', a.type, fileBody(a.type, a.file)),
    forwardMsg: (state, a, c, ctx) => send(state, a, c, ctx, 'forwardMsg', a.msg.type, forwardedBody(a.msg)),
    recallMsg: (state, a, c, ctx) => recall(state, a, c, ctx, 'recallMsg'),
    deleteMsg: (state, a, c, ctx) => recall(state, a, c, ctx, 'deleteMsg'),
    deleteMsgSelf: (state, a, c, ctx) => hide(state, [a.msg], a.custom, c, ctx, 'deleteMsgSelf'),
    deleteMsgSelfBatch: (state, a, c, ctx) => hide(state, a.msgs, a.custom, c, ctx, 'deleteMsgSelfBatch'),
    getHistoryMsgs(state, a, c, ctx) {
      const caller = callerOf(c, 'getHistoryMsgs');
      const page = historyPage(state, lmdbView(ctx), a, caller.account);
      return { reply: { msgs: page.map((m) => viewOf(m, caller.account)) } };
    },
    addMsgPin(state, a, c, ctx) {
      const input = pinInput(a, c, ctx, 'addMsgPin');
      const { pin, msg, event } = decideAddPin(state, lmdbView(ctx), pinRows(ctx), input);
      return { reply: { pin: pinView(pin, msg, input.by) }, ...(event === undefined ? {} : { events: [event] }) };
    },
    updateMsgPin(state, a, c, ctx) {
      const input = pinInput(a, c, ctx, 'updateMsgPin');
      const { pin, msg, event } = decideUpdatePin(state, lmdbView(ctx), pinRows(ctx), input);
      return { reply: { pin: pinView(pin, msg, input.by) }, ...(event === undefined ? {} : { events: [event] }) };
    },
    deleteMsgPin(state, a, c, ctx) {
      const input = pinInput(a, c, ctx, 'deleteMsgPin');
      const { pin, msg, event } = decideDeletePin(state, lmdbView(ctx), pinRows(ctx), input);
      return { reply: pin === undefined ? {} : { pin: pinView(pin, msg, input.by) }, ...(event === undefined ? {} : { events: [event] }) };
    },
    getMsgPins(state, _a, c, ctx) {
      const caller = callerOf(c, 'getMsgPins');
      const view = lmdbView(ctx);
      return { reply: { pins: pinsSeenBy(state, pinRows(ctx).all(), (seq) => rowAt(state, view, seq), caller.account) } };
    },
    addQuickComment(state, a, c, ctx) {
      const { change, event } = decideAddComment(state, lmdbView(ctx), commentRows(ctx), commentInput(a, c, ctx, 'addQuickComment'));
      return { reply: change, ...(event === undefined ? {} : { events: [event] }) };
    },
    deleteQuickComment(state, a, c, ctx) {
      const { event, ...reply } = decideDeleteComment(state, lmdbView(ctx), commentRows(ctx), commentInput(a, c, ctx, 'deleteQuickComment'));
      return { reply, ...(event === undefined ? {} : { events: [event] }) };
    },
    getQuickComments(state, a, c, ctx) {
      const caller = callerOf(c, 'getQuickComments');
      return { reply: commentsOf(state, lmdbView(ctx), commentRows(ctx), a.msgs, caller.account) };
    },
    getThreadMsgs(state, a, c, ctx) {
      const caller = callerOf(c, 'getThreadMsgs');
      const ref: MsgRef = { scene: a.scene, from: a.threadMsgFromAccount, to: a.threadMsgToAccount, time: a.threadMsgTime, idServer: a.threadMsgIdServer };
      const root = threadRoot(state, lmdbView(ctx), caller.account, ref);
      const msgs = threadPage(state, threadReplies(state, ctx, root.seq, a.reverse), a, caller.account);
      const total = threadTotal(state, ctx, root.seq, caller.account);
      return { reply: { threadMsg: viewOf(root, caller.account), msgs: msgs.map((m) => viewOf(m, caller.account)), total, timetag: ctx.now() } };
    },
    clearServerHistoryMsgs: (state, a, c, ctx) => clear(state, a, c, ctx, 'clearServerHistoryMsgs'),
    clearServerHistoryMsgsWithSync: (state, a, c, ctx) => clear(state, a, c, ctx, 'clearServerHistoryMsgsWithSync'),
    getMsgsByIdServer(state, a, c, ctx) {
      const caller = callerOf(c, 'getMsgsByIdServer');
      const found = messagesByRef(state, lmdbView(ctx), a.reqMsgs, caller.account);
      return { reply: { msgs: found.map((m) => viewOf(m, caller.account)) } };
    },
  },

  callHandlers: {
    relation: (state, a) => ({ reply: true, events: decideRelation(state, a) }),
    range(state, a, _caller, ctx) {
      const view = lmdbView(ctx);
      const budget = pageBudget(ctx, a.maxBytes);
      const page: RangeReply = { msgs: [] };
      let bytes = 0;
      // Messages the viewer cleared together with their login sync copies are not sent again.
      let seq = Math.max(1, a.fromSeq, clearedSeq(state, a.viewer, true) + 1);
      for (; seq <= state.lastSeq && page.msgs.length < a.limit; seq++) {
        const m = view.bySeq(seq);
        if (m === undefined || !syncedTo(m, a.viewer) || !visibleTo(m, a.viewer)) continue;
        const v = viewOf(m, a.viewer);
        const size = encode(v).byteLength;
        // Stop before the budget; a page holds at least one message, so every page makes progress.
        if (page.msgs.length > 0 && bytes + size > budget) break;
        page.msgs.push(v);
        bytes += size;
      }
      if (seq <= state.lastSeq) page.next = seq;
      return { reply: page };
    },
  },

  events: {
    relation: { apply: applyRelation, persist: (_state, e, ctx) => persistRelation(e, ctx) },
    msg: {
      apply: (state, event) => applyEvent(state, event),
      persist(_state, { msg, root }, ctx) {
        // The row is the message's single encoding, the one its Log entry and frames carry.
        void ctx.store.db('conv-msgs').put(keyOf('convMsg', ctx.address, msg.seq), encodedValue(storedBytes(msg)));
        void ctx.store.db('conv-idc').put(keyOf('convIdClient', ctx.address, msg.from, msg.idClient), msg.seq);
        if (root !== undefined) void ctx.store.db('conv-threads').put(keyOf('convThread', ctx.address, root, msg.seq), 1);
      },
    },
    recall: {
      apply: (state, event) => applyRowChange(state, event),
      persist(_state, { msg, root }, ctx) {
        void ctx.store.db('conv-msgs').put(keyOf('convMsg', ctx.address, msg.seq), msg);
        // A recalled message leaves its thread's replies and loses its pin and reactions.
        if (root !== undefined) void ctx.store.db('conv-threads').remove(keyOf('convThread', ctx.address, root, msg.seq));
        void ctx.store.db('conv-pins').remove(keyOf('convPin', ctx.address, msg.seq));
        void ctx.store.db('conv-comments').remove(keyOf('convComments', ctx.address, msg.seq));
      },
    },
    pin: {
      apply: (state) => state,
      persist(_state, event, ctx) {
        const key = keyOf('convPin', ctx.address, event.seq);
        if (event.row === undefined) void ctx.store.db('conv-pins').remove(key);
        else void ctx.store.db('conv-pins').put(key, event.row);
      },
    },
    comments: {
      apply: (state) => state,
      persist(_state, event, ctx) {
        const key = keyOf('convComments', ctx.address, event.seq);
        if (event.row.comments.length === 0) void ctx.store.db('conv-comments').remove(key);
        else void ctx.store.db('conv-comments').put(key, event.row);
      },
    },
    clear: {
      apply: (state, event) => applyClear(state, event),
      persist(state, { viewer }, ctx) {
        void ctx.store.db('conv-cleared').put(keyOf('convCleared', ctx.address, viewer), state.cleared.get(viewer));
      },
    },
    hide: {
      apply: (state, event) => applyRowChange(state, event),
      persist(_state, { msgs }, ctx) {
        const db = ctx.store.db('conv-msgs');
        for (const msg of msgs) void db.put(keyOf('convMsg', ctx.address, msg.seq), msg);
      },
    },
  },

  persistBatch(state, events, logSeq, ctx) {
    markSaved(state, events.filter((e): e is ConversationEvent => e.t !== 'relation'));
    const snap: Snapshot = { logSeq, lastSeq: state.lastSeq, lastTime: state.lastTime, sent: [...state.sent] };
    if (state.quiet !== undefined) snap.quiet = [...state.quiet];
    ctx.store.putSnapshot(ctx.address, snap);
  },

  effects(state, events, ctx) {
    const out: Effect[] = [];
    let last: StoredMessage | undefined;
    let recalled = false;
    for (const event of events) {
      if (event.t === 'msg') {
        const { msg, conn } = event;
        last = msg;
        if (msg.to !== msg.from) out.push({ kind: 'deliver', account: msg.to, frame: msgFrame(msg, msg.to) });
        // `isSyncable: false`: the sender's other devices are not told (the sending socket has its reply).
        if (msg.isSyncable || msg.to === msg.from) out.push(deliver(msg.from, msgFrame(msg, msg.from), conn));
      } else if (event.t === 'recall') {
        recalled = true;
        // Through each member's notification store: delivered now, and kept for its devices that are offline.
        const notice = event.msg.recalled!;
        if (notice.to !== notice.from) {
          out.push(postSysMsg(notice.to, notice));
          // The recipient's unread count loses it if it was in it.
          const { seq, from, isUnreadable } = event.msg;
          out.push(callEffect(userCalls, 'recalled', userAddress(notice.to), { sessionId: sessionIdOf('p2p', from), seq, from, counted: isUnreadable }));
        }
        out.push(postSysMsg(notice.from, notice, event.conn));
        // A recall takes the message's pin with it (its row goes when the recall is written): the participants are told.
        const pin = pinRows(ctx).pinAt(event.msg.seq);
        if (pin !== undefined) {
          const unpin: PinEvent = { t: 'pin', type: 'delete', seq: pin.seq, shown: pin, by: notice.from, time: notice.time };
          out.push(...changeToMembers(state, notice.from, undefined, 'PinMsgChange', pinKey(unpin, event.msg), (viewer) => pinChange(unpin, event.msg, viewer)));
        }
      } else if (event.t === 'hide') {
        out.push(deliver(event.viewer, frame('DeleteMsgSelf', event.deleted), event.conn));
        // Journaled by the viewer's user actor for its devices' next login.
        out.push(callEffect(userCalls, 'selfDeleted', userAddress(event.viewer), { deleted: event.deleted }));
      } else if (event.t === 'pin') {
        const msg = rowAt(state, lmdbView(ctx), event.seq);
        if (msg !== undefined) out.push(...changeToMembers(state, event.by, event.conn, 'PinMsgChange', pinKey(event, msg), (viewer) => pinChange(event, msg, viewer)));
      } else if (event.t === 'comments') {
        const msg = rowAt(state, lmdbView(ctx), event.seq);
        const ev = event.type === 'add' ? 'QuickComment' : 'DeleteQuickComment';
        const key = `qc\u0000${event.type}\u0000${msg?.idServer}\u0000${event.comment.from}\u0000${event.comment.body}`;
        if (msg !== undefined) out.push(...changeToMembers(state, event.comment.from, event.conn, ev, key, (viewer) => commentChange(event, msg, viewer)));
      } else if (event.t === 'clear' && event.sync) {
        out.push(deliver(event.viewer, frame('ClearServerHistoryMsgs', [event.cleared]), event.conn));
        // Journaled too, for the viewer's devices that are offline now.
        const entry: ConvChangeEntry = { ev: 'ClearServerHistoryMsgs', d: [event.cleared], time: event.cleared.time, key: `clear\u0000${event.cleared.sessionId}` };
        out.push(callEffect(userCalls, 'convChanged', userAddress(event.viewer), { changes: [entry] }));
      }
    }
    // One session update per member per batch carries the newest message; after a recall, the newest one left.
    const newest = recalled ? lastVisible(state, lmdbView(ctx)) : last;
    if (newest !== undefined) out.push(...touches(state, newest, ctx, recalled));
    return out;
  },
});
