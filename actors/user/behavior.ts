/**
 * The user actor (`user:<account>`): the account's server sessions, their
 * unread counts and the login sync plan. LMDB rows (keys from engine/keys.ts):
 * `user-sessions userSession(address, sessionId) → SessionRow`.
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { Effect } from '../../engine/actor/behavior.ts';
import { defineActor } from '../../engine/actor/define.ts';
import type { ActorDefinition } from '../../engine/actor/define.ts';
import { decodeKey, keyOf, rangeOf } from '../../engine/keys.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Session } from '../../engine/protocol/objects.ts';
import { sessionIdOf } from '../../engine/protocol/objects.ts';
import { userCalls } from './calls.ts';
import {
  applyRead,
  applyTouch,
  decideRead,
  decideReads,
  decideTouch,
  sessionView,
  sessionsPage,
  syncPlan,
  type SessionRow,
  type UserEvent,
  type UserState,
} from './logic.ts';

export type { SyncArgs, TouchArgs } from './calls.ts';

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
    getServerSession(state, a) {
      const row = state.sessions.get(sessionIdOf(a.scene, a.to));
      if (row === undefined) throw new ParleyError('NOT_FOUND', `no session \`${sessionIdOf(a.scene, a.to)}\``);
      return { reply: { session: sessionView(row) } };
    },
    resetSessionUnread(state, a) {
      const event = decideRead(state, a.sessionId);
      const row = state.sessions.get(a.sessionId)!;
      return { reply: { session: { ...sessionView(row), unread: 0 } }, events: [event] };
    },
    resetSessionsUnread(state, a) {
      const { rows, events } = decideReads(state, a.sessionIds);
      return { reply: { sessionList: rows.map((row) => ({ ...sessionView(row), unread: 0 })) }, events };
    },
  },

  callHandlers: {
    touch(state, a) {
      const event = decideTouch(state, { id: a.sessionId, scene: a.scene, to: a.to, address: a.address, seq: a.seq, own: a.own, msg: a.msg });
      return event === undefined ? { reply: true } : { reply: true, events: [event] };
    },
    sync(state, a, _caller, ctx) {
      const bounds = { after: a.after, maxBytes: pageBudget(ctx, a.maxBytes), maxSessions: SYNC_SESSIONS_PER_PAGE };
      return { reply: syncPlan(state, a.cursors, a.limit, bounds) };
    },
  },

  events: {
    touch: { apply: applyTouch },
    read: { apply: applyRead },
  },

  // Both events change one session row: each changed row is written once per batch.
  persistBatch(state, events, logSeq, ctx) {
    const rows = ctx.store.db('user-sessions');
    for (const id of new Set(events.map((e) => e.id))) {
      const row = state.sessions.get(id);
      if (row !== undefined) void rows.put(keyOf('userSession', ctx.address, id), row);
    }
    ctx.store.putSnapshot(ctx.address, { logSeq });
  },

  effects(state, events, ctx) {
    const changed = new Set(events.map((e) => e.id));
    const out: Effect[] = [];
    // A batch may change many sessions: one frame per Bus message's worth.
    const budget = pageBudget(ctx);
    let frame: Session[] = [];
    let bytes = 0;
    for (const id of changed) {
      const row = state.sessions.get(id);
      if (row === undefined) continue;
      const session = sessionView(row);
      const size = encode(session).byteLength;
      if (frame.length > 0 && bytes + size > budget) {
        out.push({ kind: 'deliver', account: state.account, frame: encode({ ev: 'updatesessions', d: frame }) });
        frame = [];
        bytes = 0;
      }
      frame.push(session);
      bytes += size;
    }
    if (frame.length > 0) out.push({ kind: 'deliver', account: state.account, frame: encode({ ev: 'updatesessions', d: frame }) });
    return out;
  },
} satisfies ActorDefinition<'user', UserState, UserEvent, typeof userCalls>;

export const userBehavior = defineActor(userActor);
