/**
 * The p2p conversation's rules, free of I/O: numbering, idempotency, the
 * server's fields of a message and the bodies of each kind, recall and
 * delete-for-self, and history paging over a time-ordered sequence.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
export type { DeletedMsgSelf } from '../../engine/protocol/methods.ts';
import type { Args, DeletedMsgSelf, DeviceType, FileDescriptor, Message, MsgRef, MsgType, SysMsg } from '../../engine/protocol/methods.ts';
import { sessionIdOf } from '../../engine/protocol/methods.ts';
import { MAX_CONTENT_CHARS, MAX_EXT_CHARS, MAX_TEXT_CHARS } from '../../engine/protocol/objects.ts';
import type { ThreadMessageInfo } from '../../engine/protocol/methods.ts';
import type { PinEvent } from './pins.ts';
import type { CommentEvent } from './quick-comments.ts';
import type { ClearEvent } from './threads.ts';

/**
 * A message as stored: the sender's view without `flow`, `sessionId` and
 * `target`, which depend on the viewer, plus what only the conversation
 * keeps: the recall notice once it was recalled, and the accounts that
 * deleted it for themselves. Neither is ever shown (`viewOf`).
 */
export type StoredMessage = Omit<Message, 'flow' | 'sessionId' | 'target'> & {
  recalled?: SysMsg;
  hiddenFor?: string[];
};

/** The body fields a message kind carries. */
export type MessageBody = Partial<Pick<Message, 'text' | 'geo' | 'tip' | 'content' | 'file'>>;

/** The per-message options of every send. */
export type SendOptions = Omit<Args<'sendText'>, 'scene' | 'to' | 'idClient' | 'resend' | 'text'>;

/** How long after sending a message its sender may recall it, by default (ms). */
export const RECALL_WINDOW_MS = 2 * 60 * 1000;

export interface ConversationState {
  /** The two accounts, sorted. Equal for a conversation with oneself. */
  members: [string, string];
  lastSeq: number;
  /** Time of the last message; message times never go backwards. */
  lastTime: number;
  /** Messages sent by each member so far, by account (unread counts are derived from it). */
  sent: Map<string, number>;
  /**
   * Messages sent by each member with `isUnreadable: false`, by account: a
   * member's session update carries the peer's count, so it is absolute and
   * a newer update may replace an older one unsent. Undefined when a
   * snapshot written before it was kept cannot tell (its rows are missing):
   * the updates then leave the count to the user actor, one at a time.
   */
  quiet: Map<string, number> | undefined;
  /** recentKey(from, idClient) → seq of the recent sends, so resends inside a batch are found before they reach LMDB. */
  recent: Map<string, number>;
  /**
   * Messages applied but not yet in LMDB (the batch being appended): a resend
   * decided in the same batch as its original must find it here.
   */
  unsaved: Map<number, StoredMessage>;
  /** Each member's marks (blocked, muted) on the other, by the member (relations.ts); absent: none. */
  relations?: Map<string, import('./relations.ts').RelationMark>;
  /** Per member who cleared their history (`clearServerHistoryMsgs`): the seqs up to which it is gone for them. */
  cleared: Map<string, ClearMark>;
}

/** Up to `seq` a member's history is cleared; up to `roamSeq` also its login sync copies. */
export interface ClearMark {
  seq: number;
  roamSeq: number;
}

/**
 * The conversation's Log events. `conn` is the socket that caused it, kept
 * only so that its own delivery echo can skip it. `recall` and `hide` carry
 * the message rows as they become, so replaying them writes the same rows.
 */
export type ConversationEvent =
  /** `root`: a reply's thread root, by seq (the message's `threadMessageInfo` names it for clients). */
  | { t: 'msg'; msg: StoredMessage; conn?: string; root?: number }
  /** `root`: the thread root of a recalled reply, by seq. */
  | { t: 'recall'; msg: StoredMessage; conn?: string; root?: number }
  | { t: 'hide'; viewer: string; msgs: StoredMessage[]; deleted: DeletedMsgSelf[]; conn?: string }
  | PinEvent
  | CommentEvent
  | ClearEvent;
/** A new message. */
export type MsgEvent = Extract<ConversationEvent, { t: 'msg' }>;

/** Lookups of what is already stored, supplied by the I/O shell (or a fake in tests). */
export interface ConversationView {
  bySeq(seq: number): StoredMessage | undefined;
  seqOfIdClient(from: string, idClient: string): number | undefined;
}

/** Recent idClients kept in memory per conversation. */
export const RECENT_LIMIT = 512;

/** Members of `conv:<a>|<b>`. */
export function membersOf(id: string): [string, string] {
  const bar = id.indexOf('|');
  if (bar <= 0) throw new ParleyError('BAD_REQUEST', `malformed conversation id '${id}'`);
  const a = id.slice(0, bar);
  const b = id.slice(bar + 1);
  return a <= b ? [a, b] : [b, a];
}

export function initialState(id: string): ConversationState {
  const members = membersOf(id);
  return { members, lastSeq: 0, lastTime: 0, sent: new Map(), quiet: new Map(), recent: new Map(), unsaved: new Map(), cleared: new Map() };
}

/** One string per (from, idClient) pair: the length prefix keeps it unambiguous whatever characters either holds. */
export function recentKey(from: string, idClient: string): string {
  return `${from.length}:${from}${idClient}`;
}

/** Messages `account` has sent in this conversation. */
export function sentBy(state: ConversationState, account: string): number {
  return state.sent.get(account) ?? 0;
}

/** Messages of the other members that never count as unread for `account` (sent with `isUnreadable: false`); undefined when not known. */
export function quietFor(state: ConversationState, account: string): number | undefined {
  if (state.quiet === undefined) return undefined;
  let n = 0;
  for (const [from, count] of state.quiet) if (from !== account) n += count;
  return n;
}

export interface SendInput {
  from: string;
  fromDeviceId: string;
  fromClientType: DeviceType;
  idClient: string;
  now: number;
  idServer: string;
  type: MsgType;
  body: MessageBody;
  args: SendOptions;
  /** Set for a reply: where it sits in its thread. */
  thread?: { info: ThreadMessageInfo; root: number } | undefined;
}

/** The peer of `from` in this conversation. */
export function peerOf(state: ConversationState, from: string): string {
  const [a, b] = state.members;
  if (from === a) return b;
  if (from === b) return a;
  throw new ParleyError('FORBIDDEN', `${from} is not a member of this conversation`);
}

/** Finds an earlier send with the same (from, idClient), in memory or in the view. */
export function findResend(state: ConversationState, view: ConversationView, from: string, idClient: string): StoredMessage | undefined {
  const seq = state.recent.get(recentKey(from, idClient)) ?? view.seqOfIdClient(from, idClient);
  return seq === undefined ? undefined : (state.unsaved.get(seq) ?? view.bySeq(seq));
}

/** Decides a send: the stored message with its server fields (seq, time, idServer). */
/**
 * Sizes a send may reach, as the operator configured them (PARLEY_MAX_TEXT_CHARS,
 * PARLEY_MAX_CONTENT_CHARS, PARLEY_MAX_CUSTOM_CHARS): at most the protocol's
 * own ceilings, which the schemas hold. One value per process.
 */
export const messageLimits = {
  textChars: MAX_TEXT_CHARS,
  contentChars: MAX_CONTENT_CHARS,
  customChars: MAX_EXT_CHARS,
};

/** Refuses a send past a configured size, naming the field, the limit and its setting. */
function checkSizes(input: SendInput): void {
  const over = (field: string, value: string | undefined, max: number, setting: string) => {
    if (value !== undefined && value.length > max) {
      throw new ParleyError('BAD_REQUEST', `${field} is ${value.length} characters; at most ${max} are allowed (${setting})`);
    }
  };
  over('text', input.body.text, messageLimits.textChars, 'PARLEY_MAX_TEXT_CHARS');
  over('tip', input.body.tip, messageLimits.textChars, 'PARLEY_MAX_TEXT_CHARS');
  over('content', input.body.content, messageLimits.contentChars, 'PARLEY_MAX_CONTENT_CHARS');
  over('custom', input.args.custom, messageLimits.customChars, 'PARLEY_MAX_CUSTOM_CHARS');
}

export function decideSend(state: ConversationState, input: SendInput & { conn?: string }): MsgEvent {
  checkSizes(input);
  const to = peerOf(state, input.from);
  const a = input.args;
  const msg: StoredMessage = {
    scene: 'p2p',
    from: input.from,
    to,
    type: input.type,
    ...input.body,
    idClient: input.idClient,
    idServer: input.idServer,
    seq: state.lastSeq + 1,
    time: Math.max(input.now, state.lastTime),
    status: 'success',
    fromDeviceId: input.fromDeviceId,
    fromClientType: input.fromClientType,
    needMsgReceipt: a.needMsgReceipt ?? false,
    isHistoryable: a.isHistoryable ?? true,
    isRoamingable: a.isRoamingable ?? true,
    isSyncable: a.isSyncable ?? true,
    isPushable: a.isPushable ?? true,
    isOfflinable: a.isOfflinable ?? true,
    isUnreadable: a.isUnreadable ?? true,
  };
  if (a.custom !== undefined) msg.custom = a.custom;
  if (a.subType !== undefined) msg.subType = a.subType;
  if (a.pushContent !== undefined) msg.pushContent = a.pushContent;
  if (a.pushPayload !== undefined) msg.pushPayload = a.pushPayload;
  if (a.needPushNick !== undefined) msg.needPushNick = a.needPushNick;
  if (a.env !== undefined) msg.env = a.env;
  if (input.thread !== undefined) msg.threadMessageInfo = input.thread.info;
  const event: MsgEvent = input.conn === undefined ? { t: 'msg', msg } : { t: 'msg', msg, conn: input.conn };
  if (input.thread !== undefined) event.root = input.thread.root;
  return event;
}

export function applyEvent(state: ConversationState, event: MsgEvent): ConversationState {
  const { msg } = event;
  if (msg.seq <= state.lastSeq) return state; // already applied (replay)
  state.lastSeq = msg.seq;
  state.lastTime = msg.time;
  state.sent.set(msg.from, sentBy(state, msg.from) + 1);
  if (msg.isUnreadable === false && state.quiet !== undefined) state.quiet.set(msg.from, (state.quiet.get(msg.from) ?? 0) + 1);
  state.recent.set(recentKey(msg.from, msg.idClient), msg.seq);
  state.unsaved.set(msg.seq, msg);
  if (state.recent.size > RECENT_LIMIT) state.recent.delete(state.recent.keys().next().value!);
  return state;
}

/**
 * A recall or a delete-for-self: the rows as they become stay in `unsaved`
 * until written, so later decisions of the same batch see them. Messages not
 * applied yet (a replay of an old entry) are left alone.
 */
export function applyRowChange(state: ConversationState, event: ConversationEvent & { t: 'recall' | 'hide' }): ConversationState {
  const rows = event.t === 'recall' ? [event.msg] : event.msgs;
  for (const row of rows) if (row.seq <= state.lastSeq) state.unsaved.set(row.seq, row);
  return state;
}

/** Forgets the unsaved copies of `events` once their rows are written. */
export function markSaved(state: ConversationState, events: readonly ConversationEvent[]): void {
  for (const event of events) {
    if (event.t === 'hide') for (const row of event.msgs) state.unsaved.delete(row.seq);
    else if (event.t === 'msg' || event.t === 'recall') state.unsaved.delete(event.msg.seq);
  }
}

/** The message as `viewer` sees it. */
export function viewOf(msg: StoredMessage, viewer: string): Message {
  if (msg.isMuted === true && viewer !== msg.to) {
    // Only the recipient learns that it muted the sender.
    const { isMuted: _m, ...unmarked } = msg;
    return viewOf(unmarked, viewer);
  }
  const peer = msg.from === viewer ? msg.to : msg.from;
  if (msg.recalled !== undefined || msg.hiddenFor !== undefined) {
    const { recalled: _r, hiddenFor: _h, ...shown } = msg;
    return { ...shown, flow: msg.from === viewer ? 'out' : 'in', sessionId: sessionIdOf('p2p', peer), target: peer };
  }
  return {
    ...msg,
    flow: msg.from === viewer ? 'out' : 'in',
    sessionId: sessionIdOf('p2p', peer),
    target: peer,
  };
}

/** The seq up to which `viewer` cleared their history (`roam`: their login sync copies), 0 when they never did. */
export function clearedSeq(state: ConversationState, viewer: string | undefined, roam = false): number {
  if (viewer === undefined) return 0;
  const mark = state.cleared.get(viewer);
  return mark === undefined ? 0 : roam ? mark.roamSeq : mark.seq;
}

/** Whether `viewer` sees the message in history: `visibleTo`, and not cleared by them. */
export function seenBy(state: ConversationState, msg: StoredMessage, viewer: string): boolean {
  return visibleTo(msg, viewer) && msg.seq > clearedSeq(state, viewer);
}

/**
 * Whether the login sync brings the message to a device of `viewer`: the
 * recipient's devices get it as an offline message unless it was sent with
 * `isOfflinable: false`; the sender's own devices get it (roaming) unless it
 * was sent with `isRoamingable: false` or `isSyncable: false`.
 */
export function syncedTo(msg: StoredMessage, viewer: string): boolean {
  if (msg.from === viewer) return msg.isRoamingable && msg.isSyncable;
  return msg.isOfflinable;
}

/** Whether `viewer` sees the message at all: not recalled, not deleted by them for themselves. */
export function visibleTo(msg: StoredMessage, viewer: string | undefined): boolean {
  if (msg.recalled !== undefined) return false;
  return viewer === undefined || msg.hiddenFor === undefined || !msg.hiddenFor.includes(viewer);
}

// ---- Message bodies ----------------------------------------------------------

/** What is wrong with `file` for a message of `type`, or undefined: images need `w`/`h`, audio `dur`, video all three. */
export function fileProblem(type: MsgType, file: FileDescriptor, path = 'file'): string | undefined {
  const needs: readonly ('w' | 'h' | 'dur')[] = type === 'image' ? ['w', 'h'] : type === 'audio' ? ['dur'] : type === 'video' ? ['w', 'h', 'dur'] : [];
  for (const field of needs) if (file[field] === undefined) return `\`${path}.${field}\` is required for a message of type '${type}'`;
  return undefined;
}

/** The body of a file message, refused with BAD_REQUEST when the descriptor lacks what its type needs. */
export function fileBody(type: MsgType, file: FileDescriptor, path = 'file'): MessageBody {
  const problem = fileProblem(type, file, path);
  if (problem !== undefined) throw new ParleyError('BAD_REQUEST', problem);
  return { file };
}

/** The type's body field of a message being forwarded; BAD_REQUEST naming it when missing. */
export function forwardedBody(msg: Args<'forwardMsg'>['msg']): MessageBody {
  const need = (field: 'text' | 'geo' | 'tip' | 'content' | 'file') => {
    if (msg[field] === undefined) throw new ParleyError('BAD_REQUEST', `\`msg.${field}\` is required to forward a message of type '${msg.type}'`);
  };
  switch (msg.type) {
    case 'text': need('text'); return { text: msg.text! };
    case 'geo': need('geo'); return { geo: msg.geo! };
    case 'tip': need('tip'); return { tip: msg.tip! };
    case 'custom': need('content'); return { content: msg.content! };
    case 'notification': throw new ParleyError('BAD_REQUEST', '`msg.type` must not be \'notification\': notifications are not forwarded');
    default: need('file'); return fileBody(msg.type, msg.file!, 'msg.file');
  }
}

// ---- Locating, recall, delete-for-self ---------------------------------------

/** A stored message by seq: the batch's unsaved copy first, then the row. */
export function rowAt(state: ConversationState, view: ConversationView, seq: number): StoredMessage | undefined {
  return state.unsaved.get(seq) ?? view.bySeq(seq);
}

/** Whether `from` and `to` are this conversation's two members, either way round. */
function isOwnPair(state: ConversationState, from: string, to: string): boolean {
  const [a, b] = state.members;
  return (from === a && to === b) || (from === b && to === a);
}

/**
 * The stored message `ref` names (recalled or not), or undefined: its
 * `from`/`to` must be this conversation's, and it is searched among the
 * messages of exactly `ref.time`.
 */
export function locate(state: ConversationState, view: ConversationView, ref: MsgRef): StoredMessage | undefined {
  if (ref.scene !== 'p2p' || !isOwnPair(state, ref.from, ref.to)) return undefined;
  let lo = 1;
  let hi = state.lastSeq + 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const t = rowAt(state, view, mid)?.time ?? Number.POSITIVE_INFINITY;
    if (t >= ref.time) hi = mid;
    else lo = mid + 1;
  }
  for (let seq = lo; seq <= state.lastSeq; seq++) {
    const m = rowAt(state, view, seq);
    if (m === undefined || m.time > ref.time) break;
    if (m.idServer === ref.idServer && m.from === ref.from) return m;
  }
  return undefined;
}

/** What a recall takes besides the message. */
export type RecallOptions = Omit<Args<'recallMsg'>, 'msg'>;

export interface RecallInput {
  by: string;
  ref: MsgRef;
  now: number;
  /** The notice's own id. */
  idServer: string;
  /** How long after its `time` a message may still be recalled (ms). */
  windowMs: number;
  options: RecallOptions;
  conn?: string | undefined;
}

/**
 * Decides a recall: NOT_FOUND for a message the conversation does not hold
 * (or one already recalled by somebody else's request, which cannot be),
 * FORBIDDEN for somebody else's message, EXPIRED past the window. Recalling
 * again what is already recalled answers the same notice and changes nothing.
 */
export function decideRecall(state: ConversationState, view: ConversationView, input: RecallInput): { notice: SysMsg; event?: ConversationEvent } {
  const m = locate(state, view, input.ref);
  if (m === undefined) throw new ParleyError('NOT_FOUND', `no message ${input.ref.idServer} at time ${input.ref.time} in this conversation`);
  if (m.from !== input.by) throw new ParleyError('FORBIDDEN', 'only the sender may recall a message');
  if (m.recalled !== undefined) return { notice: m.recalled };
  if (input.now - m.time > input.windowMs) {
    throw new ParleyError('EXPIRED', `the message is older than the recall window of ${input.windowMs} ms`);
  }
  const notice: SysMsg = {
    type: 'deleteMsg',
    scene: 'p2p',
    from: input.by,
    to: m.to,
    idServer: input.idServer,
    time: input.now,
    ...input.options,
    msg: { scene: 'p2p', from: m.from, to: m.to, time: m.time, idServer: m.idServer, idClient: m.idClient, type: m.type },
  };
  const msg: StoredMessage = { ...m, recalled: notice };
  return { notice, event: input.conn === undefined ? { t: 'recall', msg } : { t: 'recall', msg, conn: input.conn } };
}

export interface HideInput {
  viewer: string;
  refs: readonly MsgRef[];
  now: number;
  custom?: string | undefined;
  conn?: string | undefined;
}

/**
 * Decides a delete-for-self of `refs`: every one must name a message the
 * viewer still could see (NOT_FOUND naming the first that does not). Ones
 * already hidden are answered again and change nothing.
 */
export function decideHide(state: ConversationState, view: ConversationView, input: HideInput): { deleted: DeletedMsgSelf[]; event?: ConversationEvent } {
  const deleted: DeletedMsgSelf[] = [];
  const changed = new Map<number, StoredMessage>();
  input.refs.forEach((ref, i) => {
    const found = locate(state, view, ref);
    const m = found === undefined ? undefined : (changed.get(found.seq) ?? found);
    if (m === undefined || m.recalled !== undefined) {
      const which = input.refs.length === 1 ? 'the message' : `message ${i}`;
      throw new ParleyError('NOT_FOUND', `${which} (${ref.idServer} at time ${ref.time}) is not in this conversation`);
    }
    const item: DeletedMsgSelf = {
      scene: 'p2p',
      from: m.from,
      to: m.to,
      time: m.time,
      idServer: m.idServer,
      idClient: m.idClient,
      sessionId: sessionIdOf('p2p', m.from === input.viewer ? m.to : m.from),
      deletedTime: input.now,
    };
    if (input.custom !== undefined) item.custom = input.custom;
    if (!deleted.some((d) => d.idServer === item.idServer)) deleted.push(item);
    if (m.hiddenFor?.includes(input.viewer) !== true) {
      changed.set(m.seq, { ...m, hiddenFor: [...(m.hiddenFor ?? []), input.viewer] });
    }
  });
  if (changed.size === 0) return { deleted };
  const event: ConversationEvent = { t: 'hide', viewer: input.viewer, msgs: [...changed.values()], deleted };
  if (input.conn !== undefined) event.conn = input.conn;
  return { deleted, event };
}

/** The messages `refs` name that `viewer` sees, in the order asked, each once. */
export function messagesByRef(state: ConversationState, view: ConversationView, refs: readonly MsgRef[], viewer: string): StoredMessage[] {
  const out: StoredMessage[] = [];
  const seen = new Set<number>();
  for (const ref of refs) {
    const m = locate(state, view, ref);
    if (m !== undefined && seenBy(state, m, viewer) && !seen.has(m.seq)) {
      seen.add(m.seq);
      out.push(m);
    }
  }
  return out;
}

/** Most messages `lastVisible` looks back over. */
export const LAST_VISIBLE_SCAN = 100;

/** The newest message that is not recalled, looking back at most `LAST_VISIBLE_SCAN` messages. */
export function lastVisible(state: ConversationState, view: ConversationView): StoredMessage | undefined {
  for (let seq = state.lastSeq; seq >= 1 && seq > state.lastSeq - LAST_VISIBLE_SCAN; seq--) {
    const m = rowAt(state, view, seq);
    if (m !== undefined && m.recalled === undefined) return m;
  }
  return undefined;
}

export interface HistoryQuery {
  beginTime: number;
  /** 0 = no upper bound. */
  endTime: number;
  lastMsgId?: string | undefined;
  limit: number;
  reverse: boolean;
  asc: boolean;
  msgTypes?: readonly MsgType[] | undefined;
}

/** First seq in 1..lastSeq whose time is > `time` (lastSeq + 1 when none): times never decrease with seq. */
function firstSeqAfter(time: number, lastSeq: number, view: ConversationView): number {
  let lo = 1;
  let hi = lastSeq + 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const t = view.bySeq(mid)?.time ?? Number.POSITIVE_INFINITY;
    if (t > time) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * A page of history. `reverse = false` walks back from `endTime`,
 * `reverse = true` forward from `beginTime`; `lastMsgId` (the previous page's
 * last message, at the boundary time) makes the walk start just past it, so
 * messages sharing a timestamp are neither repeated nor skipped. `asc` only
 * orders the returned list.
 */
export function historyPage(state: ConversationState, view: ConversationView, q: HistoryQuery, viewer?: string): StoredMessage[] {
  const end = q.endTime === 0 ? Number.POSITIVE_INFINITY : q.endTime;
  if (state.lastSeq === 0 || q.beginTime > end) return [];
  const types = q.msgTypes === undefined || q.msgTypes.length === 0 ? undefined : new Set<string>(q.msgTypes);
  // Messages up to `floor` the viewer cleared from their history.
  const floor = clearedSeq(state, viewer);
  const out: StoredMessage[] = [];
  const take = (m: StoredMessage | undefined) => {
    if (m !== undefined && m.isHistoryable && (types === undefined || types.has(m.type)) && visibleTo(m, viewer)) out.push(m);
  };

  if (!q.reverse) {
    let seq = end === Number.POSITIVE_INFINITY ? state.lastSeq : firstSeqAfter(end, state.lastSeq, view) - 1;
    if (q.lastMsgId !== undefined && q.lastMsgId !== '') {
      // Skip back past the previous page's last message among those at the boundary time.
      for (let s = seq; s >= 1; s--) {
        const m = view.bySeq(s);
        if (m === undefined || m.time < end) break;
        if (m.idServer === q.lastMsgId) {
          seq = s - 1;
          break;
        }
      }
    }
    for (; seq > floor && out.length < q.limit; seq--) {
      const m = view.bySeq(seq);
      if (m !== undefined && m.time < q.beginTime) break;
      take(m);
    }
    if (q.asc) out.reverse();
  } else {
    let seq = q.beginTime === 0 ? 1 : firstSeqAfter(q.beginTime - 1, state.lastSeq, view);
    if (q.lastMsgId !== undefined && q.lastMsgId !== '') {
      for (let s = seq; s <= state.lastSeq; s++) {
        const m = view.bySeq(s);
        if (m === undefined || m.time > q.beginTime) break;
        if (m.idServer === q.lastMsgId) {
          seq = s + 1;
          break;
        }
      }
    }
    for (seq = Math.max(seq, floor + 1); seq <= state.lastSeq && out.length < q.limit; seq++) {
      const m = view.bySeq(seq);
      if (m !== undefined && m.time > end) break;
      take(m);
    }
    if (!q.asc) out.reverse();
  }
  return out;
}
