/**
 * Client options: every field with its unit and default, `defaultOptions()`
 * and `parseOptions()`, which validates and names the bad field.
 */
import { ParleyError } from '../engine/protocol/errors.ts';
import { DEVICE_TYPES } from '../engine/protocol/methods.ts';
import type { DeviceType } from '../engine/protocol/methods.ts';
import type { ListenerMap } from './events.ts';
import type { WebSocketConstructor } from './socket.ts';

/** A token, or a function returning one (called before every login, so it may refresh an expired token). */
export type TokenSource = string | (() => string | Promise<string>);

/** The sync position a device resumes from; sent at login as `cursors`. */
export interface Cursors {
  /** Highest `updateTime` of any session seen (or `deletedTime` of a `DeleteMsgSelf`, or `time` of a pin, quick comment or clear change), in ms since the epoch. */
  sessions?: number;
  /** Highest message `seq` seen, per session id. */
  seqs?: Record<string, number>;
  /** Newest `time` of a stored custom system notification (`sendToOnlineUsersOnly: false`) or a supergroup recall notice (`deleteMsg`, scene `superTeam`) seen, in ms since the epoch. */
  sysmsgs?: number;
  /** Highest friend `updateTime` seen, in ms (the login sync sends friends changed after it). */
  friends?: number;
  /** Newest group `updateTime` / `memberUpdateTime` of a login sync's `teams` and `SuperTeams`, in ms (the next login sync sends only groups changed after it). */
  teams?: number;
}

export interface BackoffOptions {
  /** Delay before the first retry, in ms (default 250). */
  initialMs?: number;
  /** Largest delay between retries, in ms (default 10000). */
  maxMs?: number;
  /** Growth of the delay per failed attempt (default 2). */
  factor?: number;
  /**
   * Share of each delay that is random, 0..1 (default 0.5; `true` = 0.5,
   * `false` = 0): the delay is drawn uniformly from [d·(1 − jitter), d], so
   * clients dropped together do not return together.
   */
  jitter?: number | boolean;
}

export interface ConnectOptions {
  /** Edge address, `ws://host:port/v1/ws`. Give this or `urls`. */
  url?: string;
  /** Edge addresses, tried in turn: each new attempt (first connect or reconnect) takes the next one. */
  urls?: readonly string[];
  /** Login token (see `TokenSource`). Required. */
  token: TokenSource;
  /** Device id sent at login (default: none at first, then the id the server assigned, so reconnects keep one identity). */
  deviceId?: string;
  /** Device type sent at login (default: not sent, the server assumes 'web'). */
  deviceType?: DeviceType;
  /** WebSocket constructor (default `globalThis.WebSocket`; Node 20 has none: pass the `ws` package). */
  WebSocket?: WebSocketConstructor;
  /** Time a request may wait for its reply, in ms, counted from the call (default 10000). */
  requestTimeoutMs?: number;
  /** Time one connection attempt may take from the start to the login reply, in ms (default `requestTimeoutMs`). */
  loginTimeoutMs?: number;
  /** Reconnect after an unexpected close (default true). */
  reconnect?: boolean;
  /** Retries after an unexpected close before giving up (default Infinity). */
  maxReconnectAttempts?: number;
  /** Attempts `connect()` makes before it rejects (default: one per URL; Infinity waits for a server). */
  connectAttempts?: number;
  /** Retry delays (see `BackoffOptions`). */
  backoff?: BackoffOptions;
  /** Sync position to resume from, e.g. one saved from `client.cursors` (default: none, a fresh device). */
  cursors?: Cursors;
  /** Number of recent messages remembered to drop duplicate deliveries (default 10000). */
  dedupWindow?: number;
  /** Listeners registered before the first login, so the sync events right after it are not missed. */
  on?: ListenerMap;
}

/** Options with every default filled in. */
export interface ParsedOptions {
  urls: string[];
  token: TokenSource;
  deviceId: string | undefined;
  deviceType: DeviceType | undefined;
  WebSocket: WebSocketConstructor;
  requestTimeoutMs: number;
  loginTimeoutMs: number;
  reconnect: boolean;
  maxReconnectAttempts: number;
  connectAttempts: number;
  backoff: { initialMs: number; maxMs: number; factor: number; jitter: number };
  cursors: Cursors | undefined;
  dedupWindow: number;
  on: ListenerMap;
}

export function defaultOptions(): Omit<ParsedOptions, 'urls' | 'token' | 'WebSocket' | 'connectAttempts' | 'loginTimeoutMs'> {
  return {
    deviceId: undefined,
    deviceType: undefined,
    requestTimeoutMs: 10_000,
    reconnect: true,
    maxReconnectAttempts: Infinity,
    backoff: { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.5 },
    cursors: undefined,
    dedupWindow: 10_000,
    on: {},
  };
}

function bad(field: string, what: string, got?: unknown): ParleyError {
  const shown = got === undefined ? '' : `, got ${typeof got === 'string' ? JSON.stringify(got) : String(got)}`;
  return new ParleyError('BAD_REQUEST', `\`${field}\` ${what}${shown}`);
}

function positive(field: string, value: unknown, fallback: number, opts: { min?: number; infinite?: boolean } = {}): number {
  if (value === undefined) return fallback;
  const min = opts.min ?? 1;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (!opts.infinite && !Number.isFinite(value))) {
    throw bad(field, `must be a number of at least ${min}${opts.infinite ? ' (Infinity allowed)' : ''}`, value);
  }
  return value;
}

/** Validates options and fills defaults; throws BAD_REQUEST naming the field at fault. */
export function parseOptions(o: ConnectOptions): ParsedOptions {
  if (typeof o !== 'object' || o === null) throw bad('options', 'must be an object');
  const d = defaultOptions();
  if (o.url !== undefined && o.urls !== undefined) throw bad('url', 'and `urls` exclude each other: give one');
  const urls = o.urls !== undefined ? [...o.urls] : o.url !== undefined ? [o.url] : [];
  if (urls.length === 0) throw bad('url', 'is required (or a non-empty `urls`)');
  urls.forEach((u, i) => {
    if (typeof u !== 'string' || !/^wss?:\/\/./.test(u)) throw bad(o.urls ? `urls[${i}]` : 'url', 'must be a ws:// or wss:// address', u);
  });
  if (typeof o.token !== 'function' && (typeof o.token !== 'string' || o.token === '')) {
    throw bad('token', 'must be a non-empty string or a function returning one');
  }
  if (o.deviceId !== undefined && (typeof o.deviceId !== 'string' || o.deviceId === '')) throw bad('deviceId', 'must be a non-empty string', o.deviceId);
  if (o.deviceType !== undefined && !(DEVICE_TYPES as readonly string[]).includes(o.deviceType)) {
    throw bad('deviceType', `must be one of ${DEVICE_TYPES.join(', ')}`, o.deviceType);
  }
  const WebSocket = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof WebSocket !== 'function') {
    throw bad('WebSocket', 'is required where there is no global WebSocket (in Node 20, pass the `ws` package)');
  }
  const requestTimeoutMs = positive('requestTimeoutMs', o.requestTimeoutMs, d.requestTimeoutMs);
  const b = o.backoff ?? {};
  const initialMs = positive('backoff.initialMs', b.initialMs, d.backoff.initialMs, { min: 0 });
  const maxMs = positive('backoff.maxMs', b.maxMs, Math.max(d.backoff.maxMs, initialMs), { min: 0 });
  if (maxMs < initialMs) throw bad('backoff.maxMs', `must be at least \`backoff.initialMs\` (${initialMs})`, maxMs);
  const factor = positive('backoff.factor', b.factor, d.backoff.factor);
  const jitter = b.jitter === true ? 0.5 : b.jitter === false ? 0 : b.jitter ?? d.backoff.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) throw bad('backoff.jitter', 'must be between 0 and 1 (or a boolean)', jitter);
  if (o.reconnect !== undefined && typeof o.reconnect !== 'boolean') throw bad('reconnect', 'must be true or false', o.reconnect);
  if (o.on !== undefined && (typeof o.on !== 'object' || o.on === null)) throw bad('on', 'must be a map of event names to listeners');
  for (const [event, fn] of Object.entries(o.on ?? {})) {
    if (fn !== undefined && typeof fn !== 'function') throw bad(`on.${event}`, 'must be a function');
  }
  return {
    urls,
    token: o.token,
    deviceId: o.deviceId,
    deviceType: o.deviceType,
    WebSocket,
    requestTimeoutMs,
    loginTimeoutMs: positive('loginTimeoutMs', o.loginTimeoutMs, requestTimeoutMs),
    reconnect: o.reconnect ?? d.reconnect,
    maxReconnectAttempts: positive('maxReconnectAttempts', o.maxReconnectAttempts, d.maxReconnectAttempts, { min: 0, infinite: true }),
    connectAttempts: positive('connectAttempts', o.connectAttempts, urls.length, { infinite: true }),
    backoff: { initialMs, maxMs, factor, jitter },
    cursors: o.cursors,
    dedupWindow: positive('dedupWindow', o.dedupWindow, d.dedupWindow, { min: 0 }),
    on: o.on ?? d.on,
  };
}

/** The delay before retry number `attempt` (from 1), in ms: initialMs·factor^(attempt−1), capped at maxMs, then jittered down. */
export function backoffDelay(attempt: number, b: ParsedOptions['backoff'], random: () => number = Math.random): number {
  const base = Math.min(b.maxMs, b.initialMs * b.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - b.jitter * random()));
}
