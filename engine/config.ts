/**
 * Typed configuration. Every field has a default, a unit in its name where it
 * has one, an environment variable and a `--flag`. Environment and argv are
 * read only by the process entry (`cli.ts`), which passes them here.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseDeviceLimits } from '../actors/presence/logic.ts';
import { MAX_CONTENT_CHARS, MAX_EXT_CHARS, MAX_TEXT_CHARS } from './protocol/objects.ts';

export interface Config {
  /** HTTP and WebSocket port (`/v1/ws`, `/healthz`, `/readyz`, `/metrics`). Default 8080; 0 picks a free port. */
  port: number;
  /** Address to listen on. Default 0.0.0.0. */
  host: string;
  /** Directory for LMDB files (actor state, and the Log in embedded mode). Default ./data. */
  dataDir: string;
  /** Shared secret of HS256/384/512 login tokens. */
  jwtSecret: string;
  /** PEM public key (or a path to one) of RS*, PS*, ES* or EdDSA login tokens. */
  jwtPublicKey: string;
  /** JWKS URL of login tokens' keys, fetched at start and again for an unknown `kid`. */
  jwksUrl: string;
  /** Required `iss` of login tokens, when set. */
  jwtIssuer: string;
  /** Required `aud` of login tokens, when set. */
  jwtAudience: string;
  /** The host's login callback URL; exclusive with the JWT keys. */
  authCallbackUrl: string;
  /** How long the login callback may take, ms. Default 3000. */
  authCallbackTimeoutMs: number;
  /** How long an accepted callback answer is reused for the same login, ms. Default 0. */
  authCallbackCacheMs: number;
  /** Kick a socket (`kicked`, reason `tokenExpired`) when its login token expires. Default false, as the reference SDK keeps sessions. */
  kickOnTokenExpiry: boolean;
  /**
   * The login policy: comma-separated `group=max` rules (`ios=1,android=1`,
   * `mobile=1`, `desktop=1`, `*=5`; groups are the device types, `mobile`,
   * `desktop` and `*`). A login beyond a rule displaces the oldest device it
   * covers (`kicked`, reason `samePlatformKick`). Empty (the default): no limit.
   */
  deviceLimits: string;
  /** How long a signaling channel stays open unless `signalingDelay` extends it, s. Default 7200. */
  signalingChannelTtlSec: number;
  /** Most event subscriptions one account holds (`subscribeEvent`). Default 3000. */
  eventMaxSubscriptions: number;
  /** How long one second of an event's `validTime` and a subscription's `subscribeTime` lasts, ms. Default 1000; shortened only to test expiry. */
  eventSecondMs: number;
  /** Secret of the HS256 RTC tokens of calls; empty: calls asking for one are refused. */
  rtcTokenSecret: string;
  /** Keys of the admin HTTP API, comma-separated; empty: the API is off. */
  adminApiKey: string;
  /** Admin requests per second per key (and the burst). Default 100. */
  adminRatePerSec: number;
  /** NATS server URL(s), comma-separated. Empty: embedded mode (in-process Bus, LMDB Log). */
  natsUrl: string;
  /** Name of this node in logs and subjects. Default: hostname plus a random suffix. */
  nodeId: string;
  /** Number of actor partitions; fixed for the life of a cluster. Default 64. */
  partitions: number;
  /** How long the edge waits for an actor's reply, ms. Default 5000. */
  requestTimeoutMs: number;
  /** A socket that has not logged in within this time is closed, ms. Default 10000. */
  loginTimeoutMs: number;
  /** Largest accepted WebSocket frame, bytes. Default 1 MiB. */
  maxFrameBytes: number;
  /** A socket whose unsent buffer exceeds this is closed as a slow consumer, bytes. Default 4 MiB. */
  maxBackpressureBytes: number;
  /** A socket whose writes wait for it to drain and that drains nothing for this long is closed as a slow consumer, ms. Default 10000. */
  drainTimeoutMs: number;
  /** Close a socket after this many seconds without traffic (pings keep it open). Default 120. */
  idleTimeoutSec: number;
  /** An actor idle for this long is passivated (dropped from memory), ms. Default 60000. */
  actorIdleMs: number;
  /** Commands queued per actor before new ones get UNAVAILABLE. Default 1000. */
  mailboxLimit: number;
  /** How long a session update may wait to be coalesced with the next ones, ms; 0 sends it at the end of the turn. Default 5. */
  touchLingerMs: number;
  deferWriteMs: number;
  /** JetStream `sync_interval` of the server is the operator's; this is the Log stream count. Default 8. */
  logStreams: number;
  /** JetStream replicas of the Log streams and lease buckets (1 or 3). Default 1. */
  logReplicas: number;
  /** Lifetime of a partition lease in cluster mode, ms: a crashed host's partitions move within about this. Default 3000. */
  leaseTtlMs: number;
  /** Messages sent to a socket during login sync, per session. Default 1000. */
  syncMsgsPerSession: number;
  /**
   * Messages sent during login sync per supergroup session: the newest ones
   * the device lacks; it reads older ones by history (gaps show by seq), so
   * a login costs the same however long the group talked. Default 10.
   */
  syncSuperTeamMsgsPerSession: number;
  /** Largest message on the in-process Bus (embedded mode), bytes; cluster mode uses the NATS server's `max_payload`. Default 1 MiB. */
  embeddedMaxPayloadBytes: number;
  /** Allow the slow `ws`-based uWebSockets.js fallback when the native binary cannot load. Default false. */
  allowUwsFallback: boolean;
  /** Log level: debug, info, warn, error. Default info. */
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Count and serve Prometheus metrics on `GET /metrics`. Default true; off, nothing is counted and `/metrics` answers 404. */
  metrics: boolean;
  /** At a graceful stop, how long `/readyz` answers 503 while the node still serves, before it stops taking work, ms. Default 0; set it to the load balancer's readiness period. */
  drainGraceMs: number;
  /** Members an advanced group may hold (TEAM_FULL past it). Default 200. */
  teamMaxMembers: number;
  /** Members a supergroup may hold (TEAM_FULL past it). Default 10000. */
  superTeamMaxMembers: number;
  /** Let clients create and dismiss supergroups (otherwise the host's backend does). Default false. */
  superTeamClientCreate: boolean;
  /** How long after sending a message its sender may recall it (EXPIRED after), ms. Default 120000 (2 minutes). */
  recallWindowMs: number;
  /** Longest text of a text or tip message, characters (BAD_REQUEST past it). Default and ceiling 5000. */
  maxTextChars: number;
  /** Longest `content` of a custom message, characters. Default and ceiling 10000. */
  maxContentChars: number;
  /** Longest `custom` of a message, characters. Default and ceiling 4096. */
  maxCustomChars: number;
  /** Most pinned messages one conversation holds (BAD_REQUEST past it). Default 100. */
  maxPinsPerConversation: number;
  /** Most quick comments one message holds (BAD_REQUEST past it). Default 500. */
  maxQuickCommentsPerMsg: number;
  /** Where webhook events are POSTed (engine/webhooks/). Empty (the default): webhooks are off, unless an `env` URL is set. */
  webhookUrl: string;
  /**
   * Webhook URLs by `env` name, from `PARLEY_WEBHOOK_URL_<ENV>` (or
   * `--webhook-env-urls name=url,…`): an event of a message sent with `env`
   * goes to its env's URL, others to `webhookUrl`. Names compare without
   * case. Default none.
   */
  webhookEnvUrls: Record<string, string>;
  /** HMAC-SHA256 key of the `Parley-Signature` header; required when a webhook URL is set. */
  webhookSecret: string;
  /** First pause before a webhook retry, ms. Default 500. */
  webhookRetryMinMs: number;
  /** Longest pause between webhook tries, ms. Default 60000. */
  webhookRetryMaxMs: number;
  /** How long a webhook event is retried before it is recorded dead, hours. Default 24. */
  webhookRetryHours: number;
  /** Whether the webhook feed derives a `push` event per offline device for each sent message (engine/webhooks/push.ts). Default true. */
  webhookPush: boolean;
}

/** The environment variables naming one `env`'s webhook URL: `PARLEY_WEBHOOK_URL_<ENV>`. */
export const WEBHOOK_ENV_URL_PREFIX = 'PARLEY_WEBHOOK_URL_';

interface FieldSpec {
  env: string;
  kind: 'int' | 'string' | 'bool' | 'level' | 'deviceLimits' | 'envUrls';
  doc: string;
  min?: number;
  max?: number;
}

/** Field metadata: environment variable, type and one line of documentation. */
export const CONFIG_FIELDS: Record<keyof Config, FieldSpec> = {
  port: { env: 'PARLEY_PORT', kind: 'int', min: 0, max: 65535, doc: 'HTTP/WebSocket port' },
  host: { env: 'PARLEY_HOST', kind: 'string', doc: 'listen address' },
  dataDir: { env: 'PARLEY_DATA_DIR', kind: 'string', doc: 'LMDB data directory' },
  jwtSecret: { env: 'PARLEY_JWT_SECRET', kind: 'string', doc: 'shared secret of HS256/384/512 login tokens' },
  jwtPublicKey: { env: 'PARLEY_JWT_PUBLIC_KEY', kind: 'string', doc: 'PEM public key (or its path) of RS/PS/ES/EdDSA login tokens' },
  jwksUrl: { env: 'PARLEY_JWKS_URL', kind: 'string', doc: 'JWKS URL of login token keys' },
  jwtIssuer: { env: 'PARLEY_JWT_ISSUER', kind: 'string', doc: 'required iss of login tokens' },
  jwtAudience: { env: 'PARLEY_JWT_AUDIENCE', kind: 'string', doc: 'required aud of login tokens' },
  authCallbackUrl: { env: 'PARLEY_AUTH_CALLBACK_URL', kind: 'string', doc: "the host's login callback (exclusive with JWT keys)" },
  authCallbackTimeoutMs: { env: 'PARLEY_AUTH_CALLBACK_TIMEOUT_MS', kind: 'int', min: 10, doc: 'login callback timeout, ms' },
  authCallbackCacheMs: { env: 'PARLEY_AUTH_CALLBACK_CACHE_MS', kind: 'int', min: 0, doc: 'reuse an accepted callback answer for, ms' },
  kickOnTokenExpiry: { env: 'PARLEY_KICK_ON_TOKEN_EXPIRY', kind: 'bool', doc: 'kick sockets whose login token expired' },
  deviceLimits: { env: 'PARLEY_DEVICE_LIMITS', kind: 'deviceLimits', doc: 'login policy: group=max rules, e.g. mobile=1,pc=1' },
  signalingChannelTtlSec: { env: 'PARLEY_SIGNALING_CHANNEL_TTL_SEC', kind: 'int', min: 1, doc: 'signaling channel lifetime unless delayed, s' },
  eventMaxSubscriptions: { env: 'PARLEY_EVENT_MAX_SUBSCRIPTIONS', kind: 'int', min: 1, max: 100_000, doc: 'most event subscriptions per account' },
  eventSecondMs: { env: 'PARLEY_EVENT_SECOND_MS', kind: 'int', min: 1, max: 1000, doc: 'length of a second of validTime/subscribeTime, ms (tests shorten it)' },
  rtcTokenSecret: { env: 'PARLEY_RTC_TOKEN_SECRET', kind: 'string', doc: 'HS256 secret of RTC tokens for calls' },
  adminApiKey: { env: 'PARLEY_ADMIN_API_KEY', kind: 'string', doc: 'admin API keys, comma-separated; unset: the API is off' },
  adminRatePerSec: { env: 'PARLEY_ADMIN_RATE_PER_SEC', kind: 'int', min: 1, doc: 'admin requests per second per key' },
  natsUrl: { env: 'PARLEY_NATS_URL', kind: 'string', doc: 'NATS server URL(s); set = cluster mode' },
  nodeId: { env: 'PARLEY_NODE_ID', kind: 'string', doc: 'node name in logs and subjects' },
  partitions: { env: 'PARLEY_PARTITIONS', kind: 'int', min: 1, max: 4096, doc: 'actor partitions (fixed per cluster)' },
  requestTimeoutMs: { env: 'PARLEY_REQUEST_TIMEOUT_MS', kind: 'int', min: 10, doc: 'edge→actor request timeout, ms' },
  loginTimeoutMs: { env: 'PARLEY_LOGIN_TIMEOUT_MS', kind: 'int', min: 100, doc: 'close sockets not logged in after, ms' },
  maxFrameBytes: { env: 'PARLEY_MAX_FRAME_BYTES', kind: 'int', min: 1024, doc: 'largest accepted frame, bytes' },
  maxBackpressureBytes: { env: 'PARLEY_MAX_BACKPRESSURE_BYTES', kind: 'int', min: 1024, doc: 'slow-consumer bound, bytes' },
  drainTimeoutMs: { env: 'PARLEY_DRAIN_TIMEOUT_MS', kind: 'int', min: 10, doc: 'close a socket that drains nothing for, ms' },
  idleTimeoutSec: { env: 'PARLEY_IDLE_TIMEOUT_SEC', kind: 'int', min: 8, doc: 'socket idle timeout, s' },
  actorIdleMs: { env: 'PARLEY_ACTOR_IDLE_MS', kind: 'int', min: 100, doc: 'passivate actors idle for, ms' },
  mailboxLimit: { env: 'PARLEY_MAILBOX_LIMIT', kind: 'int', min: 1, doc: 'queued commands per actor' },
  touchLingerMs: { env: 'PARLEY_TOUCH_LINGER_MS', kind: 'int', min: 0, max: 1000, doc: 'a session update waits up to this to coalesce with the next ones, ms (0: none)' },
  deferWriteMs: { env: 'PARLEY_DEFER_WRITE_MS', kind: 'int', min: 0, max: 1000, doc: 'a session update, applied and delivered at once, is written to the Log within this, together with the others meanwhile, ms (0: each with its own entry)' },
  logStreams: { env: 'PARLEY_LOG_STREAMS', kind: 'int', min: 1, max: 1024, doc: 'JetStream streams the Log is split into' },
  logReplicas: { env: 'PARLEY_LOG_REPLICAS', kind: 'int', min: 1, max: 5, doc: 'JetStream replicas of the Log' },
  leaseTtlMs: { env: 'PARLEY_LEASE_TTL_MS', kind: 'int', min: 500, doc: 'partition lease lifetime (cluster), ms' },
  syncMsgsPerSession: { env: 'PARLEY_SYNC_MSGS_PER_SESSION', kind: 'int', min: 1, doc: 'offline messages per session at login' },
  syncSuperTeamMsgsPerSession: { env: 'PARLEY_SYNC_SUPERTEAM_MSGS_PER_SESSION', kind: 'int', min: 1, doc: 'offline messages per supergroup session at login (the newest)' },
  embeddedMaxPayloadBytes: { env: 'PARLEY_EMBEDDED_MAX_PAYLOAD_BYTES', kind: 'int', min: 4096, doc: 'largest in-process bus message (embedded), bytes' },
  allowUwsFallback: { env: 'PARLEY_ALLOW_UWS_FALLBACK', kind: 'bool', doc: 'allow the slow ws-based uWS fallback' },
  logLevel: { env: 'PARLEY_LOG_LEVEL', kind: 'level', doc: 'debug, info, warn or error' },
  metrics: { env: 'PARLEY_METRICS', kind: 'bool', doc: 'count and serve Prometheus metrics on /metrics' },
  drainGraceMs: { env: 'PARLEY_DRAIN_GRACE_MS', kind: 'int', min: 0, doc: 'at a graceful stop, /readyz answers 503 for this long before work stops, ms' },
  teamMaxMembers: { env: 'PARLEY_TEAM_MAX_MEMBERS', kind: 'int', min: 1, doc: 'members per advanced group' },
  superTeamMaxMembers: { env: 'PARLEY_SUPERTEAM_MAX_MEMBERS', kind: 'int', min: 1, doc: 'members per supergroup' },
  superTeamClientCreate: { env: 'PARLEY_SUPERTEAM_CLIENT_CREATE', kind: 'bool', doc: 'let clients create and dismiss supergroups' },
  maxTextChars: { env: 'PARLEY_MAX_TEXT_CHARS', kind: 'int', min: 1, max: MAX_TEXT_CHARS, doc: 'longest text of a message, characters' },
  maxContentChars: { env: 'PARLEY_MAX_CONTENT_CHARS', kind: 'int', min: 1, max: MAX_CONTENT_CHARS, doc: 'longest content of a custom message, characters' },
  maxCustomChars: { env: 'PARLEY_MAX_CUSTOM_CHARS', kind: 'int', min: 1, max: MAX_EXT_CHARS, doc: 'longest custom of a message, characters' },
  recallWindowMs: { env: 'PARLEY_RECALL_WINDOW_MS', kind: 'int', min: 0, doc: 'how long after sending a message may be recalled, ms' },
  maxPinsPerConversation: { env: 'PARLEY_MAX_PINS_PER_CONVERSATION', kind: 'int', min: 1, doc: 'pinned messages per conversation' },
  maxQuickCommentsPerMsg: { env: 'PARLEY_MAX_QUICK_COMMENTS_PER_MSG', kind: 'int', min: 1, doc: 'quick comments per message' },
  webhookUrl: { env: 'PARLEY_WEBHOOK_URL', kind: 'string', doc: 'where webhook events are POSTed; unset: webhooks off' },
  webhookEnvUrls: { env: `${WEBHOOK_ENV_URL_PREFIX}<ENV>`, kind: 'envUrls', doc: "webhook URL of messages sent with env '<env>'" },
  webhookSecret: { env: 'PARLEY_WEBHOOK_SECRET', kind: 'string', doc: 'HMAC-SHA256 key of webhook signatures (required with a webhook URL)' },
  webhookRetryMinMs: { env: 'PARLEY_WEBHOOK_RETRY_MIN_MS', kind: 'int', min: 1, doc: 'first pause before a webhook retry, ms' },
  webhookRetryMaxMs: { env: 'PARLEY_WEBHOOK_RETRY_MAX_MS', kind: 'int', min: 1, doc: 'longest pause between webhook tries, ms' },
  webhookRetryHours: { env: 'PARLEY_WEBHOOK_RETRY_HOURS', kind: 'int', min: 0, max: 8760, doc: 'retry a webhook event for this long before it is dead, h' },
  webhookPush: { env: 'PARLEY_WEBHOOK_PUSH', kind: 'bool', doc: 'send a push webhook event per offline device of each sent message' },
};


export function defaultConfig(): Config {
  return {
    port: 8080,
    host: '0.0.0.0',
    dataDir: './data',
    jwtSecret: '',
    jwtPublicKey: '',
    jwksUrl: '',
    jwtIssuer: '',
    jwtAudience: '',
    authCallbackUrl: '',
    authCallbackTimeoutMs: 3000,
    authCallbackCacheMs: 0,
    kickOnTokenExpiry: false,
    deviceLimits: '',
    signalingChannelTtlSec: 7200,
    eventMaxSubscriptions: 3000,
    eventSecondMs: 1000,
    rtcTokenSecret: '',
    adminApiKey: '',
    adminRatePerSec: 100,
    natsUrl: '',
    nodeId: `${hostname()}-${randomBytes(3).toString('hex')}`,
    partitions: 64,
    requestTimeoutMs: 5000,
    loginTimeoutMs: 10_000,
    maxFrameBytes: 1024 * 1024,
    maxBackpressureBytes: 4 * 1024 * 1024,
    drainTimeoutMs: 10_000,
    idleTimeoutSec: 120,
    actorIdleMs: 60_000,
    mailboxLimit: 1000,
    touchLingerMs: 0, // the host's TOUCH_LINGER_MS
    deferWriteMs: 20, // the host's DEFER_WRITE_MS
    logStreams: 8,
    logReplicas: 1,
    leaseTtlMs: 3000,
    syncMsgsPerSession: 1000,
    syncSuperTeamMsgsPerSession: 10,
    embeddedMaxPayloadBytes: 1024 * 1024,
    allowUwsFallback: false,
    logLevel: 'info',
    metrics: true,
    drainGraceMs: 0,
    teamMaxMembers: 200,
    superTeamMaxMembers: 10_000,
    superTeamClientCreate: false,
    recallWindowMs: 120_000,
    maxTextChars: MAX_TEXT_CHARS,
    maxContentChars: MAX_CONTENT_CHARS,
    maxCustomChars: MAX_EXT_CHARS,
    maxPinsPerConversation: 100,
    maxQuickCommentsPerMsg: 500,
    webhookUrl: '',
    webhookEnvUrls: {},
    webhookSecret: '',
    webhookRetryMinMs: 500,
    webhookRetryMaxMs: 60_000,
    webhookRetryHours: 24,
    webhookPush: true,
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function coerce(spec: FieldSpec, raw: string, source: string): Config[keyof Config] {
  switch (spec.kind) {
    case 'int': {
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new ConfigError(`${source} must be an integer, got '${raw}'`);
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(`${source} must be at least ${spec.min}, got ${n}`);
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(`${source} must be at most ${spec.max}, got ${n}`);
      return n;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off|)$/i.test(raw)) return false;
      throw new ConfigError(`${source} must be true or false, got '${raw}'`);
    case 'level':
      if (!['debug', 'info', 'warn', 'error'].includes(raw)) throw new ConfigError(`${source} must be debug, info, warn or error`);
      return raw as Config['logLevel'];
    case 'deviceLimits':
      try {
        parseDeviceLimits(raw);
      } catch (err) {
        throw new ConfigError(`${source}: ${(err as Error).message}`);
      }
      return raw;
    case 'envUrls': {
      const out: Record<string, string> = {};
      for (const pair of raw.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new ConfigError(`${source} must be name=url pairs separated by commas, got '${pair}'`);
        out[webhookEnvName(pair.slice(0, eq))] = checkedUrl(pair.slice(eq + 1), `${source} (${pair.slice(0, eq)})`);
      }
      return out;
    }
    case 'string':
      return raw;
  }
}

/** How an `env` name is compared: upper case, so `prod` and `PARLEY_WEBHOOK_URL_PROD` meet. */
export function webhookEnvName(env: string): string {
  return env.trim().toUpperCase();
}

function checkedUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${source} must be an http(s) URL, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${source} must be an http(s) URL, got '${raw}'`);
  return raw;
}

/** Refuses webhook settings that cannot work together, naming the setting at fault. */
function checkWebhooks(config: Config): void {
  if (config.webhookUrl !== '') checkedUrl(config.webhookUrl, 'PARLEY_WEBHOOK_URL');
  const anyUrl = config.webhookUrl !== '' || Object.keys(config.webhookEnvUrls).length > 0;
  if (anyUrl && config.webhookSecret === '') {
    throw new ConfigError('PARLEY_WEBHOOK_SECRET is required when a webhook URL is set: receivers check every request\'s signature with it');
  }
  if (config.webhookRetryMaxMs < config.webhookRetryMinMs) {
    throw new ConfigError(`PARLEY_WEBHOOK_RETRY_MAX_MS (${config.webhookRetryMaxMs}) must be at least PARLEY_WEBHOOK_RETRY_MIN_MS (${config.webhookRetryMinMs})`);
  }
}

/**
 * Builds the effective configuration: defaults, then environment variables,
 * then `--kebab-name=value` / `--kebab-name value` flags. Unknown flags fail.
 */
export function parseConfig(env: Record<string, string | undefined>, argv: readonly string[] = []): Config {
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const keys = Object.keys(CONFIG_FIELDS) as (keyof Config)[];
  for (const key of keys) {
    const spec = CONFIG_FIELDS[key];
    if (spec.kind === 'envUrls') continue;
    const raw = env[spec.env];
    if (raw !== undefined && raw !== '') config[key] = coerce(spec, raw, spec.env);
  }
  const envUrls: Record<string, string> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(WEBHOOK_ENV_URL_PREFIX) || raw === undefined || raw === '') continue;
    const which = name.slice(WEBHOOK_ENV_URL_PREFIX.length);
    if (which === '') continue;
    envUrls[webhookEnvName(which)] = checkedUrl(raw, name);
  }
  config.webhookEnvUrls = envUrls;
  const byFlag = new Map(keys.map((k) => [kebab(k), k]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const key = byFlag.get(name);
    if (key === undefined) throw new ConfigError(`unknown flag --${name}`);
    let raw: string;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else if (CONFIG_FIELDS[key].kind === 'bool' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'))) raw = 'true';
    else {
      const next = argv[++i];
      if (next === undefined) throw new ConfigError(`--${name} needs a value`);
      raw = next;
    }
    config[key] = coerce(CONFIG_FIELDS[key], raw, `--${name}`);
  }
  checkWebhooks(config as unknown as Config);
  return config as unknown as Config;
}

/** The effective configuration as `ENV=value  # doc` lines, secrets masked. */
export function describeConfig(config: Config): string {
  const keys = Object.keys(CONFIG_FIELDS) as (keyof Config)[];
  return keys
    .map((key) => {
      const spec = CONFIG_FIELDS[key];
      let value = String(config[key]);
      if (key === 'jwtSecret' || key === 'jwtPublicKey' || key === 'adminApiKey' || key === 'rtcTokenSecret' || key === 'webhookSecret') value = value === '' ? '(unset)' : '(set)';
      if (key === 'webhookEnvUrls') value = Object.entries(config.webhookEnvUrls).map(([n, u]) => `${n}=${u}`).join(',');
      return `${spec.env}=${value}  # ${spec.doc}; --${kebab(key)}`;
    })
    .join('\n');
}
