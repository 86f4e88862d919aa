/**
 * Structured JSON logs through pino, one line per event on stderr:
 * `{"level":"info","time":"<ISO 8601>","role":…,"node":…,"msg":…, fields…}`.
 * The level comes from the configuration (`PARLEY_LOG_LEVEL`), set once by
 * the composition root; `role` and `node` are on every line.
 *
 * Lines about a request carry its correlation id (`cid`), the same id an
 * INTERNAL error's message names. Secrets and message contents are never
 * logged: call sites pass identifiers only, and the fields that could hold a
 * token, an authorization header, a secret, a request's arguments or a text
 * are redacted should one slip into a line.
 */
import pino from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';

export type Level = 'debug' | 'info' | 'warn' | 'error';

/** Field names whose values never reach a log line, at the top level and one level down. */
const SECRET_FIELDS = ['token', 'authorization', 'secret', 'jwtSecret', 'password', 'apiKey', 'a', 'args', 'text', 'body', 'custom', 'pushContent', 'pushPayload'];

function create(destination: DestinationStream, level: Level, bindings: Record<string, unknown>): PinoLogger {
  return pino(
    {
      level,
      base: bindings,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.errWithCause },
      redact: { paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: '[redacted]' },
    },
    destination,
  );
}

let destination: DestinationStream = pino.destination({ fd: 2, sync: true });
let level: Level = 'info';
let bindings: Record<string, unknown> = {};
let root: PinoLogger = create(destination, level, bindings);

function write(at: Level, msg: string, fields?: Record<string, unknown>): void {
  if (fields === undefined) root[at](msg);
  else root[at](fields, msg);
}

export const logger = {
  /** Sets the lowest level written. Default info. */
  setLevel(next: Level): void {
    level = next;
    root.level = next;
  },
  /** Fields added to every line (role, node id). */
  setBase(fields: Record<string, unknown>): void {
    bindings = { ...bindings, ...fields };
    root = create(destination, level, bindings);
  },
  /** Writes lines to `stream` instead of stderr (an embedding application's sink; tests capture lines this way). */
  setDestination(stream: DestinationStream): void {
    destination = stream;
    root = create(destination, level, bindings);
  },
  /** True when lines of `at` are written: lets a call site skip building fields nobody reads. */
  enabled(at: Level): boolean {
    return root.isLevelEnabled(at);
  },
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};
