/**
 * The p2p conversation actor (`conv:<a>|<b>`): owns the conversation's
 * numbered messages, their recalls and who deleted which for themselves.
 * LMDB rows (keys from engine/keys.ts):
 * `conv-msgs convMsg(address, seq) → message` (with its recall notice and
 * the accounts that hid it, once it has them) and
 * `conv-idc convIdClient(address, from, idClient) → seq`.
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { ActorContext, Effect } from '../../engine/actor/behavior.ts';
import { callEffect, callerOf, defineActor } from '../../engine/actor/define.ts';
import type { Outcome } from '../../engine/actor/define.ts';
import type { Caller } from '../../engine/envelope.ts';
import { keyOf } from '../../engine/keys.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { sessionIdOf } from '../../engine/protocol/objects.ts';
import type { Message, MsgRef, MsgType, SysMsg } from '../../engine/protocol/objects.ts';
import { userAddress } from '../../engine/subjects.ts';
import { userCalls } from '../user/calls.ts';
import type { TouchArgs } from '../user/calls.ts';
import { conversationCalls } from './calls.ts';
import { applyRelation, decideRelation, loadRelations, markMuted, persistRelation, refuseBlocked } from './relations.ts';
import type { RelationMarkEvent } from './relations.ts';

/** The conversation actor's Log events: its messages' and its members' relation marks. */
type ConversationActorEvent = ConversationEvent | RelationMarkEvent;
import type { RangeReply } from './calls.ts';
import {
  RECALL_WINDOW_MS,
  applyEvent,
  applyRowChange,
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
  messagesByRef,
  sentBy,
  viewOf,
  visibleTo,
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
 * window (ms after a message's `time`). One value per process; a test may
 * shorten it.
 */
export const conversationSettings = { recallWindowMs: RECALL_WINDOW_MS };

interface Snapshot {
  logSeq: number;
  lastSeq: number;
  lastTime: number;
  /** Messages sent per member as `[account, count]` pairs; snapshots written before kept a plain object. */
  sent: [string, number][] | Record<string, unknown>;
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

function lmdbView(ctx: ActorContext): ConversationView {
  const msgs = ctx.store.db('conv-msgs');
  const idc = ctx.store.db('conv-idc');
  return {
    bySeq: (seq) => msgs.get(keyOf('convMsg', ctx.address, seq)) as StoredMessage | undefined,
    seqOfIdClient: (from, idClient) => idc.get(keyOf('convIdClient', ctx.address, from, idClient)) as number | undefined,
  };
}

function frame(ev: string, d: unknown): Uint8Array {
  return encode({ ev, d });
}


/** Any send: an earlier one with the same (from, idClient) is answered again, else the message is numbered and stored. */
function send(
  state: ConversationState,
  a: SendOptions & { idClient?: string | undefined },
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
  }));
  return { reply: viewOf(event.msg, caller.account), events: [event] };
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
  return event === undefined ? { reply: notice } : { reply: notice, events: [event] };
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

/** Both members' session updates after a batch: the newest message, as each sees it. */
/** The members' session updates carrying `last`; `corrected` after a recall, when `last` replaces what they hold at the same seq. */
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
      msg: viewOf(last, member),
    };
    if (corrected) touch.corrected = true;
    out.push(callEffect(userCalls, 'touch', userAddress(member), touch));
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
    loadRelations(state, ctx);
    const snap = ctx.store.snapshot<Snapshot>(ctx.address);
    const sent = snap === undefined ? undefined : sentOf(snap);
    if (snap === undefined || sent === undefined) return { state, logSeq: 0 };
    state.lastSeq = snap.lastSeq;
    state.lastTime = snap.lastTime;
    state.sent = sent;
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
      let seq = Math.max(1, a.fromSeq);
      for (; seq <= state.lastSeq && page.msgs.length < a.limit; seq++) {
        const m = view.bySeq(seq);
        if (m === undefined || !m.isOfflinable || !visibleTo(m, a.viewer)) continue;
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
      persist(_state, { msg }, ctx) {
        void ctx.store.db('conv-msgs').put(keyOf('convMsg', ctx.address, msg.seq), msg);
        void ctx.store.db('conv-idc').put(keyOf('convIdClient', ctx.address, msg.from, msg.idClient), msg.seq);
      },
    },
    recall: {
      apply: (state, event) => applyRowChange(state, event),
      persist(_state, { msg }, ctx) {
        void ctx.store.db('conv-msgs').put(keyOf('convMsg', ctx.address, msg.seq), msg);
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
        if (msg.to !== msg.from) out.push({ kind: 'deliver', account: msg.to, frame: frame('msg', viewOf(msg, msg.to)) });
        out.push(deliver(msg.from, frame('msg', viewOf(msg, msg.from)), conn));
      } else if (event.t === 'recall') {
        recalled = true;
        const notice = event.msg.recalled!;
        const f = frame('sysmsg', notice);
        if (notice.to !== notice.from) out.push({ kind: 'deliver', account: notice.to, frame: f });
        out.push(deliver(notice.from, f, event.conn));
      } else if (event.t === 'hide') {
        out.push(deliver(event.viewer, frame('DeleteMsgSelf', event.deleted), event.conn));
      }
    }
    // One session update per member per batch carries the newest message; after a recall, the newest one left.
    const newest = recalled ? lastVisible(state, lmdbView(ctx)) : last;
    if (newest !== undefined) out.push(...touches(state, newest, ctx, recalled));
    return out;
  },
});
