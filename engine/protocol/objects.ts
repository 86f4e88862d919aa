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
}

/**
 * A system notification. Of type `deleteMsg`: a message was recalled; `from`
 * is who recalled it, `to` the peer, `msg` the recalled message's locating
 * fields, with the recall's own `ps`, `attach`, `apnsText`, `pushPayload`, `env`.
 */
export interface SysMsg {
  type: 'deleteMsg';
  scene: Scene;
  from: string;
  to: string;
  idServer: string;
  time: number;
  ps?: string;
  attach?: string;
  apnsText?: string;
  pushPayload?: string;
  env?: string;
  msg?: MsgRef & { idClient: string; type: MsgType };
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
