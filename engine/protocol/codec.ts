/**
 * MessagePack codec. Client frames are standard msgpack: no extension types,
 * maps with string keys, integers as integers. Browser-safe.
 */
import { Packr, Unpackr } from 'msgpackr';

// Undefined members are left out rather than written as an extension type.
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
