/**
 * One-line JSON logs on stderr. The level is set once by the process entry.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold = RANK.info;
const base: Record<string, unknown> = {};

function serialize(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if ('code' in value) out.code = (value as { code: unknown }).code;
    if (value.stack !== undefined) out.stack = value.stack;
    if (value.cause !== undefined) out.cause = serialize(value.cause);
    return out;
  }
  return value;
}

function write(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (RANK[level] < threshold) return;
  const line: Record<string, unknown> = { t: new Date().toISOString(), level, msg, ...base };
  if (fields !== undefined) for (const [k, v] of Object.entries(fields)) line[k] = serialize(v);
  process.stderr.write(JSON.stringify(line) + '\n');
}

export const logger = {
  /** Sets the lowest level written. Default info. */
  setLevel(level: Level): void {
    threshold = RANK[level];
  },
  /** Fields added to every line (role, node id). */
  setBase(fields: Record<string, unknown>): void {
    Object.assign(base, fields);
  },
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};
