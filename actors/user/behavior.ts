/**
 * The user actor (`user:<account>`): the account's server sessions, their
 * unread counts, extensions, pins and read receipts, and the login sync plan. LMDB rows (keys from engine/keys.ts):
 * `user-sessions userSession(address, sessionId) → SessionRow`.
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { Effect } from '../../engine/actor/behavior.ts';
import { callEffect, defineActor } from '../../engine/actor/define.ts';
import type { ActorDefinition } from '../../engine/actor/define.ts';
import { decodeKey, keyOf, rangeOf } from '../../engine/keys.ts';
import { encode } from '../../engine/protocol/codec.ts';
import type { Session } from '../../engine/protocol/objects.ts';
import { sessionIdOf } from '../../engine/protocol/objects.ts';
import { userCalls } from './calls.ts';
import type { ReceiptArgs } from './calls.ts';
import { userAddress } from '../../engine/subjects.ts';
import {
  USER_EVENT_APPLY,
  decideAddTop,
  decideDelete,
  decideDeleteTop,
  decideExt,
  decideRead,
  decideReadAll,
  decideReads,
  decideReceipt,
  decideReceived,
  decideTouch,
  decideUpdateTop,
  idsOf,
  isVisible,
  previewSession,
  sessionView,
  sessionsPage,
  syncPlan,
  visibleRow,
  type SessionRow,
  type UserEvent,
  type UserState,
} from './logic.ts';

import { resetSuperTeamSessions } from './super-team-sessions.ts';

export type { ReceiptArgs, SyncArgs, TouchArgs } from './calls.ts';

/** The reply of a method changing one session: the session as its events leave it. */
function one(state: UserState, id: string, events: UserEvent[]): { reply: { session: Session }; events: UserEvent[] } {
  return { reply: { session: previewSession(state, id, events) }, events };
}

/** Encodes one client frame. */
function frame(ev: string, d: unknown): Uint8Array {
  return encode({ ev, d });
}

/** The session ids a batch changes, once each. */
function changedIds(events: readonly UserEvent[]): Set<string> {
  const ids = new Set<string>();
  for (const e of events) for (const id of idsOf(e)) ids.add(id);
  return ids;
}

/** Most sessions in one page of the login sync. */
export const SYNC_SESSIONS_PER_PAGE = 500;

/** The user actor's tables; `userBehavior` is what the host runs. */
export const userActor = {
  kind: 'user' as const,
  calls: userCalls,

  load(ctx) {
    const state: UserState = { account: ctx.id, sessions: new Map() };
    const rows = ctx.store.db('user-sessions');
    for (const { key, value } of rows.getRange(rangeOf('userSession', ctx.address))) {
      const [, id] = decodeKey('userSession', key);
      state.sessions.set(id, value as SessionRow);
    }
    const snap = ctx.store.snapshot<{ logSeq: number }>(ctx.address);
    return { state, logSeq: snap?.logSeq ?? 0 };
  },

  methods: {
    getServerSessions: (state, a, _caller, ctx) => ({ reply: sessionsPage(state, a, ctx.now()) }),
    getServerSession: (state, a) => ({ reply: { session: sessionView(visibleRow(state, sessionIdOf(a.scene, a.to))) } }),
    resetSessionUnread(state, a, _caller, ctx) {
      const event = decideRead(state, a.sessionId, ctx.now());
      const row = state.sessions.get(a.sessionId)!;
      return { reply: { session: { ...sessionView(row), unread: 0 } }, events: [event] };
    },
    resetSessionsUnread(state, a, _caller, ctx) {
      const { rows, events } = decideReads(state, a.sessionIds, ctx.now());
      return { reply: { sessionList: rows.map((row) => ({ ...sessionView(row), unread: 0 })) }, events };
    },
    resetAllSessionUnread(state, _a, _caller, ctx) {
      const events = decideReadAll(state, ctx.now());
      return { reply: { count: events.reduce((n, e) => n + idsOf(e).length, 0) }, events };
    },
    updateServerSession(state, a, _caller, ctx) {
      const id = sessionIdOf(a.scene, a.to);
      return one(state, id, decideExt(state, id, a.ext, ctx.now()));
    },
    deleteServerSessions(state, a, _caller, ctx) {
      const { ids, events } = decideDelete(state, a.sessions, ctx.now());
      return { reply: { sessionIds: ids }, events };
    },
    addStickTopSession: (state, a, _caller, ctx) => one(state, a.id, decideAddTop(state, a.id, a.topCustom, ctx.now())),
    updateStickTopSession: (state, a, _caller, ctx) => one(state, a.id, decideUpdateTop(state, a.id, a.topCustom, ctx.now())),
    deleteStickTopSession: (state, a, _caller, ctx) => one(state, a.id, decideDeleteTop(state, a.id, ctx.now())),
    getStickTopSessions(state) {
      const pinned = [...state.sessions.values()].filter((r) => r.isTop === true && isVisible(r)).sort((a, b) => b.updateTime - a.updateTime);
      return { reply: { sessionList: pinned.map((r) => sessionView(r, false)) } };
    },
    resetSuperTeamSessionsUnread: (state, a, _caller, ctx) => resetSuperTeamSessions(state, a.sessionIds, ctx.now()),
    sendMsgReceipt(state, a, _caller, ctx) {
      const { id, events } = decideReceipt(state, a.msg, ctx.now());
      return one(state, id, events);
    },
  },

  callHandlers: {
    touch(state, a) {
      const touch = { id: a.sessionId, scene: a.scene, to: a.to, address: a.address, seq: a.seq, own: a.own, msg: a.msg };
      const event = decideTouch(state, a.corrected === true ? { ...touch, corrected: true } : touch);
      return event === undefined ? { reply: true } : { reply: true, events: [event] };
    },
    receipt: (state, a, _caller, ctx) => ({ reply: true, events: decideReceived(state, a, ctx.now()) }),
    sync(state, a, _caller, ctx) {
      const bounds = { after: a.after, maxBytes: pageBudget(ctx, a.maxBytes), maxSessions: SYNC_SESSIONS_PER_PAGE };
      return { reply: syncPlan(state, a.cursors, a.limit, bounds) };
    },
  },

  events: {
    touch: { apply: USER_EVENT_APPLY.touch },
    read: { apply: USER_EVENT_APPLY.read },
    readAll: { apply: USER_EVENT_APPLY.readAll },
    ext: { apply: USER_EVENT_APPLY.ext },
    top: { apply: USER_EVENT_APPLY.top },
    untop: { apply: USER_EVENT_APPLY.untop },
    delete: { apply: USER_EVENT_APPLY.delete },
    receiptSent: { apply: USER_EVENT_APPLY.receiptSent },
    receipt: { apply: USER_EVENT_APPLY.receipt },
  },

  // Every event changes session rows: each changed row is written once per batch.
  persistBatch(state, events, logSeq, ctx) {
    const rows = ctx.store.db('user-sessions');
    for (const id of changedIds(events)) {
      const row = state.sessions.get(id);
      if (row !== undefined) void rows.put(keyOf('userSession', ctx.address, id), row);
    }
    ctx.store.putSnapshot(ctx.address, { logSeq });
  },

  // Visible sessions that changed go out as `updatesessions`, removed ones as `sessionsdeleted`; receipts we sent go to the peer.
  effects(state, events, ctx) {
    const out: Effect[] = [];
    const deleted = new Set<string>();
    for (const e of events) {
      if (e.t === 'delete') for (const id of e.ids) deleted.add(id);
      else if (e.t === 'receiptSent') {
        const row = state.sessions.get(e.id);
        if (row === undefined) continue;
        const a: ReceiptArgs = { sessionId: sessionIdOf('p2p', state.account), to: state.account, address: row.address, time: e.msgTime };
        out.push(callEffect(userCalls, 'receipt', userAddress(row.to), a));
      }
    }
    // A batch may change many sessions: one frame per Bus message's worth.
    const budget = pageBudget(ctx);
    let list: Session[] = [];
    let bytes = 0;
    const removed: string[] = [];
    for (const id of changedIds(events)) {
      const row = state.sessions.get(id);
      if (row === undefined) continue;
      if (!isVisible(row)) {
        if (deleted.has(id)) removed.push(id);
        continue;
      }
      const session = sessionView(row);
      const size = encode(session).byteLength;
      if (list.length > 0 && bytes + size > budget) {
        out.push({ kind: 'deliver', account: state.account, frame: frame('updatesessions', list) });
        list = [];
        bytes = 0;
      }
      list.push(session);
      bytes += size;
    }
    if (list.length > 0) out.push({ kind: 'deliver', account: state.account, frame: frame('updatesessions', list) });
    // Ids are at most MAX_ID_CHARS: a deletion names at most MAX_SESSIONS_PER_RESET of them, well within one frame.
    if (removed.length > 0) out.push({ kind: 'deliver', account: state.account, frame: frame('sessionsdeleted', removed) });
    return out;
  },
} satisfies ActorDefinition<'user', UserState, UserEvent, typeof userCalls>;

export const userBehavior = defineActor(userActor);
