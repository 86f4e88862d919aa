/**
 * The p2p conversation actor (`conv:<a>|<b>`): owns the conversation's
 * numbered messages. LMDB rows (keys from engine/keys.ts):
 * `conv-msgs convMsg(address, seq) → message` and
 * `conv-idc convIdClient(address, from, idClient) → seq`.
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { ActorContext, Effect } from '../../engine/actor/behavior.ts';
import { callEffect, callerOf, defineActor } from '../../engine/actor/define.ts';
import { keyOf } from '../../engine/keys.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { sessionIdOf } from '../../engine/protocol/objects.ts';
import { userAddress } from '../../engine/subjects.ts';
import { userCalls } from '../user/calls.ts';
import type { TouchArgs } from '../user/calls.ts';
import { conversationCalls } from './calls.ts';
import type { RangeReply } from './calls.ts';
import {
  applyEvent,
  decideSend,
  findResend,
  historyPage,
  initialState,
  markSaved,
  sentBy,
  viewOf,
  type ConversationView,
  type StoredMessage,
} from './logic.ts';

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

export const conversationBehavior = defineActor({
  kind: 'conv',
  calls: conversationCalls,

  load(ctx) {
    const state = initialState(ctx.id);
    const snap = ctx.store.snapshot<Snapshot>(ctx.address);
    const sent = snap === undefined ? undefined : sentOf(snap);
    if (snap === undefined || sent === undefined) return { state, logSeq: 0 };
    state.lastSeq = snap.lastSeq;
    state.lastTime = snap.lastTime;
    state.sent = sent;
    return { state, logSeq: snap.logSeq };
  },

  methods: {
    sendText(state, a, c, ctx) {
      const caller = callerOf(c, 'sendText');
      const idClient = a.idClient ?? ctx.nextIdServer(ctx.now());
      const earlier = findResend(state, lmdbView(ctx), caller.account, idClient);
      if (earlier !== undefined) return { reply: viewOf(earlier, caller.account) };
      const now = ctx.now();
      const event = decideSend(state, {
        from: caller.account,
        fromDeviceId: caller.deviceId,
        fromClientType: caller.deviceType,
        idClient,
        now,
        idServer: ctx.nextIdServer(now),
        type: 'text',
        body: { text: a.text },
        args: a,
        conn: caller.conn,
      });
      return { reply: viewOf(event.msg, caller.account), events: [event] };
    },
    getHistoryMsgs(state, a, c, ctx) {
      const caller = callerOf(c, 'getHistoryMsgs');
      const page = historyPage(state, lmdbView(ctx), a);
      return { reply: { msgs: page.map((m) => viewOf(m, caller.account)) } };
    },
  },

  callHandlers: {
    range(state, a, _caller, ctx) {
      const view = lmdbView(ctx);
      const budget = pageBudget(ctx, a.maxBytes);
      const page: RangeReply = { msgs: [] };
      let bytes = 0;
      let seq = Math.max(1, a.fromSeq);
      for (; seq <= state.lastSeq && page.msgs.length < a.limit; seq++) {
        const m = view.bySeq(seq);
        if (m === undefined || !m.isOfflinable) continue;
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
    msg: {
      apply: (state, event) => applyEvent(state, event),
      persist(_state, { msg }, ctx) {
        void ctx.store.db('conv-msgs').put(keyOf('convMsg', ctx.address, msg.seq), msg);
        void ctx.store.db('conv-idc').put(keyOf('convIdClient', ctx.address, msg.from, msg.idClient), msg.seq);
      },
    },
  },

  persistBatch(state, events, logSeq, ctx) {
    markSaved(state, events);
    const snap: Snapshot = { logSeq, lastSeq: state.lastSeq, lastTime: state.lastTime, sent: [...state.sent] };
    ctx.store.putSnapshot(ctx.address, snap);
  },

  effects(state, events, ctx) {
    const out: Effect[] = [];
    let last: StoredMessage | undefined;
    for (const { msg, conn } of events) {
      last = msg;
      if (msg.to !== msg.from) out.push({ kind: 'deliver', account: msg.to, frame: frame('msg', viewOf(msg, msg.to)) });
      const echo = frame('msg', viewOf(msg, msg.from));
      out.push(conn === undefined ? { kind: 'deliver', account: msg.from, frame: echo } : { kind: 'deliver', account: msg.from, frame: echo, exclude: conn });
    }
    if (last !== undefined) {
      // One session update per member per batch carries the newest message.
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
        out.push(callEffect(userCalls, 'touch', userAddress(member), touch));
      }
    }
    return out;
  },
});
