/**
 * Every event the edge sends to clients (`{ev, d}`), declared once with its
 * payload type and a line of documentation: the SDK's event names and
 * listener types and the README's event table are derived from here.
 * Browser-safe.
 */
import type { CustomSysMsg, DeletedMsgSelf, LoginPort, Message, Scene, Session, SysMsg, SysMsgUnread } from './objects.ts';
import type { Friend, FriendAction, RelationChange, RelationRecord, UserProfile } from './objects.ts';
import { event } from './registry.ts';
import type { PinMsgChange } from './methods/pins.ts';
import type { QuickCommentChange } from './methods/quick-comments.ts';
import type { ClearedHistory } from './methods/threads.ts';
import type { PayloadOf } from './registry.ts';
import type { ChannelInfo, SignalingMultiClientSync, SignalingNotify } from './methods/signaling.ts';
import { teamEvents } from './team-events.ts';
import type { PushEvent } from './methods/events.ts';

/** Why the server closes a socket; `from` and `custom` come with a kick. */
export interface Kicked {
  reason: string;
  message?: string;
  /** The kicking device's id, or `admin`. */
  from?: string;
  /** What the admin kick passed along. */
  custom?: string;
}

/** A message the host's backend broadcast to every online device (admin `broadcastMsg`); never stored. */
export interface BroadcastMsg {
  id: string;
  /** `admin`. */
  from: string;
  body: string;
  custom?: string;
  time: number;
}

export const events = {
  msg: event<Message>('A message of one of the account\'s conversations, sent by somebody else or by another device of the account.'),
  offlinemsgs: event<{ sessionId: string; scene: Scene; to: string; msgs: Message[] }>('Login sync: messages of one session the device missed, in `seq` order (possibly several pages).'),
  roamingmsgs: event<{ sessionId: string; scene: Scene; to: string; msgs: Message[] }>('Messages of one session the account\'s other devices already had, for a device that has none of them (shaped as `offlinemsgs`).'),
  sessions: event<Session[]>('Login sync: the sessions changed since the device\'s cursor (possibly several pages).'),
  updatesessions: event<Session[]>('Sessions that changed: a new last message, an unread count, an `ext`, a pin, a read receipt (`msgReceiptTime`).'),
  SyncUpdateServerSession: event<Session>('Another device of the account set a session\'s `ext` (`updateServerSession`): the session as it is now (it also comes in `updatesessions`).'),
  sessionsdeleted: event<string[]>('Ids of sessions another device of the account (or this one) removed with `deleteServerSessions`; a later message brings a session back.'),
  syncdone: event<{ serverTime: number }>('Login sync: everything the device missed has been sent.'),
  sysmsg: event<SysMsg>('A system notification, kept in the account\'s store until `markSysMsgRead` (friend and team requests; of type `deleteMsg`: a message of one of the account\'s conversations was recalled, to the peer and the recaller\'s other devices).'),
  offlinesysmsgs: event<SysMsg[]>("Login sync: the system notifications not acknowledged yet (`markSysMsgRead`), oldest first (possibly several pages); then, per supergroup, the recall notices (`deleteMsg`) made while the account was a member and after the device's `sysmsgs` cursor, oldest first (of the group's newest 256 recalls)."),
  customsysmsg: event<CustomSysMsg>('An application-defined notification (`sendCustomSysMsg`).'),
  offlinecustomsysmsgs: event<CustomSysMsg[]>('Login sync: stored custom notifications newer than the device\'s `sysmsgs` cursor, oldest first (possibly several pages).'),
  sysmsgunread: event<SysMsgUnread>('Login sync: unacknowledged system notifications per type, and `total`.'),
  updatesysmsgunread: event<SysMsgUnread>('The unread system notification counts changed (a new notification, or `markSysMsgRead` on any device).'),
  StickTopSessions: event<Session[]>('Login sync: the account\'s pinned sessions (without `lastMsg`), newest first.'),
  DeleteMsgSelf: event<DeletedMsgSelf[]>('Messages another device of the account deleted for self: hide them here too.'),
  PinMsgChange: event<PinMsgChange>('A message of one of the account\'s conversations was pinned, its pin changed or it was unpinned (`type`), by the other participant or another device of the account; also at login, for the changes since the device\'s `sessions` cursor.'),
  QuickComment: event<QuickCommentChange>('A reaction was put on a message of one of the account\'s conversations, by the other participant or another device of the account; also at login, for the changes since the device\'s `sessions` cursor.'),
  DeleteQuickComment: event<QuickCommentChange>('A reaction was removed from a message of one of the account\'s conversations; also at login, for the changes since the device\'s `sessions` cursor.'),
  ClearServerHistoryMsgs: event<ClearedHistory[]>('Another device of the account cleared a session\'s history (with `isSyncSelf`): drop its messages up to `time` here too; also at login, for the clears since the device\'s `sessions` cursor.'),
  loginportschange: event<LoginPort[]>('Another device of the account logged in or out.'),
  myinfo: event<UserProfile>("Login sync: the account's own profile."),
  updatemyinfo: event<UserProfile>("Another device of the account changed its profile (`updateMyInfo`): the profile as it is now."),
  blacklist: event<RelationRecord[]>("Login sync: the account's whole blocklist."),
  mutelist: event<RelationRecord[]>("Login sync: the account's whole mutelist."),
  syncmarkinblacklist: event<RelationChange & { account: string }>('Another device of the account blocked (`isAdd`) or unblocked `account`.'),
  syncmarkinmutelist: event<RelationChange & { account: string }>('Another device of the account muted (`isAdd`) or un-muted `account`.'),
  friends: event<Friend[]>("Login sync: friends changed since the device's `cursors.friends`, ascending by `updateTime` (possibly several pages; ended friendships as `valid: false`)."),
  syncfriendaction: event<FriendAction>('Another device of the account added, asked, answered, deleted or updated a friend.'),
  broadcastmsg: event<BroadcastMsg>('A broadcast of the host\'s backend to every online device (admin `broadcastMsg`); devices offline at the time never get it.'),
  signalingNotify: event<SignalingNotify>('A signal of a channel: `eventType` ROOM_CLOSE, ROOM_JOIN, INVITE, CANCEL_INVITE, REJECT, ACCEPT, LEAVE or CONTROL, from `from`, with the operation\'s `attachExt`.'),
  signalingMutilClientSyncNotify: event<SignalingMultiClientSync>('Another device of the account answered an invitation (`eventType` ACCEPT or REJECT): this one need not.'),
  signalingChannelsSyncNotify: event<ChannelInfo[]>('Login sync: the open channels the account is in, with their members.'),
  signalingUnreadMessageSyncNotify: event<SignalingNotify[]>('Login sync: signals sent with `offlineEnabled` and not yet acknowledged with `signalingMarkMsgRead` (possibly several pages).'),
  pushevents: event<{ msgEvents: PushEvent[] }>('Events of accounts this one subscribed to (`subscribeEvent`): custom ones and the online status (1 online, 2 logged out, 3 disconnected, with `clientType`); live, and at login those published with `broadcastType` 2 that are still valid, before `syncdone`.'),
  kicked: event<Kicked>('The server is closing this socket, and why: for a kick, `reason` is `kickedByOtherDevice` or `kickedByAdmin` and `from` the kicking device\'s id (or `admin`); `samePlatformKick` when a newer login displaced this device under `PARLEY_DEVICE_LIMITS` (`from` the new device); `tokenExpired` when the login token expired (with `PARLEY_KICK_ON_TOKEN_EXPIRY`); `logout` after this device\'s own `logout`.'),
  ...teamEvents,
};

export type EventName = keyof typeof events;
/** The payload `d` of each event. */
export type Events = { [E in EventName]: PayloadOf<(typeof events)[E]> };
