/**
 * The user actor (`user:<account>`): the account's server sessions, their
 * unread counts, extensions, pins and read receipts, and the login sync plan;
 * its system notification store (sysmsgs.ts), the journal of its
 * deletes-for-self (self-deletes.ts), of its conversations' pin, quick comment
 * and clear changes (conv-changes.ts) and its collections (collections.ts).
 * LMDB rows (keys from engine/keys.ts):
 * `user-sessions userSession(address, sessionId) → SessionRow`; the other
 * parts name theirs.
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { Effect } from '../../engine/actor/behavior.ts';
import { callEffect, defineActor } from '../../engine/actor/define.ts';
import type { ActorDefinition } from '../../engine/actor/define.ts';
import { decodeKey, keyOf, rangeOf } from '../../engine/keys.ts';
import { encodedValue } from '../../engine/store.ts';
import type { Binary } from 'lmdb';
import { decode, encode, encodeArrayOfRaw, encodeMapOfRaw, encodeWithRawMember, encodingOf, rememberEncoding, withRawMember } from '../../engine/protocol/codec.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Message, Session } from '../../engine/protocol/objects.ts';
import { sessionIdOf } from '../../engine/protocol/objects.ts';
import { userCalls } from './calls.ts';
import type { ReceiptArgs, TouchArgs } from './calls.ts';
import { userAddress } from '../../engine/subjects.ts';
import { isPeopleEvent, loadPeople, peopleCallHandlers, peopleEffects, peopleEvents, peopleMethodHandlers } from './people.ts';
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
  decideRecalled,
  decideTouch,
  decideUpdateTop,
  applyRecalled,
  applyTouch,
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
import { pushPrefsOf } from './push-prefs.ts';
import {
  applyPost as applySysMsgPost,
  applyRead as applySysMsgRead,
  decideMarkRead,
  decidePost,
  loadSysMsgs,
  persistSysMsgEvent,
  persistSysMsgMeta,
  sysMsgEffects,
  sysMsgSyncPage,
  unreadOf as sysMsgUnreadOf,
  type SysMsgEvent,
  type WithSysMsgs,
} from './sysmsgs.ts';
import { accountSyncPage, pinnedSessions } from './account-sync.ts';
import { decideSelfDeleted, persistSelfDeleted, selfDeleteSyncPage, type SelfDeleteEvent } from './self-deletes.ts';
import { convChangeSyncPage, decideConvChanged, persistConvChanged, type ConvChangeEvent } from './conv-changes.ts';
import {
  applyCollectEvent,
  collectsPage,
  decideAdd as decideAddCollect,
  decideDelete as decideDeleteCollects,
  decideUpdate as decideUpdateCollect,
  loadCollects,
  persistCollectEvent,
  persistCollectMeta,
  type CollectEvent,
  type WithCollects,
} from './collections.ts';

export type { PostSysMsgArgs, ReceiptArgs, SyncArgs, TouchArgs } from './calls.ts';
export { postSysMsg } from './sysmsgs.ts';

/** The user actor's state: the sessions (logic.ts) and the other parts'. */
export type UserActorState = UserState & WithSysMsgs & WithCollects;
/** Every event of the user actor. */
export type UserActorEvent = UserEvent | SysMsgEvent | SelfDeleteEvent | ConvChangeEvent | CollectEvent;

/** Events that change session rows. */
function isSessionEvent(e: UserActorEvent): e is UserEvent {
  return Object.hasOwn(USER_EVENT_APPLY, e.t);
}

/** The reply of a method changing one session: the session as its events leave it. */
function one(state: UserState, id: string, events: UserEvent[]): { reply: { session: Session }; events: UserEvent[] } {
  return { reply: { session: previewSession(state, id, events) }, events };
}

/** Encodes one client frame. */
function frame(ev: string, d: unknown): Uint8Array {
  return encode({ ev, d });
}

const UPDATE_SESSIONS = encode('updatesessions');

/** The `updatesessions` frame of sessions already encoded one by one (the bytes `frame` would make, without encoding them again). */
function sessionsFrame(sessions: readonly Uint8Array[]): Uint8Array {
  return encodeMapOfRaw([['ev', UPDATE_SESSIONS], ['d', encodeArrayOfRaw(sessions)]]);
}

/** The message a touch carries, decoded once from its bytes when it came as `view` (which it then remembers as its encoding). */
function touchedMsg(a: TouchArgs): Message {
  if (a.view === undefined) {
    if (a.msg === undefined) throw new ParleyError('BAD_REQUEST', 'a touch needs `msg` or `view`');
    return a.msg;
  }
  const msg = decode(a.view);
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new ParleyError('BAD_REQUEST', 'a touch\'s `view` must encode a message');
  // Kept with the session row for as long as the actor is in memory: copied out of the request's bytes, which it would hold.
  return rememberEncoding(msg as Message, new Uint8Array(a.view));
}

/**
 * The event of one touch, or undefined when it changes nothing. `quiet`
 * makes the touch absolute (a conversation's touches may then replace one
 * another unsent): kept when given. The message's bytes as they came go into
 * the Log entry, spliced after the event's other members.
 */
function touchEvent(state: UserState, a: TouchArgs, now: number): Extract<UserEvent, { t: 'touch' }> | undefined {
  const msg = touchedMsg(a);
  const touch: Parameters<typeof decideTouch>[1] = { id: a.sessionId, scene: a.scene, to: a.to, address: a.address, seq: a.seq, own: a.own, msg };
  if (a.quiet !== undefined) touch.quiet = a.quiet;
  if (a.corrected === true) {
    touch.corrected = true;
    touch.time = now;
  }
  const event = decideTouch(state, touch);
  if (event === undefined || event.t !== 'touch') return undefined;
  const bytes = encodingOf(msg);
  return bytes === undefined ? event : rememberEncoding(event, encodeWithRawMember(event, 'msg', bytes));
}

/** What `encode(sessionView(row))` makes; the last message's bytes, when known, are spliced in rather than encoded again. */
function sessionBytes(row: SessionRow): Uint8Array {
  const last = row.lastMsg === undefined ? undefined : encodingOf(row.lastMsg);
  return last === undefined ? encode(sessionView(row)) : withRawMember(encode(sessionView(row, false)), 'lastMsg', last);
}

/** A session row as stored: with its last message's bytes spliced in when known, so the message is not encoded again. */
function rowValue(row: SessionRow): SessionRow | Binary {
  const last = row.lastMsg === undefined ? undefined : encodingOf(row.lastMsg);
  if (last === undefined) return row;
  return encodedValue(encodeWithRawMember(row, 'lastMsg', last));
}

/** The session ids a batch changes, once each. */
function changedIds(events: readonly UserActorEvent[]): Set<string> {
  const ids = new Set<string>();
  for (const e of events) if (isSessionEvent(e)) for (const id of idsOf(e)) ids.add(id);
  return ids;
}

/** Most sessions in one page of the login sync. */
export const SYNC_SESSIONS_PER_PAGE = 500;

/** The user actor's tables; `userBehavior` is what the host runs. */
export const userActor = {
  kind: 'user' as const,
  calls: userCalls,

  load(ctx) {
    const state: UserActorState = { account: ctx.id, sessions: new Map(), sysmsgs: loadSysMsgs(ctx), collects: loadCollects(ctx), people: loadPeople(ctx) };
    const rows = ctx.store.db('user-sessions');
    for (const { key, value } of rows.getRange(rangeOf('userSession', ctx.address))) {
      const [, id] = decodeKey('userSession', key);
      state.sessions.set(id, value as SessionRow);
    }
    const snap = ctx.store.snapshot<{ logSeq: number }>(ctx.address);
    return { state, logSeq: snap?.logSeq ?? 0 };
  },

  methods: {
    ...peopleMethodHandlers,
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
    updateServerSession(state, a, caller, ctx) {
      const id = sessionIdOf(a.scene, a.to);
      return one(state, id, decideExt(state, id, a.ext, ctx.now(), caller?.conn));
    },
    deleteServerSessions(state, a, _caller, ctx) {
      const { ids, events } = decideDelete(state, a.sessions, ctx.now());
      return { reply: { sessionIds: ids }, events };
    },
    addStickTopSession: (state, a, _caller, ctx) => one(state, a.id, decideAddTop(state, a.id, a.topCustom, ctx.now())),
    updateStickTopSession: (state, a, _caller, ctx) => one(state, a.id, decideUpdateTop(state, a.id, a.topCustom, ctx.now())),
    deleteStickTopSession: (state, a, _caller, ctx) => one(state, a.id, decideDeleteTop(state, a.id, ctx.now())),
    getStickTopSessions: (state) => ({ reply: { sessionList: pinnedSessions(state) } }),
    resetSuperTeamSessionsUnread: (state, a, _caller, ctx) => resetSuperTeamSessions(state, a.sessionIds, ctx.now()),
    sendMsgReceipt(state, a, _caller, ctx) {
      const { id, events } = decideReceipt(state, a.msg, ctx.now());
      return one(state, id, events);
    },
    markSysMsgRead(state, a, _caller, ctx) {
      const { idServers, events } = decideMarkRead(state, a.sysMsgs.map((m) => m.idServer), ctx.now());
      const gone = new Set(idServers);
      const left: WithSysMsgs = { account: state.account, sysmsgs: { ...state.sysmsgs, entries: state.sysmsgs.entries.filter((e) => !gone.has(e.idServer)) } };
      return { reply: { idServers, unread: sysMsgUnreadOf(left) }, events };
    },
    addCollect(state, a, _caller, ctx) {
      const { collect, events } = decideAddCollect(state, a, ctx.now(), ctx);
      return { reply: { collect }, events };
    },
    updateCollect(_state, a, _caller, ctx) {
      const { collect, events } = decideUpdateCollect(a, ctx.now(), ctx);
      return { reply: { collect }, events };
    },
    deleteCollects(_state, a, _caller, ctx) {
      const { deleteCount, events } = decideDeleteCollects(a, ctx);
      return { reply: { deleteCount }, events };
    },
    getCollects: (state, a, _caller, ctx) => ({ reply: collectsPage(state, a, ctx.now(), ctx) }),
  },

  callHandlers: {
    ...peopleCallHandlers,
    pushPrefs: (state, a) => ({ reply: pushPrefsOf(state, a) }),
    touch(state, a, _caller, ctx) {
      const event = touchEvent(state, a, ctx.now());
      if (a.recalled === undefined || a.recalled.length === 0) return event === undefined ? { reply: true } : { reply: true, events: [event] };
      // The recalls are decided against the row as the touch leaves it, each once.
      const events: UserEvent[] = event === undefined ? [] : [event];
      const row = state.sessions.get(a.sessionId);
      const scratch: UserState = { account: state.account, sessions: row === undefined ? new Map() : new Map([[a.sessionId, { ...row }]]) };
      if (event !== undefined) applyTouch(scratch, event);
      for (const seq of a.recalled) {
        for (const e of decideRecalled(scratch, { sessionId: a.sessionId, seq, from: '', counted: true }, ctx.now())) {
          applyRecalled(scratch, e as Extract<UserEvent, { t: 'recalled' }>);
          events.push(e);
        }
      }
      return events.length === 0 ? { reply: true } : { reply: true, events };
    },
    touches(state, a, _caller, ctx) {
      if (!Array.isArray(a.touches) || a.touches.length === 0) throw new ParleyError('BAD_REQUEST', '`touches` must be a non-empty list of touches');
      const now = ctx.now();
      const events: UserEvent[] = [];
      // Each touch is decided against the rows as the ones before it leave them: rows touched here are
      // copied into a scratch state the events are applied to (the host applies them to the state after).
      const scratch: UserState = { account: state.account, sessions: new Map() };
      for (let i = 0; i < a.touches.length; i++) {
        const t = a.touches[i];
        if (typeof t !== 'object' || t === null || typeof t.sessionId !== 'string') throw new ParleyError('BAD_REQUEST', `\`touches[${i}]\` must be a touch naming its \`sessionId\``);
        if (!scratch.sessions.has(t.sessionId)) {
          const row = state.sessions.get(t.sessionId);
          if (row !== undefined) scratch.sessions.set(t.sessionId, { ...row });
        }
        const event = touchEvent(scratch, t, now);
        if (event === undefined) continue;
        applyTouch(scratch, event);
        events.push(event);
      }
      return events.length === 0 ? { reply: true } : { reply: true, events };
    },
    receipt: (state, a, _caller, ctx) => ({ reply: true, events: decideReceived(state, a, ctx.now()) }),
    recalled: (state, a, _caller, ctx) => ({ reply: true, events: decideRecalled(state, a, ctx.now()) }),
    sync(state, a, _caller, ctx) {
      const bounds = { after: a.after, maxBytes: pageBudget(ctx, a.maxBytes), maxSessions: SYNC_SESSIONS_PER_PAGE };
      return { reply: syncPlan(state, a.cursors, a.superTeamLimit === undefined ? a.limit : { all: a.limit, superTeam: a.superTeamLimit }, bounds) };
    },
    postSysMsg(state, a, _caller, ctx) {
      const { msg, events } = decidePost(state, a, ctx.now(), ctx);
      return { reply: msg, events };
    },
    syncAccount: (state, a, _caller, ctx) => ({ reply: accountSyncPage(state, a, ctx) }),
    syncSysMsgs: (state, a, _caller, ctx) => ({ reply: sysMsgSyncPage(state, a, ctx) }),
    selfDeleted: (_state, a, _caller, ctx) => ({ reply: true, events: decideSelfDeleted(a.deleted, ctx.now()) }),
    syncSelfDeletes: (_state, a, _caller, ctx) => ({ reply: selfDeleteSyncPage(a, ctx) }),
    convChanged: (_state, a, _caller, ctx) => ({ reply: true, events: decideConvChanged(a.changes, ctx.now()) }),
    syncConvChanges: (_state, a, _caller, ctx) => ({ reply: convChangeSyncPage(a, ctx) }),
  },

  events: {
    ...peopleEvents,
    touch: { apply: USER_EVENT_APPLY.touch },
    read: { apply: USER_EVENT_APPLY.read },
    readAll: { apply: USER_EVENT_APPLY.readAll },
    ext: { apply: USER_EVENT_APPLY.ext },
    top: { apply: USER_EVENT_APPLY.top },
    untop: { apply: USER_EVENT_APPLY.untop },
    delete: { apply: USER_EVENT_APPLY.delete },
    receiptSent: { apply: USER_EVENT_APPLY.receiptSent },
    receipt: { apply: USER_EVENT_APPLY.receipt },
    recalled: { apply: USER_EVENT_APPLY.recalled },
    sysmsgPost: { apply: applySysMsgPost, persist: (_state, e, ctx) => persistSysMsgEvent(e, ctx) },
    sysmsgRead: { apply: applySysMsgRead, persist: (_state, e, ctx) => persistSysMsgEvent(e, ctx) },
    selfDeleted: { apply: () => {}, persist: (_state, e, ctx) => persistSelfDeleted(e, ctx) },
    convChanged: { apply: () => {}, persist: (_state, e, ctx) => persistConvChanged(e, ctx) },
    collectPut: { apply: applyCollectEvent, persist: (_state, e, ctx) => persistCollectEvent(e, ctx) },
    collectsDelete: { apply: applyCollectEvent, persist: (_state, e, ctx) => persistCollectEvent(e, ctx) },
  },

  // Every event changes session rows: each changed row is written once per batch.
  persistBatch(state, events, logSeq, ctx) {
    const rows = ctx.store.db('user-sessions');
    for (const id of changedIds(events)) {
      const row = state.sessions.get(id);
      if (row !== undefined) void rows.put(keyOf('userSession', ctx.address, id), rowValue(row));
    }
    if (events.some((e) => e.t === 'sysmsgPost' || e.t === 'sysmsgRead')) persistSysMsgMeta(state, ctx);
    if (events.some((e) => e.t === 'collectPut' || e.t === 'collectsDelete')) persistCollectMeta(state, ctx);
    ctx.store.putSnapshot(ctx.address, { logSeq });
  },

  // Visible sessions that changed go out as `updatesessions`, removed ones as `sessionsdeleted`; receipts we sent go to the peer.
  effects(state, events, ctx) {
    const out: Effect[] = [...sysMsgEffects(state, events.filter((e): e is SysMsgEvent => e.t === 'sysmsgPost' || e.t === 'sysmsgRead')), ...peopleEffects(state, events)];
    const deleted = new Set<string>();
    for (const e of events) {
      if (!isSessionEvent(e)) continue;
      if (e.t === 'delete') for (const id of e.ids) deleted.add(id);
      else if (e.t === 'ext') {
        // The other devices are told by name too, as the reference SDK's `onSyncUpdateServerSession`.
        const row = state.sessions.get(e.id);
        if (row !== undefined && isVisible(row)) {
          const f = frame('SyncUpdateServerSession', sessionView(row));
          out.push(e.conn === undefined ? { kind: 'deliver', account: state.account, frame: f } : { kind: 'deliver', account: state.account, frame: f, exclude: e.conn });
        }
      }
      else if (e.t === 'receiptSent') {
        const row = state.sessions.get(e.id);
        if (row === undefined) continue;
        const a: ReceiptArgs = { sessionId: sessionIdOf('p2p', state.account), to: state.account, address: row.address, time: e.msgTime };
        out.push(callEffect(userCalls, 'receipt', userAddress(row.to), a));
      }
    }
    // A batch may change many sessions: one frame per Bus message's worth. Each session is encoded
    // once, its bytes both measure it and go into the frame.
    const budget = pageBudget(ctx);
    let list: Uint8Array[] = [];
    let bytes = 0;
    const removed: string[] = [];
    for (const id of changedIds(events)) {
      const row = state.sessions.get(id);
      if (row === undefined) continue;
      if (!isVisible(row)) {
        if (deleted.has(id)) removed.push(id);
        continue;
      }
      const session = sessionBytes(row);
      const size = session.byteLength;
      if (list.length > 0 && bytes + size > budget) {
        out.push({ kind: 'deliver', account: state.account, frame: sessionsFrame(list) });
        list = [];
        bytes = 0;
      }
      list.push(session);
      bytes += size;
    }
    if (list.length > 0) out.push({ kind: 'deliver', account: state.account, frame: sessionsFrame(list) });
    // Ids are at most MAX_ID_CHARS: a deletion names at most MAX_SESSIONS_PER_RESET of them, well within one frame.
    if (removed.length > 0) out.push({ kind: 'deliver', account: state.account, frame: frame('sessionsdeleted', removed) });
    return out;
  },
} satisfies ActorDefinition<'user', UserActorState, UserActorEvent, typeof userCalls>;

export const userBehavior = defineActor(userActor);
