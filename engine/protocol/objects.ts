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

export const SCENES = ['p2p', 'team', 'superTeam'] as const;
export type Scene = (typeof SCENES)[number];

export const MSG_TYPES = ['text', 'image', 'audio', 'video', 'file', 'geo', 'tip', 'custom', 'notification'] as const;
export type MsgType = (typeof MSG_TYPES)[number];

export const DEVICE_TYPES = ['web', 'ios', 'android', 'pc', 'mac', 'server'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

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
