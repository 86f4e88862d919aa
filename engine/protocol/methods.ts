/**
 * One schema per wire method: the runtime validation of `a` and, through
 * `Infer`, the TypeScript type of the arguments. Names and defaults follow
 * the reference SDK. Browser-safe.
 */
import * as s from './schema.ts';
import { describeValue, echo, isPlainObject } from './schema.ts';
import type { Infer, InputOf, Schema } from './schema.ts';
import { ParleyError } from './errors.ts';

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

// Every argument naming an account, team, channel, device or message passes the one identifier rule
// (schema.ts `identifierProblem`); the verifier applies the same rule to the token's `sub`.
const id = () => s.identifier({ max: MAX_ID_CHARS });
const idClient = () => s.identifier({ max: MAX_ID_CLIENT_CHARS });
const time = () => s.int({ min: 0 });
const sessionId = () => s.identifier({ max: MAX_ID_CHARS, prefixes: SCENES, text: 'a session id such as p2p-<account> or team-<teamId>' });

/** Options every send method shares. */
const sendCommon = {
  scene: s.literal(SCENES),
  to: id(),
  idClient: s.optional(idClient()),
  custom: s.optional(s.string({ max: MAX_EXT_CHARS })),
  subType: s.optional(s.int({ min: 1, max: 2 ** 31 - 1 })),
  needMsgReceipt: s.optional(s.boolean()),
  isHistoryable: s.optional(s.boolean()),
  isRoamingable: s.optional(s.boolean()),
  isSyncable: s.optional(s.boolean()),
  isPushable: s.optional(s.boolean()),
  isOfflinable: s.optional(s.boolean()),
  isUnreadable: s.optional(s.boolean()),
  pushContent: s.optional(s.string({ max: 500 })),
  pushPayload: s.optional(s.string({ max: MAX_EXT_CHARS })),
  resend: s.optional(s.boolean()),
};

export const methods = {
  login: s.object({
    token: s.string({ min: 1, max: 8192 }),
    deviceId: s.optional(id()),
    deviceType: s.optional(s.literal(DEVICE_TYPES), 'web' as DeviceType),
    cursors: s.optional(
      s.object({
        /** `updateTime` of the newest session this device has seen (ms). */
        sessions: s.optional(time()),
        /** Highest `seq` this device holds, per session id. */
        seqs: s.optional(s.record(s.int({ min: 0 }), { key: sessionId(), maxKeys: 10_000 })),
      }),
    ),
  }),
  getServerTime: s.object({}),
  sendText: s.object({ ...sendCommon, text: s.string({ min: 1, max: MAX_TEXT_CHARS }) }),
  getHistoryMsgs: s.object({
    scene: s.literal(SCENES),
    to: id(),
    beginTime: s.optional(time(), 0),
    endTime: s.optional(time(), 0),
    lastMsgId: s.optional(s.string({ max: 64 })),
    limit: s.optional(s.int({ min: 1, max: MAX_HISTORY_LIMIT }), 100),
    reverse: s.optional(s.boolean(), false),
    asc: s.optional(s.boolean(), false),
    msgTypes: s.optional(s.array(s.literal(MSG_TYPES), { max: MSG_TYPES.length })),
  }),
  getServerSessions: s.object({
    limit: s.optional(s.int({ min: 1, max: 100 }), 100),
    minTimestamp: s.optional(time(), 0),
    maxTimestamp: s.optional(time(), 0),
    needLastMsg: s.optional(s.boolean(), true),
  }),
  getServerSession: s.object({ scene: s.literal(SCENES), to: id() }),
  resetSessionUnread: s.object({ sessionId: sessionId() }),
} satisfies Record<string, Schema<unknown>>;

/** Methods that store a message: idempotent on `(from, idClient)`, so they may be repeated safely. */
export const MESSAGE_SEND_METHODS: ReadonlySet<string> = new Set([
  'sendText',
  'sendFile',
  'sendGeo',
  'sendTipMsg',
  'sendCustomMsg',
  'forwardMsg',
]);

/**
 * Methods that may be carried out twice with the effect of once (sends by
 * their `idClient`, reads, read pointers), so the edge may retry them after a
 * timeout. A method not listed here is tried again only when it surely did
 * not run.
 */
export const RETRY_SAFE_METHODS: ReadonlySet<string> = new Set([
  ...MESSAGE_SEND_METHODS,
  'getHistoryMsgs',
  'getServerSessions',
  'getServerSession',
  'resetSessionUnread',
]);

/** A fresh client message id: 32 hex characters from the platform's random source. */
export function randomIdClient(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export type MethodName = keyof typeof methods;
/** Arguments after validation, defaults filled in. */
export type Args<M extends MethodName> = Infer<(typeof methods)[M]>;
/** Arguments as a caller writes them: members with defaults may be left out. */
export type ArgsInput<M extends MethodName> = InputOf<(typeof methods)[M]['shape']>;

export function isMethodName(m: string): m is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, m);
}

/** Validates a request's `m` and `a`; throws BAD_REQUEST naming what was wrong. */
export function parseRequest<M extends MethodName>(m: M, a: unknown): Args<M>;
export function parseRequest(m: string, a: unknown): unknown;
export function parseRequest(m: string, a: unknown): unknown {
  if (!isMethodName(m)) throw new ParleyError('BAD_REQUEST', `unknown method ${echo(m)}`);
  if (a !== undefined && a !== null && !isPlainObject(a)) {
    throw new ParleyError('BAD_REQUEST', `\`a\` must be a map of arguments for \`${m}\`, got ${describeValue(a)}`);
  }
  return methods[m].parse(a, '');
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
}

/** `r` of each method, as the reference SDK hands it to `done`. */
export interface Results {
  login: { account: string; deviceId: string; serverTime: number };
  getServerTime: number;
  sendText: Message;
  getHistoryMsgs: { msgs: Message[] };
  getServerSessions: { sessionList: Session[]; hasMore: boolean };
  getServerSession: { session: Session };
  resetSessionUnread: { session: Session };
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

/** The payload `d` of each event. */
export interface Events {
  msg: Message;
  offlinemsgs: { sessionId: string; scene: Scene; to: string; msgs: Message[] };
  sessions: Session[];
  updatesessions: Session[];
  syncdone: { serverTime: number };
  loginportschange: LoginPort[];
  kicked: { reason: string; message?: string };
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
