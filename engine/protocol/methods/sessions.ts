/**
 * Server sessions: the account's conversation list with unread counts, the
 * owner's extensions and pins, and p2p read receipts, kept by the account's
 * user actor. Every change reaches all the account's devices as
 * `updatesessions` (`sessionsdeleted` for a removal). Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_EXT_CHARS, SCENES } from '../objects.ts';
import type { Session } from '../objects.ts';
import { actorMethod, returns } from '../registry.ts';
import { id, sessionId, time, toSelf } from './common.ts';

/** Most sessions one `resetSessionsUnread` or `deleteServerSessions` names. */
export const MAX_SESSIONS_PER_RESET = 100;

/** Longest session `ext` or pin `topCustom`, in characters. */
export const MAX_SESSION_EXT_CHARS = MAX_EXT_CHARS;

const sessionExt = () => s.string({ max: MAX_SESSION_EXT_CHARS });

export const sessionMethods = {
  getServerSessions: actorMethod({
    doc: "A page of the account's sessions, newest first.",
    owner: 'user',
    address: toSelf,
    args: s.object({
      limit: s.optional(s.int({ min: 1, max: 100 }), 100),
      minTimestamp: s.optional(time(), 0),
      maxTimestamp: s.optional(time(), 0),
      needLastMsg: s.optional(s.boolean(), true),
    }),
    result: returns<{ sessionList: Session[]; hasMore: boolean }>(),
    retry: 'idempotent',
    errors: [],
  }),
  getServerSession: actorMethod({
    doc: 'One session of the account.',
    owner: 'user',
    address: toSelf,
    args: s.object({ scene: s.literal(SCENES), to: id() }),
    result: returns<{ session: Session }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  resetSessionUnread: actorMethod({
    doc: "Zeroes a session's unread count on every device of the account.",
    owner: 'user',
    address: toSelf,
    positional: 'sessionId',
    args: s.object({ sessionId: sessionId() }),
    result: returns<{ session: Session }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  resetSessionsUnread: actorMethod({
    doc: "Zeroes the unread counts of several sessions on every device of the account; ids of sessions it does not have are skipped.",
    owner: 'user',
    address: toSelf,
    positional: 'sessionIds',
    args: s.object({ sessionIds: s.array(sessionId(), { min: 1, max: MAX_SESSIONS_PER_RESET }) }),
    result: returns<{ sessionList: Session[] }>(),
    retry: 'idempotent',
    errors: [],
  }),
  resetAllSessionUnread: actorMethod({
    doc: "Zeroes every session's unread count on every device of the account; answers how many sessions had any.",
    owner: 'user',
    address: toSelf,
    args: s.object({}),
    result: returns<{ count: number }>(),
    retry: 'idempotent',
    errors: [],
  }),
  updateServerSession: actorMethod({
    doc: "Sets a session's `ext`, seen only by the account; its other devices get `updatesessions`.",
    owner: 'user',
    address: toSelf,
    args: s.object({ scene: s.literal(SCENES), to: id(), ext: sessionExt() }),
    result: returns<{ session: Session }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  deleteServerSessions: actorMethod({
    doc: "Removes sessions from the account's list (ids it does not have are skipped) and tells every device with `sessionsdeleted`; a later message brings a session back.",
    owner: 'user',
    address: toSelf,
    positional: 'sessions',
    args: s.object({ sessions: s.array(sessionId(), { min: 1, max: MAX_SESSIONS_PER_RESET }) }),
    result: returns<{ sessionIds: string[] }>(),
    retry: 'idempotent',
    errors: [],
  }),
  addStickTopSession: actorMethod({
    doc: 'Pins a session of the list, with an optional `topCustom`; the same pin again is no change, another `topCustom` is a CONFLICT.',
    owner: 'user',
    address: toSelf,
    args: s.object({ id: sessionId(), topCustom: s.optional(sessionExt()) }),
    result: returns<{ session: Session }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'CONFLICT'],
  }),
  updateStickTopSession: actorMethod({
    doc: "Changes a pinned session's `topCustom` (absent clears it).",
    owner: 'user',
    address: toSelf,
    args: s.object({ id: sessionId(), topCustom: s.optional(sessionExt()) }),
    result: returns<{ session: Session }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  deleteStickTopSession: actorMethod({
    doc: 'Unpins a session; one not pinned is no change.',
    owner: 'user',
    address: toSelf,
    positional: 'id',
    args: s.object({ id: sessionId() }),
    result: returns<{ session: Session }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  getStickTopSessions: actorMethod({
    doc: "The account's pinned sessions (without `lastMsg`), newest first.",
    owner: 'user',
    address: toSelf,
    args: s.object({}),
    result: returns<{ sessionList: Session[] }>(),
    retry: 'idempotent',
    errors: [],
  }),
  sendMsgReceipt: actorMethod({
    doc: "p2p read receipt for `msg`, the newest message read: moves the account's read pointer (never back); the sender's session gets `msgReceiptTime` on all its devices.",
    owner: 'user',
    address: toSelf,
    args: s.object({
      msg: s.object({ scene: s.literal(SCENES), from: id(), to: id(), seq: s.int({ min: 1 }), time: time(), idServer: s.optional(s.string({ max: 64 })) }),
    }),
    result: returns<{ session: Session }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'FORBIDDEN'],
  }),
};
