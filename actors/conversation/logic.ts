/**
 * The p2p conversation's rules, free of I/O: numbering, idempotency, the
 * server's fields of a message, and history paging over a time-ordered
 * sequence.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Args, DeviceType, Message, MsgType } from '../../engine/protocol/methods.ts';
import { sessionIdOf } from '../../engine/protocol/methods.ts';

/** A message as stored: the sender's view without `flow`, `sessionId` and `target`, which depend on the viewer. */
export type StoredMessage = Omit<Message, 'flow' | 'sessionId' | 'target'>;

export interface ConversationState {
  /** The two accounts, sorted. Equal for a conversation with oneself. */
  members: [string, string];
  lastSeq: number;
  /** Time of the last message; message times never go backwards. */
  lastTime: number;
  /** Messages sent by each member so far, by account (unread counts are derived from it). */
  sent: Map<string, number>;
  /** recentKey(from, idClient) → seq of the recent sends, so resends inside a batch are found before they reach LMDB. */
  recent: Map<string, number>;
  /**
   * Messages applied but not yet in LMDB (the batch being appended): a resend
   * decided in the same batch as its original must find it here.
   */
  unsaved: Map<number, StoredMessage>;
}

/** `conn` is the sending socket, kept only so that its own delivery echo can skip it. */
export type ConversationEvent = { t: 'msg'; msg: StoredMessage; conn?: string };

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
  return { members, lastSeq: 0, lastTime: 0, sent: new Map(), recent: new Map(), unsaved: new Map() };
}

/** One string per (from, idClient) pair: the length prefix keeps it unambiguous whatever characters either holds. */
export function recentKey(from: string, idClient: string): string {
  return `${from.length}:${from}${idClient}`;
}

/** Messages `account` has sent in this conversation. */
export function sentBy(state: ConversationState, account: string): number {
  return state.sent.get(account) ?? 0;
}

export interface SendInput {
  from: string;
  fromDeviceId: string;
  fromClientType: DeviceType;
  idClient: string;
  now: number;
  idServer: string;
  type: MsgType;
  body: Partial<Pick<Message, 'text'>>;
  args: Args<'sendText'>;
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
export function decideSend(state: ConversationState, input: SendInput & { conn?: string }): ConversationEvent {
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
  return input.conn === undefined ? { t: 'msg', msg } : { t: 'msg', msg, conn: input.conn };
}

export function applyEvent(state: ConversationState, event: ConversationEvent): ConversationState {
  const { msg } = event;
  if (msg.seq <= state.lastSeq) return state; // already applied (replay)
  state.lastSeq = msg.seq;
  state.lastTime = msg.time;
  state.sent.set(msg.from, sentBy(state, msg.from) + 1);
  state.recent.set(recentKey(msg.from, msg.idClient), msg.seq);
  state.unsaved.set(msg.seq, msg);
  if (state.recent.size > RECENT_LIMIT) state.recent.delete(state.recent.keys().next().value!);
  return state;
}

/** Forgets the unsaved copies of `events` once their rows are written. */
export function markSaved(state: ConversationState, events: readonly ConversationEvent[]): void {
  for (const { msg } of events) state.unsaved.delete(msg.seq);
}

/** The message as `viewer` sees it. */
export function viewOf(msg: StoredMessage, viewer: string): Message {
  const peer = msg.from === viewer ? msg.to : msg.from;
  return {
    ...msg,
    flow: msg.from === viewer ? 'out' : 'in',
    sessionId: sessionIdOf('p2p', peer),
    target: peer,
  };
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
export function historyPage(state: ConversationState, view: ConversationView, q: HistoryQuery): StoredMessage[] {
  const end = q.endTime === 0 ? Number.POSITIVE_INFINITY : q.endTime;
  if (state.lastSeq === 0 || q.beginTime > end) return [];
  const types = q.msgTypes === undefined || q.msgTypes.length === 0 ? undefined : new Set<string>(q.msgTypes);
  const out: StoredMessage[] = [];
  const take = (m: StoredMessage | undefined) => {
    if (m !== undefined && m.isHistoryable && (types === undefined || types.has(m.type))) out.push(m);
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
    for (; seq >= 1 && out.length < q.limit; seq--) {
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
    for (; seq <= state.lastSeq && out.length < q.limit; seq++) {
      const m = view.bySeq(seq);
      if (m !== undefined && m.time > end) break;
      take(m);
    }
    if (!q.asc) out.reverse();
  }
  return out;
}
