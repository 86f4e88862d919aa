/**
 * The login sync's first read of what the user actor keeps besides the
 * sessions, in one call (`syncAccount`): the pinned sessions, the first
 * page of deletes-for-self and of conversation changes (pins, quick
 * comments, synced clears) after the device's `sessions` cursor, the first
 * page of system notifications, and the unread counts. An account with
 * none of it costs one small reply; further pages, when there are any, come
 * from `syncSelfDeletes`, `syncConvChanges` and `syncSysMsgs`.
 */
import type { ActorContext } from '../../engine/actor/behavior.ts';
import { pageBudget } from '../../engine/actor/behavior.ts';
import { encode } from '../../engine/protocol/codec.ts';
import type { Session } from '../../engine/protocol/objects.ts';
import { isVisible, sessionView, type UserState } from './logic.ts';
import { selfDeleteSyncPage, type SelfDeleteSyncPage } from './self-deletes.ts';
import { convChangeSyncPage, type ConvChangeSyncPage } from './conv-changes.ts';
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
  changes: ConvChangeSyncPage;
  sysmsgs: SysMsgSyncPage;
}

/** The first page of each part; the deletes, the changes and the notifications share what the pins leave of the budget. */
export function accountSyncPage(state: UserState & WithSysMsgs, a: AccountSyncArgs, ctx: ActorContext): AccountSyncPage {
  const budget = pageBudget(ctx, a.maxBytes);
  const pinned = pinnedSessions(state);
  const left = Math.max(2, budget - encode(pinned).byteLength);
  const third = Math.max(1, Math.floor(left / 3));
  const since = a.sessions === undefined ? { maxBytes: third } : { since: a.sessions, maxBytes: third };
  const selfDeletes = selfDeleteSyncPage(since, ctx);
  const changes = convChangeSyncPage(since, ctx);
  const sysmsgs = sysMsgSyncPage(state, a.sysmsgs === undefined ? { maxBytes: third } : { since: a.sysmsgs, maxBytes: third }, ctx);
  return { pinned, selfDeletes, changes, sysmsgs };
}
