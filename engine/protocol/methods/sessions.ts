/**
 * Server sessions: the account's conversation list with unread counts, kept
 * by the account's user actor. Browser-safe.
 */
import * as s from '../schema.ts';
import { SCENES } from '../objects.ts';
import type { Session } from '../objects.ts';
import { actorMethod, returns } from '../registry.ts';
import { id, sessionId, time, toSelf } from './common.ts';

/** Most sessions one `resetSessionsUnread` names. */
export const MAX_SESSIONS_PER_RESET = 100;

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
};
