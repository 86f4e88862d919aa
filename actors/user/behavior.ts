/**
 * The user actor (`user:<account>`): the account's server sessions, their
 * unread counts and the login sync plan. LMDB rows (keys from engine/keys.ts):
 * `user-sessions userSession(address, sessionId) → SessionRow`.
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { ActorBehavior, Effect } from '../../engine/actor/behavior.ts';
import { decodeKey, keyOf, rangeOf } from '../../engine/keys.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Args, Session } from '../../engine/protocol/methods.ts';
import { sessionIdOf } from '../../engine/protocol/methods.ts';
import type { TouchArgs } from '../conversation/behavior.ts';
import {
  applyUserEvent,
  decideRead,
  decideTouch,
  sessionView,
  sessionsPage,
  syncPlan,
  type SessionRow,
  type SyncCursors,
  type UserEvent,
  type UserState,
} from './logic.ts';

/** Arguments of the internal `sync` method called by the edge at login, once per page. */
export interface SyncArgs {
  deviceId: string;
  cursors?: SyncCursors;
  /** Offline messages per session. */
  limit: number;
  /** Most bytes of the page, when the caller needs less than the Bus carries. */
  maxBytes?: number;
  /** The `next` of the previous page. */
  after?: string;
}

/** Most sessions in one page of the login sync. */
export const SYNC_SESSIONS_PER_PAGE = 500;

export const userBehavior: ActorBehavior<UserState, UserEvent> = {
  kind: 'user',
  reads: new Set(),

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

  handle(state, cmd, ctx) {
    switch (cmd.m) {
      case 'touch': {
        const a = cmd.a as TouchArgs;
        const event = decideTouch(state, { id: a.sessionId, scene: a.scene, to: a.to, address: a.address, seq: a.seq, own: a.own, msg: a.msg });
        return event === undefined ? { reply: true } : { reply: true, events: [event] };
      }
      case 'sync': {
        const a = cmd.a as SyncArgs;
        const bounds = { after: a.after, maxBytes: pageBudget(ctx, a.maxBytes), maxSessions: SYNC_SESSIONS_PER_PAGE };
        return { reply: syncPlan(state, a.cursors, a.limit, bounds) };
      }
      case 'getServerSessions':
        return { reply: sessionsPage(state, cmd.a as Args<'getServerSessions'>, ctx.now()) };
      case 'getServerSession': {
        const a = cmd.a as Args<'getServerSession'>;
        const row = state.sessions.get(sessionIdOf(a.scene, a.to));
        if (row === undefined) throw new ParleyError('NOT_FOUND', `no session \`${sessionIdOf(a.scene, a.to)}\``);
        return { reply: { session: sessionView(row) } };
      }
      case 'resetSessionUnread': {
        const a = cmd.a as Args<'resetSessionUnread'>;
        const event = decideRead(state, a.sessionId);
        const row = state.sessions.get(a.sessionId)!;
        return { reply: { session: { ...sessionView(row), unread: 0 } }, events: [event] };
      }
      default:
        throw new ParleyError('BAD_REQUEST', `method \`${cmd.m}\` is not supported by the user actor`);
    }
  },

  apply: (state, event) => applyUserEvent(state, event),

  persist(state, events, logSeq, ctx) {
    const rows = ctx.store.db('user-sessions');
    const changed = new Set(events.map((e) => e.id));
    for (const id of changed) {
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
};
