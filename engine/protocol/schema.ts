/**
 * A small runtime schema: each schema validates a decoded value, fills in
 * defaults, and gives its TypeScript type through `Infer<typeof schema>`.
 * Errors name the argument at fault. Browser-safe.
 */
import { ParleyError } from './errors.ts';

export interface Schema<T> {
  /** Returns the validated (and defaulted) value or throws BAD_REQUEST / TOO_LARGE naming `path`. */
  parse(value: unknown, path: string): T;
  /** True when a missing value is acceptable. */
  readonly optional: boolean;
  /** True when a missing value is filled with a default. */
  readonly defaulted?: boolean;
  readonly describe: string;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function bad(path: string, what: string): ParleyError {
  return new ParleyError('BAD_REQUEST', `\`${path}\` ${what}`);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'binary';
  return `a ${typeof value}`;
}

function make<T>(describe: string, parse: (value: unknown, path: string) => T): Schema<T> {
  return { parse, optional: false, describe };
}

export interface StringOptions {
  /** Minimum length in characters (default 0). */
  min?: number;
  /** Maximum length in characters; longer values fail with TOO_LARGE. */
  max?: number;
  /** A pattern the whole string must match, with a description for errors. */
  pattern?: RegExp;
  patternText?: string;
}

export function string(opts: StringOptions = {}): Schema<string> {
  return make('a string', (value, path) => {
    if (typeof value !== 'string') throw bad(path, `must be a string, got ${typeOf(value)}`);
    if (opts.min !== undefined && value.length < opts.min) {
      throw bad(path, opts.min === 1 ? 'must not be empty' : `must be at least ${opts.min} characters`);
    }
    if (opts.max !== undefined && value.length > opts.max) {
      throw new ParleyError('TOO_LARGE', `\`${path}\` must be at most ${opts.max} characters, got ${value.length}`);
    }
    if (opts.pattern !== undefined && !opts.pattern.test(value)) {
      throw bad(path, `must be ${opts.patternText ?? `match ${opts.pattern}`}`);
    }
    return value;
  });
}

export interface IntOptions {
  min?: number;
  max?: number;
}

export function int(opts: IntOptions = {}): Schema<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  return make('an integer', (value, path) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) throw bad(path, `must be an integer, got ${typeOf(value)}`);
    if (value < min || value > max) throw bad(path, `must be between ${min} and ${max}, got ${value}`);
    return value;
  });
}

export function number(opts: IntOptions = {}): Schema<number> {
  return make('a number', (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(path, `must be a finite number, got ${typeOf(value)}`);
    if (opts.min !== undefined && value < opts.min) throw bad(path, `must be at least ${opts.min}`);
    if (opts.max !== undefined && value > opts.max) throw bad(path, `must be at most ${opts.max}`);
    return value;
  });
}

export function boolean(): Schema<boolean> {
  return make('a boolean', (value, path) => {
    if (typeof value !== 'boolean') throw bad(path, `must be true or false, got ${typeOf(value)}`);
    return value;
  });
}

export function literal<const T extends readonly string[]>(values: T): Schema<T[number]> {
  const set = new Set<string>(values);
  return make(`one of ${values.join(', ')}`, (value, path) => {
    if (typeof value !== 'string' || !set.has(value)) {
      throw bad(path, `must be one of ${values.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(value) ?? typeOf(value)}`);
    }
    return value as T[number];
  });
}

export interface ArrayOptions {
  min?: number;
  /** Maximum number of items; more fail with BAD_REQUEST ("value over a limit"). */
  max?: number;
}

export function array<T>(item: Schema<T>, opts: ArrayOptions = {}): Schema<T[]> {
  return make(`a list of ${item.describe}`, (value, path) => {
    if (!Array.isArray(value)) throw bad(path, `must be a list, got ${typeOf(value)}`);
    if (opts.min !== undefined && value.length < opts.min) throw bad(path, `must have at least ${opts.min} item(s)`);
    if (opts.max !== undefined && value.length > opts.max) throw bad(path, `must have at most ${opts.max} items, got ${value.length}`);
    return value.map((v, i) => item.parse(v, `${path}[${i}]`));
  });
}

/** A map with string keys and values of one schema. */
export function record<T>(item: Schema<T>, opts: { maxKeys?: number } = {}): Schema<Record<string, T>> {
  return make(`a map of ${item.describe}`, (value, path) => {
    if (!isPlainObject(value)) throw bad(path, `must be a map, got ${typeOf(value)}`);
    const keys = Object.keys(value);
    if (opts.maxKeys !== undefined && keys.length > opts.maxKeys) throw bad(path, `must have at most ${opts.maxKeys} keys`);
    // Null prototype: any key, `__proto__` included, is just a key.
    const out: Record<string, T> = Object.create(null);
    for (const k of keys) out[k] = item.parse(value[k], `${path}.${k}`);
    return out;
  });
}

/** Any msgpack value (still bounded by the frame size). */
export function any(): Schema<unknown> {
  return make('any value', (value) => value);
}

type Shape = Record<string, Schema<unknown>>;
/** Keys whose value may be missing after parsing: optional and without a default. */
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K]['optional'] extends true ? (S[K] extends { defaulted: true } ? never : K) : never;
}[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
/** Keys a caller may leave out: every optional one, defaulted or not. */
type InputOptionalKeys<S extends Shape> = { [K in keyof S]: S[K]['optional'] extends true ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;
/** What a caller may send: defaulted members are optional. */
export type InputOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, InputOptionalKeys<S>>]: Infer<S[K]> } & { [K in InputOptionalKeys<S>]?: Infer<S[K]> }
>;

/** Only decoded msgpack maps qualify: not arrays, binary, or the decoder's marker for the reserved byte 0xc1. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A map with known members. Unknown members are dropped (clients may send
 * newer options); missing required members fail naming the member.
 */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> & { readonly shape: S } {
  const keys = Object.keys(shape);
  const schema = make('a map', (value, path) => {
    const input = value === undefined || value === null ? {} : value;
    if (!isPlainObject(input)) throw bad(path, `must be a map, got ${typeOf(value)}`);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const schema = shape[key]!;
      const v = input[key];
      const childPath = path === '' ? key : `${path}.${key}`;
      if (v === undefined || v === null) {
        if (!schema.optional) throw bad(childPath, 'is required');
        const filled = schema.parse(undefined, childPath);
        if (filled !== undefined) out[key] = filled;
        continue;
      }
      out[key] = schema.parse(v, childPath);
    }
    return out as ObjectOf<S>;
  });
  return { ...schema, shape };
}

/** Makes a member optional; with `fallback` the missing value is filled in. */
export function optional<T>(schema: Schema<T>): Schema<T | undefined> & { optional: true };
export function optional<T>(schema: Schema<T>, fallback: T | (() => T)): Schema<T> & { optional: true; defaulted: true };
export function optional<T>(schema: Schema<T>, fallback?: T | (() => T)): Schema<T | undefined> & { optional: true } {
  return {
    optional: true,
    defaulted: fallback !== undefined,
    describe: schema.describe,
    parse(value, path) {
      if (value === undefined || value === null) {
        if (fallback === undefined) return undefined;
        return typeof fallback === 'function' ? (fallback as () => T)() : fallback;
      }
      return schema.parse(value, path);
    },
  };
}
