/**
 * The schemas of wire arguments. Each builder gives three things from one
 * call: a TypeBox JSON Schema (`json`: what the docs and the admin API's
 * OpenAPI document are made from), the TypeScript type through
 * `Infer<typeof schema>`, and `parse`, which validates a decoded value and
 * fills in defaults.
 *
 * `parse` on a map runs TypeBox's compiled validator over the arguments
 * after one pass that keeps the declared members, treats a msgpack nil as a
 * missing member and fills in defaults (JSON Schema validates, it does not
 * reshape). Only when that check fails does the member-by-member walk run,
 * to name the argument at fault in Parley's own words (what TypeBox reports
 * is a JSON pointer and a keyword; clients get a sentence naming the
 * argument, its limit and what was sent). Both paths are built from the same
 * builder call, and a property test holds them to the same verdict.
 * Browser-safe.
 */
import Type from 'typebox';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import * as Format from 'typebox/format';
import { ParleyError } from './errors.ts';

export interface Schema<T> {
  /** Returns the validated (and defaulted) value or throws BAD_REQUEST / TOO_LARGE naming `path`. */
  parse(value: unknown, path: string): T;
  /** True when a missing value is acceptable. */
  readonly optional: boolean;
  /** True when a missing value is filled with a default. */
  readonly defaulted?: boolean;
  readonly describe: string;
  /** What the schema accepts, for tools that generate or document arguments (the fuzz suite). */
  readonly spec: Spec;
  /** The same rules as JSON Schema (TypeBox). */
  readonly json: TSchema;
}

/** The declaration behind a schema: its kind and the options or members it was built from. */
export type Spec =
  | { readonly kind: 'string'; readonly min: number; readonly max: number | undefined; readonly pattern: RegExp | undefined }
  | { readonly kind: 'identifier'; readonly max: number; readonly prefixes: readonly string[] | undefined }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'number'; readonly min: number | undefined; readonly max: number | undefined }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'literal'; readonly values: readonly string[] }
  | { readonly kind: 'array'; readonly item: Schema<unknown>; readonly min: number | undefined; readonly max: number | undefined }
  | { readonly kind: 'record'; readonly key: Schema<string> | undefined; readonly item: Schema<unknown>; readonly maxKeys: number | undefined }
  | { readonly kind: 'any' }
  | { readonly kind: 'object'; readonly shape: Readonly<Record<string, Schema<unknown>>> };

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** The root of a request's arguments is `a`; members are named by their path below it. */
function named(path: string): string {
  return path === '' ? '`a`' : `\`${path}\``;
}

function bad(path: string, what: string): ParleyError {
  return new ParleyError('BAD_REQUEST', `${named(path)} ${what}`);
}

/** Longest part of a client's string repeated in an error message, in characters. */
export const ECHO_CHARS = 40;

/**
 * A client's string as an error message may show it: in backticks, control
 * characters and lone surrogates escaped, cut to `ECHO_CHARS` with its length
 * when longer, so a message never carries a client's payload back whole.
 */
export function echo(text: string): string {
  const cut = text.length > ECHO_CHARS ? text.slice(0, ECHO_CHARS) : text;
  const safe = cut.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > ECHO_CHARS ? `\`${safe}…\` (${text.length} characters)` : `\`${safe}\``;
}

// C0, DEL, C1, the line and paragraph separators, and UTF-16 surrogates without their partner.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const TYPED_ARRAYS: ReadonlyArray<[string, unknown]> = [
  ['Int8Array', Int8Array], ['Uint8ClampedArray', Uint8ClampedArray], ['Int16Array', Int16Array], ['Uint16Array', Uint16Array],
  ['Int32Array', Int32Array], ['Uint32Array', Uint32Array], ['Float32Array', Float32Array], ['Float64Array', Float64Array],
  ['BigInt64Array', BigInt64Array], ['BigUint64Array', BigUint64Array],
];

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Describes a value by its type, and its length where it has one, for error
 * messages: never its content, and never by calling into the value (no
 * `toString`, no JSON), so a self-referencing or exotic value cannot throw.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined': return 'nothing';
    case 'boolean': return 'a boolean';
    case 'number':
      if (Number.isInteger(value)) return 'an integer';
      return Number.isFinite(value) ? 'a fractional number' : `${value}`;
    case 'bigint': return 'a big integer';
    case 'string': return `a string of ${plural(value.length, 'character', 'characters')}`;
    case 'symbol': return 'a symbol';
    case 'function': return 'a function';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${plural(value.length, 'item', 'items')}`;
  if (value instanceof Uint8Array) return `binary of ${plural(value.byteLength, 'byte', 'bytes')}`;
  if (value instanceof ArrayBuffer) return `binary of ${plural(value.byteLength, 'byte', 'bytes')}`;
  for (const [name, type] of TYPED_ARRAYS) {
    if (value instanceof (type as typeof Int8Array)) return `a ${name} of ${plural((value as Int8Array).length, 'item', 'items')}`;
  }
  if (ArrayBuffer.isView(value)) return `binary of ${plural(value.byteLength, 'byte', 'bytes')}`;
  if (value instanceof Date) return 'a timestamp';
  if (value instanceof RegExp) return 'a regular expression';
  if (value instanceof Set) return `a set of ${plural(value.size, 'item', 'items')}`;
  if (value instanceof Map) return `a map of ${plural(value.size, 'entry', 'entries')}`;
  if (value instanceof Error) return 'an error';
  if (isPlainObject(value)) return `a map of ${plural(Object.keys(value).length, 'member', 'members')}`;
  return 'an object';
}

function make<T>(describe: string, spec: Spec, json: TSchema, parse: (value: unknown, path: string) => T): Schema<T> {
  return { parse, optional: false, describe, spec, json };
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
  const spec: Spec = { kind: 'string', min: opts.min ?? 0, max: opts.max, pattern: opts.pattern };
  const json = Type.String({ minLength: opts.min, maxLength: opts.max, pattern: opts.pattern?.source });
  return make('a string', spec, json, (value, path) => {
    if (typeof value !== 'string') throw bad(path, `must be a string, got ${describeValue(value)}`);
    if (opts.min !== undefined && value.length < opts.min) {
      throw bad(path, opts.min === 1 ? 'must not be empty' : `must be at least ${opts.min} characters`);
    }
    if (opts.max !== undefined && value.length > opts.max) {
      throw new ParleyError('TOO_LARGE', `${named(path)} must be at most ${opts.max} characters, got ${value.length}`);
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
  return make('an integer', { kind: 'int', min, max }, Type.Integer({ minimum: min, maximum: max }), (value, path) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) throw bad(path, `must be an integer, got ${describeValue(value)}`);
    if (value < min || value > max) throw bad(path, `must be between ${min} and ${max}, got ${value}`);
    return value;
  });
}

export function number(opts: IntOptions = {}): Schema<number> {
  const json = Type.Number({ minimum: opts.min, maximum: opts.max });
  return make('a number', { kind: 'number', min: opts.min, max: opts.max }, json, (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(path, `must be a finite number, got ${describeValue(value)}`);
    if (opts.min !== undefined && value < opts.min) throw bad(path, `must be at least ${opts.min}`);
    if (opts.max !== undefined && value > opts.max) throw bad(path, `must be at most ${opts.max}`);
    return value;
  });
}

export function boolean(): Schema<boolean> {
  return make('a boolean', { kind: 'boolean' }, Type.Boolean(), (value, path) => {
    if (typeof value !== 'boolean') throw bad(path, `must be true or false, got ${describeValue(value)}`);
    return value;
  });
}

export function literal<const T extends readonly string[]>(values: T): Schema<T[number]> {
  const set = new Set<string>(values);
  const allowed = values.map((v) => `'${v}'`).join(', ');
  const json = Type.Union(values.map((v) => Type.Literal(v)));
  return make(`one of ${values.join(', ')}`, { kind: 'literal', values }, json, (value, path) => {
    if (typeof value !== 'string' || !set.has(value)) {
      throw bad(path, `must be one of ${allowed}, got ${typeof value === 'string' ? echo(value) : describeValue(value)}`);
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
  const json = Type.Array(item.json, { minItems: opts.min, maxItems: opts.max });
  return make(`a list of ${item.describe}`, { kind: 'array', item, min: opts.min, max: opts.max }, json, (value, path) => {
    if (!Array.isArray(value)) throw bad(path, `must be a list, got ${describeValue(value)}`);
    if (opts.min !== undefined && value.length < opts.min) throw bad(path, `must have at least ${opts.min} item(s)`);
    if (opts.max !== undefined && value.length > opts.max) throw bad(path, `must have at most ${opts.max} items, got ${value.length}`);
    return value.map((v, i) => item.parse(v, `${path}[${i}]`));
  });
}

export interface RecordOptions {
  /** The schema every key must pass (an identifier, say); default any string. */
  key?: Schema<string>;
  /** Most keys accepted; more fail with BAD_REQUEST. */
  maxKeys?: number;
}

/** A map with string keys and values of one schema; a key the `key` schema refuses fails naming the map and the key, cut short. */
export function record<T>(item: Schema<T>, opts: RecordOptions = {}): Schema<Record<string, T>> {
  const spec: Spec = { kind: 'record', key: opts.key, item, maxKeys: opts.maxKeys };
  // A map keyed by client text: JSON Schema's `propertyNames` carries the key rule.
  const json = Type.Unsafe<Record<string, T>>({
    type: 'object',
    ...(opts.key === undefined ? {} : { propertyNames: opts.key.json }),
    additionalProperties: item.json,
    ...(opts.maxKeys === undefined ? {} : { maxProperties: opts.maxKeys }),
  });
  return make(`a map of ${item.describe}`, spec, json, (value, path) => {
    if (!isPlainObject(value)) throw bad(path, `must be a map, got ${describeValue(value)}`);
    const keys = Object.keys(value);
    if (opts.maxKeys !== undefined && keys.length > opts.maxKeys) throw bad(path, `must have at most ${opts.maxKeys} keys, got ${keys.length}`);
    // Keys are client text and become own properties: a null prototype keeps `__proto__` an ordinary key.
    const out = Object.create(null) as Record<string, T>;
    for (const k of keys) {
      if (opts.key !== undefined) {
        try {
          opts.key.parse(k, 'key');
        } catch (err) {
          const why = err instanceof ParleyError ? err.message.replace(/^`key` /, '') : 'is not valid';
          throw new ParleyError('BAD_REQUEST', `${named(path)} has a key ${echo(k)} that ${why}`);
        }
      }
      out[k] = item.parse(value[k], `${path}.${k}`);
    }
    return out;
  });
}

/** Any msgpack value (still bounded by the frame size). */
export function any(): Schema<unknown> {
  return make('any value', { kind: 'any' }, Type.Unknown(), (value) => value);
}

/** What every identifier may contain besides letters, marks and digits of any script. */
export const IDENTIFIER_PUNCTUATION = '_-.@+=';

const ASCII_IDENTIFIER = /^[A-Za-z0-9_.@+=-]*$/;
const IDENTIFIER = /^[\p{L}\p{M}\p{Nd}_.@+=-]*$/u;
const FIRST_OFFENDER = /[^\p{L}\p{M}\p{Nd}_.@+=-]/u;

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The one identifier rule, for accounts, team ids, device ids, channel names
 * and idClients: 1..`max` UTF-16 code units of letters, combining marks and
 * decimal digits of any script plus `_ - . @ + =`, in Unicode normal form C
 * (so one name has one spelling). That leaves out `|` and `:` (address
 * separators), whitespace, every control character (C0, DEL, C1) and lone
 * surrogates. Returns what is wrong (a phrase such as "contains `|` (U+007C)
 * at index 3") or undefined when `value` is an identifier. Never echoes it.
 */
export function identifierProblem(value: string, max: number): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > max) return `is longer than ${max} characters (${value.length})`;
  if (ASCII_IDENTIFIER.test(value)) return undefined;
  if (!IDENTIFIER.test(value)) {
    const at = FIRST_OFFENDER.exec(value)!;
    const c = at[0];
    const code = c.charCodeAt(0);
    const where = `(${codePoint(c)}) at index ${at.index}`;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `contains a control character ${where}`;
    if (code >= 0xd800 && code <= 0xdfff) return `contains a lone UTF-16 surrogate ${where}`;
    if (/\s/u.test(c)) return `contains whitespace ${where}`;
    return `contains \`${c}\` ${where}`;
  }
  if (value.normalize('NFC') !== value) return 'is not in Unicode normal form C';
  return undefined;
}

/**
 * The JSON Schema `format` of identifiers of at most `max` code units behind
 * one of `prefixes`, registered with TypeBox on first use so its compiled
 * validators apply the one identifier rule.
 */
function identifierFormat(max: number, prefixes: readonly string[] | undefined): string {
  const name = prefixes === undefined ? `parley-identifier-${max}` : `parley-identifier-${max}-after-${prefixes.join('|')}`;
  if (!Format.Has(name)) {
    Format.Set(name, (value) => {
      let rest = value;
      if (prefixes !== undefined) {
        const dash = value.indexOf('-');
        if (dash <= 0 || !prefixes.includes(value.slice(0, dash))) return false;
        rest = value.slice(dash + 1);
      }
      return identifierProblem(rest, max) === undefined;
    });
  }
  return name;
}

export interface IdentifierOptions {
  /** Longest accepted, in UTF-16 code units (the part after the prefix, when there is one). */
  max: number;
  /** When set, the value is `<prefix>-<identifier>` with one of these prefixes (a session id). */
  prefixes?: readonly string[];
  /** How an error names what is expected; default "an identifier (1–max letters, digits or `_-.@+=`)". */
  text?: string;
}

/** An identifier under the one rule of `identifierProblem`, optionally behind a fixed prefix and `-`. */
export function identifier(opts: IdentifierOptions): Schema<string> {
  const { max, prefixes } = opts;
  const text = opts.text ?? `an identifier (1–${max} letters, digits or \`${IDENTIFIER_PUNCTUATION}\`)`;
  const longest = max + (prefixes === undefined ? 0 : Math.max(...prefixes.map((p) => p.length)) + 1);
  const json = Type.String({ maxLength: longest, format: identifierFormat(max, prefixes), description: text });
  return make(text, { kind: 'identifier', max, prefixes }, json, (value, path) => {
    if (typeof value !== 'string') throw bad(path, `must be a string, got ${describeValue(value)}`);
    if (value.length > longest) throw new ParleyError('TOO_LARGE', `${named(path)} must be at most ${longest} characters, got ${value.length}`);
    let rest = value;
    if (prefixes !== undefined) {
      const dash = value.indexOf('-');
      if (dash <= 0 || !prefixes.includes(value.slice(0, dash))) throw bad(path, `must be ${text}`);
      rest = value.slice(dash + 1);
    }
    const problem = identifierProblem(rest, max);
    if (problem !== undefined) throw bad(path, `must be ${text}: ${prefixes === undefined ? 'it' : 'the part after the first `-`'} ${problem}`);
    return value;
  });
}

/** The members of a map schema, each with its own schema. */
export type Shape = Record<string, Schema<unknown>>;
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

/** Only decoded msgpack maps qualify: not lists, binary, or any object made from a class (a Date, a Set, a decoder's marker). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A map with known members. Unknown members are dropped (clients may send
 * newer options); missing required members fail naming the member.
 */
export interface ObjectSchema<S extends Shape> extends Schema<ObjectOf<S>> {
  readonly shape: S;
  /** The member-by-member walk alone: what `parse` falls back to once the compiled check fails. */
  explain(value: unknown, path: string): ObjectOf<S>;
}

export function object<S extends Shape>(shape: S): ObjectSchema<S> {
  const keys = Object.keys(shape);
  const json = Type.Object(Object.fromEntries(keys.map((k) => [k, shape[k]!.optional ? Type.Optional(shape[k]!.json) : shape[k]!.json])));
  const explain = (value: unknown, path: string): ObjectOf<S> => {
    const input = value === undefined || value === null ? {} : value;
    if (!isPlainObject(input)) throw bad(path, `must be a map, got ${describeValue(value)}`);
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
  };
  // Compiled on first use, so a process pays only for the methods it serves.
  let validator: ReturnType<typeof Compile> | undefined;
  let shaper: Shaper | undefined;
  const spec: Spec = { kind: 'object', shape };
  const schema = make('a map', spec, json, (value, path) => {
    shaper ??= shaperOf(spec)!;
    validator ??= Compile(json);
    const shaped = shaper(value === undefined || value === null ? {} : value);
    if (shaped !== MISSHAPEN && validator.Check(shaped)) return shaped as ObjectOf<S>;
    return explain(value, path);
  });
  return { ...schema, shape, explain };
}

/** What a shaper returns for a value that cannot pass (a list where a map belongs, a required member missing). */
const MISSHAPEN: unique symbol = Symbol('misshapen');

type Shaper = (value: unknown) => unknown;

/**
 * The pass that makes a value what `parse` returns once valid: maps keep
 * only their declared members, nil members are left out or take their
 * default, maps keyed by client text get a null prototype. Checks nothing
 * else; the compiled validator runs on the result. Undefined for a leaf,
 * which is kept as it is. Built once per schema, so a call walks arrays of
 * members rather than the declaration.
 */
function shaperOf(spec: Spec): Shaper | undefined {
  switch (spec.kind) {
    case 'object': {
      const members = Object.keys(spec.shape).map((key) => {
        const schema = spec.shape[key]!;
        return { key, schema, shape: shaperOf(schema.spec) };
      });
      return (value) => {
        if (!isPlainObject(value)) return MISSHAPEN;
        const out: Record<string, unknown> = {};
        for (let i = 0; i < members.length; i++) {
          const { key, schema, shape } = members[i]!;
          const v = value[key];
          if (v === undefined || v === null) {
            if (!schema.optional) return MISSHAPEN;
            if (schema.defaulted === true) out[key] = schema.parse(undefined, key);
            continue;
          }
          if (shape === undefined) {
            out[key] = v;
            continue;
          }
          const shaped = shape(v);
          if (shaped === MISSHAPEN) return MISSHAPEN;
          out[key] = shaped;
        }
        return out;
      };
    }
    case 'record': {
      const item = shaperOf(spec.item.spec);
      return (value) => {
        if (!isPlainObject(value)) return MISSHAPEN;
        const out = Object.create(null) as Record<string, unknown>;
        for (const key of Object.keys(value)) {
          const shaped = item === undefined ? value[key] : item(value[key]);
          if (shaped === MISSHAPEN) return MISSHAPEN;
          out[key] = shaped;
        }
        return out;
      };
    }
    case 'array': {
      const item = shaperOf(spec.item.spec);
      return (value) => {
        if (!Array.isArray(value)) return MISSHAPEN;
        if (item === undefined) return value.slice();
        const out: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const shaped = item(value[i]);
          if (shaped === MISSHAPEN) return MISSHAPEN;
          out[i] = shaped;
        }
        return out;
      };
    }
    default:
      return undefined;
  }
}

/** Makes a member optional; with `fallback` the missing value is filled in. */
export function optional<T>(schema: Schema<T>): Schema<T | undefined> & { optional: true };
export function optional<T>(schema: Schema<T>, fallback: T | (() => T)): Schema<T> & { optional: true; defaulted: true };
export function optional<T>(schema: Schema<T>, fallback?: T | (() => T)): Schema<T | undefined> & { optional: true } {
  return {
    optional: true,
    defaulted: fallback !== undefined,
    describe: schema.describe,
    spec: schema.spec,
    json: fallback === undefined || typeof fallback === 'function' ? schema.json : { ...schema.json, default: fallback },
    parse(value, path) {
      if (value === undefined || value === null) {
        if (fallback === undefined) return undefined;
        return typeof fallback === 'function' ? (fallback as () => T)() : fallback;
      }
      return schema.parse(value, path);
    },
  };
}
