/**
 * The login sync's first read of what the user actor keeps besides the
 * sessions, in one call (`syncAccount`): the pinned sessions, the first
 * page of deletes-for-self after the device's `sessions` cursor, the first
 * page of system notifications, and the unread counts. An account with
 * none of it costs one small reply; further pages, when there are any, come
 * from `syncSelfDeletes` and `syncSysMsgs`.
 */
import type { ActorContext } from '../../engine/actor/behavior.ts';
import { pageBudget } from '../../engine/actor/behavior.ts';
import { encode } from '../../engine/protocol/codec.ts';
import type { Session } from '../../engine/protocol/objects.ts';
import { isVisible, sessionView, type UserState } from './logic.ts';
import { selfDeleteSyncPage, type SelfDeleteSyncPage } from './self-deletes.ts';
import { sysMsgSyncPage, type SysMsgSyncPage, type WithSysMsgs } from './sysmsgs.ts';

/** The account's pinned sessions (without `lastMsg`), newest first. */
export function pinnedSessions(state: UserState): Session[] {
  const pinned = [...state.sessions.values()].filter((r) => r.isTop === true && isVisible(r)).sort((a, b) => b.updateTime - a.updateTime);
  return pinned.map((r) => sessionView(r, false));
}

export interface AccountSyncArgs {
  /** The device's `sessions` cursor. */
  sessions?: number;
  /** The device's `sysmsgs` cursor. */
  sysmsgs?: number;
  maxBytes?: number;
}

export interface AccountSyncPage {
  pinned: Session[];
  selfDeletes: SelfDeleteSyncPage;
  sysmsgs: SysMsgSyncPage;
}

/** The first page of each part; the deletes and the notifications share what the pins leave of the budget. */
export function accountSyncPage(state: UserState & WithSysMsgs, a: AccountSyncArgs, ctx: ActorContext): AccountSyncPage {
  const budget = pageBudget(ctx, a.maxBytes);
  const pinned = pinnedSessions(state);
  const left = Math.max(2, budget - encode(pinned).byteLength);
  const half = Math.floor(left / 2);
  const selfDeletes = selfDeleteSyncPage(a.sessions === undefined ? { maxBytes: half } : { since: a.sessions, maxBytes: half }, ctx);
  const sysmsgs = sysMsgSyncPage(state, a.sysmsgs === undefined ? { maxBytes: half } : { since: a.sysmsgs, maxBytes: half }, ctx);
  return { pinned, selfDeletes, sysmsgs };
}
