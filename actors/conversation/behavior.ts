/**
 * The p2p conversation actor (`conv:<a>|<b>`): owns the conversation's
 * numbered messages. LMDB rows (keys from engine/keys.ts):
 * `conv-msgs convMsg(address, seq) → message` and
 * `conv-idc convIdClient(address, from, idClient) → seq`.
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { ActorBehavior, ActorContext, Command, Effect } from '../../engine/actor/behavior.ts';
import { keyOf } from '../../engine/keys.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Args } from '../../engine/protocol/methods.ts';
import { sessionIdOf } from '../../engine/protocol/methods.ts';
import type { Caller } from '../../engine/envelope.ts';
import { userAddress } from '../../engine/subjects.ts';
import {
  applyEvent,
  decideSend,
  findResend,
  historyPage,
  initialState,
  markSaved,
  sentBy,
  viewOf,
  type ConversationEvent,
  type ConversationState,
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

/** Arguments of the internal `range` method used by the login sync, once per page. */
export interface RangeArgs {
  viewer: string;
  fromSeq: number;
  /** Most messages in the page. */
  limit: number;
  /** Most bytes of the page, when the caller needs less than the Bus carries. */
  maxBytes?: number;
}

/** A page of `range`: `next` is the seq to resume from, set when the page stopped before the conversation's end. */
export interface RangeReply {
  msgs: ReturnType<typeof viewOf>[];
  next?: number;
}

/** Arguments of the `touch` a conversation sends to a member's user actor. */
export interface TouchArgs {
  sessionId: string;
  scene: 'p2p';
  to: string;
  address: string;
  seq: number;
  /** Messages the member had sent up to `seq`. */
  own: number;
  msg: ReturnType<typeof viewOf>;
}

function requireCaller(cmd: Command): Caller {
  if (cmd.caller === undefined) throw new ParleyError('UNAUTHORIZED', `${cmd.m} needs a logged-in caller`);
  return cmd.caller;
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

export const conversationBehavior: ActorBehavior<ConversationState, ConversationEvent> = {
  kind: 'conv',
  reads: new Set(['getHistoryMsgs', 'range']),

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

  handle(state, cmd, ctx) {
    const view = lmdbView(ctx);
    switch (cmd.m) {
      case 'sendText': {
        const caller = requireCaller(cmd);
        const a = cmd.a as Args<'sendText'>;
        const idClient = a.idClient ?? ctx.nextIdServer(ctx.now());
        const earlier = findResend(state, view, caller.account, idClient);
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
      }
      case 'getHistoryMsgs': {
        const caller = requireCaller(cmd);
        const a = cmd.a as Args<'getHistoryMsgs'>;
        const page = historyPage(state, view, a);
        return { reply: { msgs: page.map((m) => viewOf(m, caller.account)) } };
      }
      case 'range': {
        const a = cmd.a as RangeArgs;
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
      }
      default:
        throw new ParleyError('BAD_REQUEST', `method \`${cmd.m}\` is not supported for p2p conversations`);
    }
  },

  apply: (state, event) => applyEvent(state, event),

  persist(state, events, logSeq, ctx) {
    const msgs = ctx.store.db('conv-msgs');
    const idc = ctx.store.db('conv-idc');
    for (const { msg } of events) {
      void msgs.put(keyOf('convMsg', ctx.address, msg.seq), msg);
      void idc.put(keyOf('convIdClient', ctx.address, msg.from, msg.idClient), msg.seq);
    }
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
        out.push({ kind: 'call', to: userAddress(member), m: 'touch', a: touch });
      }
    }
    return out;
  },
};
