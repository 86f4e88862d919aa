/**
 * The objects of the wire contract (PROTOCOL.md "Objects"), their limits and
 * enumerations, and the helpers for session ids and client message ids.
 * Browser-safe.
 */

/** Longest account, team id, channel name or device id accepted, in UTF-16 code units. */
export const MAX_ID_CHARS = 128;
/** Longest `idClient` accepted, in UTF-16 code units. */
export const MAX_ID_CLIENT_CHARS = 64;
/** Longest text body accepted, in characters (the reference limit). */
export const MAX_TEXT_CHARS = 5000;
/** Longest `custom` / `pushPayload` extension accepted, in characters. */
export const MAX_EXT_CHARS = 4096;
/** Largest `limit` of a history page. */
export const MAX_HISTORY_LIMIT = 100;
/** Longest `tip` of a tip message, in characters. */
export const MAX_TIP_CHARS = 5000;
/** Longest `content` of a custom message, in characters. */
export const MAX_CONTENT_CHARS = 10_000;
/** Longest `title` of a geo message, in characters. */
export const MAX_GEO_TITLE_CHARS = 200;
/** Longest `env` (the webhook environment a send or a recall names), in characters. */
export const MAX_ENV_CHARS = 32;
/** Longest file `url`, in characters. */
export const MAX_FILE_URL_CHARS = 2048;
/** Longest file `name`, in characters. */
export const MAX_FILE_NAME_CHARS = 256;
/** Longest file `ext` (extension without the dot), in characters. */
export const MAX_FILE_EXT_CHARS = 16;
/** Largest file `size` a file message may describe, in bytes (100 MiB). */
export const MAX_FILE_BYTES = 100 * 1024 * 1024;
/** Largest image or video `w` / `h`, in pixels. */
export const MAX_FILE_PIXELS = 100_000;
/** Longest audio or video `dur`, in ms (24 hours). */
export const MAX_FILE_DURATION_MS = 24 * 3600 * 1000;
/** Longest recall `ps` / `apnsText`, in characters. */
export const MAX_NOTE_CHARS = 500;
/** Most messages one `deleteMsgSelfBatch` or `getMsgsByIdServer` names. */
export const MAX_MSGS_PER_BATCH = 100;

export const SCENES = ['p2p', 'team', 'superTeam'] as const;
export type Scene = (typeof SCENES)[number];

export const MSG_TYPES = ['text', 'image', 'audio', 'video', 'file', 'geo', 'tip', 'custom', 'notification'] as const;
export type MsgType = (typeof MSG_TYPES)[number];

/** The message types a `sendFile` sends. */
export const FILE_TYPES = ['image', 'audio', 'video', 'file'] as const;
export type FileType = (typeof FILE_TYPES)[number];

export const DEVICE_TYPES = ['web', 'ios', 'android', 'pc', 'mac', 'server'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** The body of a geo message. */
export interface Geo {
  lng: number;
  lat: number;
  title: string;
}

/**
 * An uploaded file as a file message carries it: `w`/`h` (pixels) for images
 * and videos, `dur` (ms) for audio and video.
 */
export interface FileDescriptor {
  url: string;
  name: string;
  /** Bytes. */
  size: number;
  /** 32 hex digits. */
  md5: string;
  /** The extension without the dot (`jpg`). */
  ext: string;
  w?: number;
  h?: number;
  dur?: number;
}

/** A stored message, as returned by a send and delivered in `msg`. */
export interface Message {
  scene: Scene;
  from: string;
  to: string;
  sessionId: string;
  target: string;
  flow: 'in' | 'out';
  type: MsgType;
  text?: string;
  geo?: Geo;
  tip?: string;
  /** The body of a `custom` message. */
  content?: string;
  /** The body of an `image`, `audio`, `video` or `file` message. */
  file?: FileDescriptor;
  /** The body of a `notification` message: what changed in the group (a group's `TeamNotificationAttach`). */
  attach?: object;
  idClient: string;
  idServer: string;
  seq: number;
  time: number;
  status: 'success';
  fromDeviceId: string;
  fromClientType: DeviceType;
  custom?: string;
  subType?: number;
  needMsgReceipt: boolean;
  isHistoryable: boolean;
  isRoamingable: boolean;
  isSyncable: boolean;
  isPushable: boolean;
  isOfflinable: boolean;
  isUnreadable: boolean;
  pushContent?: string;
  pushPayload?: string;
  needPushNick?: boolean;
  env?: string;
  /** In the recipient's view only: the recipient muted the sender, so no push alert is raised for this message. */
  isMuted?: boolean;
  /** Set on a reply (a message sent with `replyMsg`). */
  threadMessageInfo?: ThreadMessageInfo;
}

/** Where a reply sits: the message it answers and its thread's root (the same message for a direct reply to the root). */
export interface ThreadMessageInfo {
  replyMsgFromAccount: string;
  replyMsgToAccount: string;
  replyMsgTime: number;
  replyMsgIdServer: string;
  replyMsgIdClient: string;
  threadMsgFromAccount: string;
  threadMsgToAccount: string;
  threadMsgTime: number;
  threadMsgIdServer: string;
  threadMsgIdClient: string;
}

/**
 * The built-in system notification types: friend requests and answers, team
 * and supergroup invitations and applications, and recalls (`deleteMsg`).
 */
export const SYSMSG_TYPES = [
  'addFriend',
  'applyFriend',
  'passFriendApply',
  'rejectFriendApply',
  'deleteFriend',
  'teamInvite',
  'rejectTeamInvite',
  'applyTeam',
  'rejectTeamApply',
  'superTeamInvite',
  'rejectSuperTeamInvite',
  'applySuperTeam',
  'rejectSuperTeamApply',
  'deleteMsg',
] as const;
export type SysMsgType = (typeof SYSMSG_TYPES)[number];

/**
 * A system notification, kept in the receiving account's store until it is
 * acknowledged (`markSysMsgRead`). `from` is who caused it, `to` the account
 * or team it concerns; `ps` a note and `attach` what the type carries (a
 * team invitation's `attach.team`). Of type `deleteMsg`: a message was
 * recalled; `from` is who recalled it, `to` the peer, `msg` the recalled
 * message's locating fields, with the recall's own `ps`, `attach`,
 * `apnsText`, `pushPayload`, `env`.
 */
export interface SysMsg {
  type: SysMsgType;
  scene: Scene;
  from: string;
  to: string;
  idServer: string;
  time: number;
  ps?: string;
  attach?: unknown;
  apnsText?: string;
  pushPayload?: string;
  env?: string;
  msg?: MsgRef & { idClient: string; type: MsgType };
}

/**
 * An application-defined system notification (`sendCustomSysMsg`): never
 * part of a conversation's history, sessions or unread counts.
 */
export interface CustomSysMsg {
  type: 'custom';
  scene: Scene;
  from: string;
  to: string;
  idServer: string;
  time: number;
  content: string;
  /** True: only devices online when it was sent got it. False: it was stored and reaches the recipient's other devices at their next login. */
  sendToOnlineUsersOnly: boolean;
  isPushable: boolean;
  needPushNick: boolean;
  cc: boolean;
  apnsText?: string;
  pushPayload?: string;
  env?: string;
  fromDeviceId?: string;
  fromClientType?: DeviceType;
}

/** Unacknowledged system notifications per type, and their `total`; notifications an account caused itself are not counted. */
export type SysMsgUnread = { total: number } & { [T in SysMsgType]: number };

/** A collection (bookmark), private to the account that saved it. */
export interface Collect {
  /** Assigned by the server, 1, 2, 3, … per account. */
  id: number;
  /** Application-defined. */
  type: number;
  data: string;
  custom?: string;
  uniqueId?: string;
  createTime: number;
  updateTime: number;
}

/** The fields that locate a stored message (the reference SDK's `reqMsgs` items). */
export interface MsgRef {
  scene: Scene;
  from: string;
  to: string;
  time: number;
  idServer: string;
}

/** A message hidden from one account's view (`deleteMsgSelf`), as that account's other devices learn it. */
export interface DeletedMsgSelf extends MsgRef {
  sessionId: string;
  idClient: string;
  /** When it was hidden. */
  deletedTime: number;
  custom?: string;
}

/** A server session from one account's viewpoint. */
export interface Session {
  id: string;
  scene: Scene;
  to: string;
  lastMsg?: Message;
  unread: number;
  updateTime: number;
  msgReceiptTime?: number;
  isTop: boolean;
  ext?: string;
  /** The pin's extension, set with `addStickTopSession` / `updateStickTopSession`; only while `isTop`. */
  topCustom?: string;
}

/** A device of the account that logged in (`online: true`) or out. */
export interface LoginPort {
  account: string;
  deviceId: string;
  type: DeviceType;
  /** The socket, `<edge node>/<n>`. */
  connectionId: string;
  time: number;
  online: boolean;
}

/** A fresh client message id: 32 hex characters from the platform's random source. */
export function randomIdClient(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export function sessionIdOf(scene: Scene, to: string): string {
  return `${scene}-${to}`;
}

/** Splits `p2p-alice` into its scene and target; undefined when malformed. */
export function parseSessionId(id: string): { scene: Scene; to: string } | undefined {
  const dash = id.indexOf('-');
  if (dash <= 0 || dash === id.length - 1) return undefined;
  const scene = id.slice(0, dash);
  if (!(SCENES as readonly string[]).includes(scene)) return undefined;
  return { scene: scene as Scene, to: id.slice(dash + 1) };
}

/** Longest profile `nick`, in characters. */
export const MAX_NICK_CHARS = 64;
/** Longest profile `avatar` URL, in characters. */
export const MAX_AVATAR_CHARS = 1024;
/** Longest profile `sign` (signature), in characters. */
export const MAX_SIGN_CHARS = 256;
/** Longest profile `email`, in characters. */
export const MAX_EMAIL_CHARS = 64;
/** Longest profile `tel`, in characters. */
export const MAX_TEL_CHARS = 32;
/** Longest `antispamBusinessId`, in characters. */
export const MAX_ANTISPAM_ID_CHARS = 64;
/** Longest friend `alias`, in characters. */
export const MAX_ALIAS_CHARS = 64;
/** Longest `ps` of a friend request or answer, in characters. */
export const MAX_FRIEND_PS_CHARS = 500;

/** A profile's `gender`. */
export const GENDERS = ['unknown', 'male', 'female'] as const;
export type Gender = (typeof GENDERS)[number];

/**
 * An account's profile (name card). Every account has one, empty until the
 * account sets a field; `updateTime` (0 for an empty profile) lets clients
 * cache profiles of others.
 */
export interface UserProfile {
  account: string;
  nick?: string;
  avatar?: string;
  sign?: string;
  gender?: Gender;
  email?: string;
  /** `YYYY-MM-DD`. */
  birth?: string;
  tel?: string;
  custom?: string;
  createTime: number;
  updateTime: number;
}

/** An entry of the blocklist or the mutelist. */
export interface RelationRecord {
  account: string;
  updateTime: number;
}

/** What a blocklist or mutelist write answers: whether the account is now in the list, and its entry. */
export interface RelationChange {
  isAdd: boolean;
  record: RelationRecord;
}

/**
 * A friend of the account. `valid: false` marks a friendship that ended
 * (incremental reads carry it so devices drop it); `updateTime` is unique
 * within one account's friend list, so it pages exactly.
 */
export interface Friend {
  account: string;
  alias?: string;
  custom?: string;
  valid: boolean;
  createTime: number;
  updateTime: number;
}

/** System notification types of the friend flows. */
export const FRIEND_SYSMSG_TYPES = ['addFriend', 'applyFriend', 'passFriendApply', 'rejectFriendApply', 'deleteFriend'] as const;
export type FriendSysMsgType = (typeof FRIEND_SYSMSG_TYPES)[number];

/** A friend action of the account, as its other devices learn it (`syncfriendaction`). */
export interface FriendAction {
  type: FriendSysMsgType | 'updateFriend';
  /** The other account of the action. */
  account: string;
  /** The friend record as the action left it (absent for a request or a rejection). */
  friend?: Friend;
  ps?: string;
  /** The request's system notification, for `applyFriend` and its answers. */
  idServer?: string;
  time: number;
}
