/**
 * System notifications: acknowledging them (`markSysMsgRead`, answered by
 * the account's user actor, which keeps them) and application-defined ones
 * (`sendCustomSysMsg`, answered by the edge: to online devices directly, or
 * through the recipient's store when offline recipients should get it too).
 * Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_ENV_CHARS, MAX_EXT_CHARS, MAX_NOTE_CHARS, SCENES } from '../objects.ts';
import type { CustomSysMsg, SysMsgUnread } from '../objects.ts';
import { actorMethod, edgeMethod, returns } from '../registry.ts';
import { id, toSelf } from './common.ts';

/** Longest `content` of a custom system notification, in characters. */
export const MAX_CUSTOM_SYSMSG_CHARS = 4096;

/** Most notifications one `markSysMsgRead` names. */
export const MAX_SYSMSGS_PER_MARK = 100;

export const sysMsgMethods = {
  markSysMsgRead: actorMethod({
    doc: 'Acknowledges system notifications by `idServer` (`sysMsgs`: the notifications, or their idServers): they are not sent again at login, and every device of the account gets `updatesysmsgunread`. Unknown ones are skipped; answers the idServers acknowledged and the unread counts left.',
    owner: 'user',
    address: toSelf,
    positional: 'sysMsgs',
    args: s.object({
      sysMsgs: s.array(s.object({ idServer: s.string({ min: 1, max: 64 }) }), { min: 1, max: MAX_SYSMSGS_PER_MARK }),
    }),
    result: returns<{ idServers: string[]; unread: SysMsgUnread }>(),
    retry: 'idempotent',
    errors: [],
  }),
  sendCustomSysMsg: edgeMethod({
    doc: 'Sends an application-defined notification (`content`) to account `to` (`scene` p2p), or to every other member of team or supergroup `to` (the sender must be a member): never stored in history, sessions or unread counts. With `sendToOnlineUsersOnly` (default true) only online devices get it (`customsysmsg`); with false it is also kept and reaches the devices that were offline at their next login (`offlinecustomsysmsgs`).',
    args: s.object({
      scene: s.literal(SCENES),
      to: id(),
      content: s.string({ min: 1, max: MAX_CUSTOM_SYSMSG_CHARS }),
      sendToOnlineUsersOnly: s.optional(s.boolean(), true),
      isPushable: s.optional(s.boolean(), true),
      needPushNick: s.optional(s.boolean(), false),
      apnsText: s.optional(s.string({ max: MAX_NOTE_CHARS })),
      pushPayload: s.optional(s.string({ max: MAX_EXT_CHARS })),
      cc: s.optional(s.boolean(), true),
      env: s.optional(s.string({ max: MAX_ENV_CHARS })),
    }),
    result: returns<CustomSysMsg>(),
    retry: 'never',
    errors: ['BLOCKED', 'NOT_FOUND', 'NOT_MEMBER'],
  }),
};
