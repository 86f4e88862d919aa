/**
 * MessagePack codec. Client frames are standard msgpack: no extension types,
 * maps with string keys, integers as integers. Browser-safe.
 */
import { Packr, Unpackr } from 'msgpackr';

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

/** Encodes one value as standard msgpack bytes. */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes exactly one msgpack value; throws when the bytes are not one complete value. */
export function decode(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

/**
 * A map of up to 15 members whose values are already encoded: lets a
 * component wrap bytes it forwards (an actor's result) without decoding them.
 */
export function encodeMapOfRaw(members: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  if (members.length > 15) throw new RangeError('encodeMapOfRaw takes at most 15 members');
  const parts = members.map(([key, value]) => [encode(key), value] as const);
  let size = 1;
  for (const [k, v] of parts) size += k.length + v.length;
  const out = new Uint8Array(size);
  out[0] = 0x80 | members.length;
  let at = 1;
  for (const [k, v] of parts) {
    out.set(k, at);
    at += k.length;
    out.set(v, at);
    at += v.length;
  }
  return out;
}
