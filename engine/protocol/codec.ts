/**
 * MessagePack codec. Client frames are standard msgpack: no extension types,
 * maps with string keys, integers as integers. Browser-safe.
 */
import { Packr, Unpackr } from 'msgpackr';
import { ParleyError } from './errors.ts';
import { PlainWriter, writerAvailable } from './writer.ts';

// Maps get the smallest header for their size, which decoders read fastest; undefined members are
// left out rather than written as an extension type.
const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  skipValues: [undefined],
} as ConstructorParameters<typeof Packr>[0]);
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: true, int64AsType: 'number' });

/**
 * Room for `n` bytes the caller fills entirely. Under Node a slice of
 * Buffer's shared pool (no zero-filling, and no backing store of its own for
 * small sizes); a plain array elsewhere (the browser). The bytes may sit at
 * an offset of their ArrayBuffer: code reaching `.buffer` uses `byteOffset`.
 */
const nodePool = (globalThis as Record<string, unknown>)['Buffer'] as { allocUnsafe?: (n: number) => Uint8Array } | undefined;
const alloc: (n: number) => Uint8Array =
  typeof nodePool?.allocUnsafe === 'function' ? (n) => nodePool.allocUnsafe!(n) : (n) => new Uint8Array(n);

/** Writes `n` as a big-endian uint32 at `out[at]`. */
function setU32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
}

/** Writes the plain data Parley encodes, byte for byte as `packr` would, and hands it the rest (writer.ts); absent in a browser. */
const writer = writerAvailable ? new PlainWriter(packr) : undefined;

/** Encodes one value as standard msgpack bytes. */
export function encode(value: unknown): Uint8Array {
  return writer !== undefined ? writer.encode(value) : packr.pack(value);
}

/** What msgpackr's packer alone makes of `value`, which `encode` matches byte for byte (for the writer's tests). */
export function encodeWithPackr(value: unknown): Uint8Array {
  return packr.pack(value);
}

/**
 * What `encode(s)` makes for a string: written here for a short ASCII one
 * (an address, a method, a socket's name), which costs no pass through the
 * packer, else by `encode`.
 */
export function encodeString(s: string): Uint8Array {
  const n = s.length;
  if (n > 0xff) return encode(s);
  const header = n < 32 ? 1 : 2;
  const out = alloc(header + n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return encode(s);
    out[header + i] = c;
  }
  if (header === 1) out[0] = 0xa0 | n;
  else {
    out[0] = 0xd9;
    out[1] = n;
  }
  return out;
}

/** What `encode(n)` makes for a non-negative safe integer, written without the packer. */
export function encodeUint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) return encode(n);
  if (n < 0x80) {
    const out = alloc(1);
    out[0] = n;
    return out;
  }
  if (n < 0x100) {
    const out = alloc(2);
    out[0] = 0xcc;
    out[1] = n;
    return out;
  }
  if (n < 0x10000) {
    const out = alloc(3);
    out[0] = 0xcd;
    out[1] = n >> 8;
    out[2] = n & 0xff;
    return out;
  }
  if (n < 0x100000000) {
    const out = alloc(5);
    out[0] = 0xce;
    setU32(out, 1, n);
    return out;
  }
  return encode(n);
}

/** Decodes exactly one msgpack value; throws when the bytes are not one complete value. For the engine's own bytes. */
export function decode(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

/** Deepest nesting of lists and maps accepted in a client frame (the request map itself is depth 1). */
export const MAX_FRAME_DEPTH = 32;

/** A client frame refused at decode: BAD_REQUEST, with the request `id` when the frame's top-level map showed one (else 0). */
export class FrameError extends ParleyError {
  readonly requestId: number;

  constructor(message: string, requestId: number) {
    super('BAD_REQUEST', message);
    this.requestId = requestId;
  }
}

/**
 * Decodes a client frame strictly: exactly one standard msgpack value, with
 * no extension type (ext 8/16/32, fixext 1–16, hence none of msgpackr's own:
 * records, BigInt, timestamps, sets…), no reserved byte 0xc1, only string map
 * keys and at most `MAX_FRAME_DEPTH` levels. Throws FrameError naming the
 * member at fault. The bytes are checked before msgpackr sees them, so no
 * extension code ever runs on a client's bytes.
 */
export function decodeRequest(bytes: Uint8Array): unknown {
  const problem = scan(bytes);
  if (problem !== undefined) throw new FrameError(problem, scannedId);
  try {
    return unpackr.unpack(bytes);
  } catch {
    // The scan framed the value, so msgpackr failing means a case the scan let through: still the client's bytes.
    throw new FrameError('the frame is not one standard MessagePack value', scannedId);
  }
}

// The scan keeps, per open list or map, how many values it holds and how many are still to come (for a map of n
// members 2n, where an even count left means a key comes next). Typed arrays and module state keep the hot path free of allocation.
const pending = new Uint32Array(MAX_FRAME_DEPTH + 1);
const total = new Uint32Array(MAX_FRAME_DEPTH + 1);
const isMap = new Uint8Array(MAX_FRAME_DEPTH + 1);
/** Start and end of the current key of each open map, and the index in each open list, to name a member. */
const keyStart = new Uint32Array(MAX_FRAME_DEPTH + 1);
const keyEnd = new Uint32Array(MAX_FRAME_DEPTH + 1);
const itemIndex = new Uint32Array(MAX_FRAME_DEPTH + 1);
let scannedId = 0;
const utf8 = new TextDecoder();

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/** The member at `depth` as an error names it: `a.scene` as `scene` (schema paths start inside `a`), `a` as `a`. */
function memberPath(b: Uint8Array, depth: number): string {
  let path = '';
  for (let d = 1; d <= depth; d++) {
    if (path.length > 80) return `${path}…`;
    if (isMap[d] === 1) {
      const key = utf8.decode(b.subarray(keyStart[d], keyEnd[d]));
      const shown = key.length > 40 || !/^[\w$-]*$/.test(key) ? '…' : key;
      path = path === '' ? shown : `${path}.${shown}`;
    } else {
      path += `[${itemIndex[d]}]`;
    }
  }
  return path.startsWith('a.') ? path.slice(2) : path;
}

const EXT_NAMES: Record<number, string> = { 0x42: "msgpackr's big integer", 0x72: "msgpackr's record", 0x73: "msgpackr's set", 0x74: "msgpackr's typed array", 0x78: "msgpackr's regular expression", 0x65: "msgpackr's error", 0x62: "msgpackr's string bundle", 0x69: "msgpackr's reference", 0x70: "msgpackr's reference", 0xff: 'a timestamp' };

/** Checks `b` as a client frame; returns what is wrong, or undefined. Sets `scannedId` to the top-level `id` when seen. */
function scan(b: Uint8Array): string | undefined {
  const end = b.length;
  let at = 0;
  let depth = 0;
  let remaining = 1; // values still to read at the current depth (depth 0: the frame itself)
  let problem: string | undefined;
  let idNext = false; // the value about to be read is the top-level map's `id`
  scannedId = 0;
  for (;;) {
    while (remaining === 0) {
      if (depth === 0) {
        if (at !== end) return problem ?? 'the frame has bytes after its MessagePack value';
        return problem;
      }
      depth--;
      remaining = pending[depth]!;
    }
    if (at >= end) return problem ?? 'the frame ends inside a MessagePack value';
    const atKey = depth > 0 && isMap[depth] === 1 && (remaining & 1) === 0;
    if (depth > 0 && isMap[depth] === 0) itemIndex[depth] = total[depth]! - remaining;
    remaining--;
    const token = b[at++]!;
    let skip = 0; // payload bytes after the header
    let children = -1; // items of a list or members of a map that opens here
    let map = false;
    let ext = -1; // an extension's payload length
    let str = false;
    if (token <= 0x7f || token >= 0xe0) {
      // fixint
      if (idNext && token <= 0x7f) scannedId = token;
    } else if (token <= 0x8f) {
      children = token & 0x0f;
      map = true;
    } else if (token <= 0x9f) {
      children = token & 0x0f;
    } else if (token <= 0xbf) {
      skip = token & 0x1f;
      str = true;
    } else {
      switch (token) {
        case 0xc0: case 0xc2: case 0xc3: break;
        case 0xc1: problem ??= `${named(b, depth, atKey)} is the reserved byte 0xc1, which is not a MessagePack value`; break;
        case 0xc4: if (at + 1 > end) return problem ?? 'the frame ends inside a MessagePack value'; skip = b[at]!; at += 1; break;
        case 0xc5: if (at + 2 > end) return problem ?? 'the frame ends inside a MessagePack value'; skip = u16(b, at); at += 2; break;
        case 0xc6: if (at + 4 > end) return problem ?? 'the frame ends inside a MessagePack value'; skip = u32(b, at); at += 4; break;
        case 0xc7: if (at + 1 > end) return problem ?? 'the frame ends inside a MessagePack value'; ext = b[at]!; at += 1; break;
        case 0xc8: if (at + 2 > end) return problem ?? 'the frame ends inside a MessagePack value'; ext = u16(b, at); at += 2; break;
        case 0xc9: if (at + 4 > end) return problem ?? 'the frame ends inside a MessagePack value'; ext = u32(b, at); at += 4; break;
        case 0xca: skip = 4; break;
        case 0xcb: skip = 8; break;
        case 0xcc:
          if (idNext && at < end) scannedId = b[at]!;
          skip = 1;
          break;
        case 0xcd:
          if (idNext && at + 2 <= end) scannedId = u16(b, at);
          skip = 2;
          break;
        case 0xce:
          if (idNext && at + 4 <= end) scannedId = u32(b, at);
          skip = 4;
          break;
        case 0xcf:
          if (idNext && at + 8 <= end && u32(b, at) < 0x200000) scannedId = u32(b, at) * 0x100000000 + u32(b, at + 4);
          skip = 8;
          break;
        case 0xd0: skip = 1; break;
        case 0xd1: skip = 2; break;
        case 0xd2: skip = 4; break;
        case 0xd3: skip = 8; break;
        case 0xd4: ext = 1; break;
        case 0xd5: ext = 2; break;
        case 0xd6: ext = 4; break;
        case 0xd7: ext = 8; break;
        case 0xd8: ext = 16; break;
        case 0xd9: if (at + 1 > end) return problem ?? 'the frame ends inside a MessagePack value'; skip = b[at]!; at += 1; str = true; break;
        case 0xda: if (at + 2 > end) return problem ?? 'the frame ends inside a MessagePack value'; skip = u16(b, at); at += 2; str = true; break;
        case 0xdb: if (at + 4 > end) return problem ?? 'the frame ends inside a MessagePack value'; skip = u32(b, at); at += 4; str = true; break;
        case 0xdc: if (at + 2 > end) return problem ?? 'the frame ends inside a MessagePack value'; children = u16(b, at); at += 2; break;
        case 0xdd: if (at + 4 > end) return problem ?? 'the frame ends inside a MessagePack value'; children = u32(b, at); at += 4; break;
        case 0xde: if (at + 2 > end) return problem ?? 'the frame ends inside a MessagePack value'; children = u16(b, at); at += 2; map = true; break;
        default: /* 0xdf */ if (at + 4 > end) return problem ?? 'the frame ends inside a MessagePack value'; children = u32(b, at); at += 4; map = true; break;
      }
    }
    idNext = false;
    if (ext >= 0) {
      if (at >= end) return problem ?? 'the frame ends inside a MessagePack value';
      const type = b[at]!;
      if (problem === undefined) {
        const what = EXT_NAMES[type] ?? `type ${type > 127 ? type - 256 : type}`;
        problem = `${named(b, depth, atKey)} is a MessagePack extension (${what}); frames carry standard MessagePack without extension types`;
      }
      skip = ext + 1;
    }
    if (atKey) {
      if (!str) problem ??= `${named(b, depth, true)} has a key that is not a string; map keys must be strings`;
      keyStart[depth] = at;
      keyEnd[depth] = at + skip;
      // The top-level map's `id`: the value after a key of exactly "id".
      if (depth === 1 && skip === 2 && b[at] === 0x69 && b[at + 1] === 0x64) idNext = true;
    }
    if (skip > end - at) return problem ?? 'the frame ends inside a MessagePack value';
    at += skip;
    if (children >= 0) {
      const count = map ? children * 2 : children;
      // Every value takes at least one byte: a count beyond the bytes left is a truncated frame, found without looping.
      if (count > end - at) return problem ?? 'the frame ends inside a MessagePack value';
      // Named by the argument that holds it (depth 2 is a member of `a`), not by a path as deep as the limit.
      if (depth === MAX_FRAME_DEPTH) return problem ?? `${named(b, 2, false)} nests lists and maps deeper than ${MAX_FRAME_DEPTH} levels`;
      pending[depth] = remaining;
      depth++;
      isMap[depth] = map ? 1 : 0;
      total[depth] = count;
      remaining = count;
    }
  }
}

/** Names the value being read at `depth` (a key names its map). */
function named(b: Uint8Array, depth: number, atKey: boolean): string {
  const path = depth === 0 ? '' : memberPath(b, atKey ? depth - 1 : depth);
  return path === '' ? 'the frame' : `\`${path}\``;
}

/**
 * A map of up to 15 members whose values are already encoded: lets a
 * component wrap bytes it forwards (an actor's result) without decoding them.
 */
export function encodeMapOfRaw(members: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  const n = members.length;
  if (n > 15) throw new RangeError('encodeMapOfRaw takes at most 15 members');
  const out = alloc(1 + membersSize(members));
  out[0] = 0x80 | n;
  writeMembers(out, 1, members);
  return out;
}

/** `encodeMapOfRaw([[key, value]])` without the lists: what an actor's `{r}` reply is. */
export function encodeMapOfOne(key: string, value: Uint8Array): Uint8Array {
  const k = keyBytes(key);
  const out = alloc(1 + k.byteLength + value.byteLength);
  out[0] = 0x81;
  out.set(k, 1);
  out.set(value, 1 + k.byteLength);
  return out;
}

/**
 * `head` then `tail` in one new array: a map whose members but the last are
 * constant (its header and those members, encoded once as `head`), with the
 * last member's encoded value as `tail`.
 */
export function joinBytes(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = alloc(head.byteLength + tail.byteLength);
  out.set(head, 0);
  out.set(tail, head.byteLength);
  return out;
}

/** Bytes of `members` written as map members: each key's encoding, then its value as given. */
function membersSize(members: ReadonlyArray<readonly [string, Uint8Array]>): number {
  let size = 0;
  for (let i = 0; i < members.length; i++) size += keyBytes(members[i]![0]).byteLength + members[i]![1].byteLength;
  return size;
}

/** Writes `members` at `out[at]` (see `membersSize`); returns the position after them. */
function writeMembers(out: Uint8Array, at: number, members: ReadonlyArray<readonly [string, Uint8Array]>): number {
  for (let i = 0; i < members.length; i++) {
    const k = keyBytes(members[i]![0]);
    out.set(k, at);
    at += k.byteLength;
    const v = members[i]![1];
    out.set(v, at);
    at += v.byteLength;
  }
  return at;
}

/**
 * What `encodeMapOfRaw([...members, [key, encodeBin(bytes)]])` makes, in one
 * allocation: the bytes are copied once, into the map, rather than into a
 * bin value first and then into the map (a delivery envelope carries a whole
 * frame this way).
 */
export function encodeMapOfRawAndBin(members: ReadonlyArray<readonly [string, Uint8Array]>, key: string, bytes: Uint8Array): Uint8Array {
  const n = members.length + 1;
  if (n > 15) throw new RangeError('encodeMapOfRawAndBin takes at most 14 members besides the bytes');
  const k = keyBytes(key);
  const length = bytes.byteLength;
  const out = alloc(1 + membersSize(members) + k.byteLength + binHeaderSize(length) + length);
  out[0] = 0x80 | n;
  let at = writeMembers(out, 1, members);
  out.set(k, at);
  at += k.byteLength;
  out.set(bytes, writeBinHeader(out, at, length));
  return out;
}

/** Encoded map keys met so far: the engine splices a handful of fixed ones, so the table stays small. */
const encodedKeys = new Map<string, Uint8Array>();
/** Keys longer than this are encoded each time rather than kept. */
const MAX_KEPT_KEY_CHARS = 32;

function keyBytes(key: string): Uint8Array {
  let bytes = encodedKeys.get(key);
  if (bytes === undefined) {
    bytes = new Uint8Array(encode(key)); // a copy: the packer's output is a view of its shared buffer
    if (key.length <= MAX_KEPT_KEY_CHARS && encodedKeys.size < 1024) encodedKeys.set(key, bytes);
  }
  return bytes;
}

/** `bytes` as a msgpack bin value (what `encode(bytes)` makes), with one copy. */
export function encodeBin(bytes: Uint8Array): Uint8Array {
  const n = bytes.byteLength;
  const out = alloc(binHeaderSize(n) + n);
  out.set(bytes, writeBinHeader(out, 0, n));
  return out;
}

/** Bytes of the msgpack bin header for `n` bytes. */
function binHeaderSize(n: number): number {
  return n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** Writes the bin header for `n` bytes at `out[at]`; returns where the bytes go. */
function writeBinHeader(out: Uint8Array, at: number, n: number): number {
  if (n < 0x100) {
    out[at] = 0xc4;
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    out[at] = 0xc5;
    out[at + 1] = n >> 8;
    out[at + 2] = n & 0xff;
    return at + 3;
  }
  out[at] = 0xc6;
  setU32(out, at + 1, n);
  return at + 5;
}

/**
 * The encoded map `map` with member `key` (which it must not hold) added
 * last, its value already encoded: what `encode({...value, [key]: raw})`
 * makes from the bytes of `value`, without decoding `raw`. Lets a row or a
 * view carry a message encoded once elsewhere.
 */
export function withRawMember(map: Uint8Array, key: string, raw: Uint8Array): Uint8Array {
  const { count, header } = mapHeader(map);
  const k = keyBytes(key);
  const total = count + 1;
  const newHeader = total < 16 ? 1 : total < 0x10000 ? 3 : 5;
  const out = alloc(newHeader + map.byteLength - header + k.byteLength + raw.byteLength);
  writeMapHeader(out, total, newHeader);
  out.set(map.subarray(header), newHeader);
  let at = newHeader + map.byteLength - header;
  out.set(k, at);
  at += k.byteLength;
  out.set(raw, at);
  return out;
}

/**
 * What `encode({...value, [key]: raw})` makes, where `raw` is the encoding
 * of `value[key]`: `value` is encoded without that member, which follows
 * as the bytes given, and no copy of `value` is made. `value[key]` is
 * cleared for the encode and put back before this returns.
 */
export function encodeWithRawMember<T extends object, K extends keyof T & string>(value: T, key: K, raw: Uint8Array): Uint8Array {
  const held = value[key];
  value[key] = undefined as T[K];
  let rest: Uint8Array;
  try {
    rest = encode(value);
  } finally {
    value[key] = held;
  }
  return withRawMember(rest, key, raw);
}

function mapHeader(map: Uint8Array): { count: number; header: number } {
  const token = map[0]!;
  if (token >= 0x80 && token <= 0x8f) return { count: token & 0x0f, header: 1 };
  if (token === 0xde) return { count: (map[1]! << 8) | map[2]!, header: 3 };
  if (token === 0xdf) return { count: new DataView(map.buffer, map.byteOffset, map.byteLength).getUint32(1), header: 5 };
  throw new TypeError('expected an encoded map');
}

function writeMapHeader(out: Uint8Array, total: number, header: number): void {
  if (header === 1) out[0] = 0x80 | total;
  else if (header === 3) {
    out[0] = 0xde;
    out[1] = total >> 8;
    out[2] = total & 0xff;
  } else {
    out[0] = 0xdf;
    setU32(out, 1, total);
  }
}

/**
 * A list whose items are already encoded: lets a writer measure each item
 * once as it goes and still send them as one msgpack array (an actor's Log
 * entry), without encoding them a second time.
 */
export function encodeArrayOfRaw(items: readonly Uint8Array[]): Uint8Array {
  const n = items.length;
  const header = n < 16 ? 1 : n < 0x10000 ? 3 : 5;
  let size = header;
  for (const item of items) size += item.byteLength;
  const out = alloc(size);
  if (n < 16) out[0] = 0x90 | n;
  else if (n < 0x10000) {
    out[0] = 0xdc;
    out[1] = n >> 8;
    out[2] = n & 0xff;
  } else {
    out[0] = 0xdd;
    setU32(out, 1, n);
  }
  let at = header;
  for (const item of items) {
    out.set(item, at);
    at += item.byteLength;
  }
  return out;
}

/**
 * The encoded map `map` with the members of `extra` added after its own
 * (none of which it may hold): what `encode({...value, ...extra})` makes,
 * from the bytes of `value` encoded once. Lets one encoding of a message
 * serve every viewer's copy of it.
 */
export function extendMap(map: Uint8Array, extra: Record<string, unknown>): Uint8Array {
  return extendMapRaw(map, encode(extra));
}

/**
 * `extendMap` with the extra members given as an encoded map `more` (none
 * of whose keys `map` may hold): lets a writer keep the bytes of members it
 * adds to many maps, such as a viewer's fields on each message it sees.
 */
export function extendMapRaw(map: Uint8Array, more: Uint8Array): Uint8Array {
  const token = map[0]!;
  let count: number;
  let header: number;
  if (token >= 0x80 && token <= 0x8f) {
    count = token & 0x0f;
    header = 1;
  } else if (token === 0xde) {
    count = (map[1]! << 8) | map[2]!;
    header = 3;
  } else if (token === 0xdf) {
    count = new DataView(map.buffer, map.byteOffset, map.byteLength).getUint32(1);
    header = 5;
  } else {
    throw new TypeError('extendMap takes an encoded map');
  }
  // `extra` is a small map; its own header goes, its members follow those of `map`.
  const moreHeader = more[0]! <= 0x8f ? 1 : more[0] === 0xde ? 3 : 5;
  const moreCount = moreHeader === 1 ? more[0]! & 0x0f : moreHeader === 3 ? (more[1]! << 8) | more[2]! : new DataView(more.buffer, more.byteOffset, more.byteLength).getUint32(1);
  const total = count + moreCount;
  const newHeader = total < 16 ? 1 : total < 0x10000 ? 3 : 5;
  const out = alloc(newHeader + map.byteLength - header + more.byteLength - moreHeader);
  if (newHeader === 1) out[0] = 0x80 | total;
  else if (newHeader === 3) {
    out[0] = 0xde;
    out[1] = total >> 8;
    out[2] = total & 0xff;
  } else {
    out[0] = 0xdf;
    setU32(out, 1, total);
  }
  out.set(map.subarray(header), newHeader);
  out.set(more.subarray(moreHeader), newHeader + map.byteLength - header);
  return out;
}

/**
 * Where an object keeps its recorded encoding: a symbol-keyed property that
 * is not enumerable, so neither a spread nor `Object.keys` (nor any encoder)
 * sees it. A property rather than a WeakMap entry, because every message
 * records two or three encodings, and each WeakMap entry is an ephemeron
 * that every garbage collection must trace.
 */
const ENCODING = Symbol('parley.encoding');
const ENCODING_PROPERTY: PropertyDescriptor = { value: undefined, writable: true, enumerable: false, configurable: false };

/**
 * Records `bytes` as the encoding of `value`, which must not change after:
 * a writer that finds it (`encodingOf`) splices the bytes instead of encoding
 * the value again, as the actor host does with a reply. A frozen value keeps
 * no record.
 */
export function rememberEncoding<T extends object>(value: T, bytes: Uint8Array): T {
  const holder = value as { [ENCODING]?: Uint8Array };
  if (Object.hasOwn(holder, ENCODING)) holder[ENCODING] = bytes;
  else if (Object.isExtensible(holder)) {
    ENCODING_PROPERTY.value = bytes;
    Object.defineProperty(holder, ENCODING, ENCODING_PROPERTY);
    ENCODING_PROPERTY.value = undefined;
  }
  return value;
}

/** The encoding recorded for `value` by `rememberEncoding`, if any. */
export function encodingOf(value: unknown): Uint8Array | undefined {
  return typeof value === 'object' && value !== null ? (value as { [ENCODING]?: Uint8Array })[ENCODING] : undefined;
}
