import { describe, expect, it } from 'vitest';
import { decode, encode, encodeBin, encodeMapOfOne, encodeMapOfRaw, encodeMapOfRawAndBin, encodeString, encodeUint, encodeWithRawMember, encodingOf, extendMap, joinBytes, rememberEncoding, withRawMember } from '../../engine/protocol/codec.ts';

/** A map of `n` members of mixed types. */
function mapOf(n: number): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) m[`k${i}`] = i % 3 === 0 ? i : i % 3 === 1 ? `v${i}` : { nested: [i, true] };
  return m;
}

describe('extendMap', () => {
  for (const n of [0, 3, 12, 13, 15, 16, 20, 70_000]) {
    it(`adds members to a map of ${n}: the bytes encode({...a, ...b}) makes`, () => {
      const a = mapOf(n);
      const extra = { flow: 'in', sessionId: 'p2p-bob', target: 'bob' };
      const spliced = extendMap(encode(a), extra);
      expect(decode(spliced)).toEqual({ ...a, ...extra });
      expect(Buffer.from(spliced).equals(Buffer.from(encode({ ...a, ...extra })))).toBe(true);
    });
  }

  it('leaves out undefined members of the extra map, as encode does', () => {
    const spliced = extendMap(encode({ a: 1 }), { b: undefined, c: 2 });
    expect(decode(spliced)).toEqual({ a: 1, c: 2 });
  });

  it('refuses bytes that are not a map', () => {
    expect(() => extendMap(encode([1, 2]), { a: 1 })).toThrow(/encoded map/);
  });
});

describe('rememberEncoding', () => {
  it('keeps bytes for an object and nothing for others', () => {
    const value = { x: 1 };
    const bytes = encode(value);
    expect(rememberEncoding(value, bytes)).toBe(value);
    expect(encodingOf(value)).toBe(bytes);
    expect(encodingOf({ x: 1 })).toBeUndefined();
    expect(encodingOf(7)).toBeUndefined();
    expect(encodingOf(null)).toBeUndefined();
  });

  it('spliced into a reply, reads as the reply it stands for', () => {
    const r = { seq: 3, text: 'hi' };
    expect(decode(encodeMapOfRaw([['r', encode(r)]]))).toEqual({ r });
    expect(Buffer.from(encodeMapOfOne('r', encode(r))).equals(Buffer.from(encode({ r })))).toBe(true);
  });

  it('is not seen by a spread, Object.keys or the encoder, and a frozen value keeps none', () => {
    const value = rememberEncoding({ x: 1 }, encode({ x: 1 }));
    expect(Object.keys(value)).toEqual(['x']);
    expect(encodingOf({ ...value })).toBeUndefined();
    expect(Buffer.from(encode(value)).equals(Buffer.from(encode({ x: 1 })))).toBe(true);
    const other = encode({ x: 2 });
    expect(encodingOf(rememberEncoding(value, other))).toBe(other);
    const frozen = Object.freeze({ y: 1 });
    expect(encodingOf(rememberEncoding(frozen, encode(frozen)))).toBeUndefined();
  });
});

describe('encodeMapOfOne and joinBytes', () => {
  for (const key of ['r', 'd', 'a-key-longer-than-thirty-two-characters']) {
    it(`make the bytes encode makes, with key ${key}`, () => {
      const value = { seq: 9, text: 'héllo', list: [1, 'two'] };
      expect(Buffer.from(encodeMapOfOne(key, encode(value))).equals(Buffer.from(encode({ [key]: value })))).toBe(true);
      const head = encodeMapOfRaw([['ev', encode('msg')], [key, new Uint8Array(0)]]);
      expect(Buffer.from(joinBytes(head, encode(value))).equals(Buffer.from(encode({ ev: 'msg', [key]: value })))).toBe(true);
    });
  }
});

describe('withRawMember', () => {
  for (const n of [0, 14, 15, 16, 70_000]) {
    it(`adds one member already encoded to a map of ${n}: the bytes encode({...a, [key]: value}) makes`, () => {
      const a = mapOf(n);
      const value = { seq: 7, text: 'héllo', nested: [1, { b: true }] };
      const spliced = withRawMember(encode(a), 'lastMsg', encode(value));
      expect(Buffer.from(spliced).equals(Buffer.from(encode({ ...a, lastMsg: value })))).toBe(true);
    });
  }
  it('refuses bytes that are not a map', () => {
    expect(() => withRawMember(encode([1]), 'k', encode(1))).toThrow(TypeError);
  });
});

describe('encodeBin and encodeMapOfRaw', () => {
  for (const n of [0, 31, 255, 256, 65_535, 65_536]) {
    it(`write ${n} bytes as the bin value encode() makes`, () => {
      const bytes = new Uint8Array(n).map((_, i) => i & 0xff);
      expect(Buffer.from(encodeBin(bytes)).equals(Buffer.from(encode(bytes)))).toBe(true);
    });
  }
  it('make the map encode() makes, keys encoded once and kept', () => {
    const f = new Uint8Array([1, 2, 3]);
    for (let i = 0; i < 3; i++) {
      const spliced = encodeMapOfRaw([['x', encode(`conn-${i}`)], ['f', encodeBin(f)], ['a-key-longer-than-thirty-two-characters', encode(i)]]);
      expect(Buffer.from(spliced).equals(Buffer.from(encode({ x: `conn-${i}`, f, 'a-key-longer-than-thirty-two-characters': i })))).toBe(true);
    }
  });
});

describe('encodeMapOfRawAndBin', () => {
  for (const n of [0, 31, 255, 256, 65_535, 65_536]) {
    it(`makes the map encode() makes with ${n} bytes as its last member, with and without members before`, () => {
      const f = new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
      expect(Buffer.from(encodeMapOfRawAndBin([], 'f', f)).equals(Buffer.from(encode({ f })))).toBe(true);
      const members: [string, Uint8Array][] = [['x', encodeString(`conn-${n}`)], ['a-key-longer-than-thirty-two-characters', encode(n)]];
      const spliced = encodeMapOfRawAndBin(members, 'f', f);
      expect(Buffer.from(spliced).equals(Buffer.from(encodeMapOfRaw([...members, ['f', encodeBin(f)]])))).toBe(true);
      const read = decode(spliced) as { x: string; f: Uint8Array };
      expect(Object.keys(read)).toEqual(['x', 'a-key-longer-than-thirty-two-characters', 'f']);
      expect(Buffer.from(read.f).equals(Buffer.from(f))).toBe(true);
    });
  }
});

describe('encodeWithRawMember', () => {
  for (const n of [0, 5, 14, 15, 16, 70_000]) {
    it(`encodes a map of ${n} with one member as given bytes: the bytes encode({...a, [key]: value}) makes, a unchanged`, () => {
      const a: Record<string, unknown> = { ...mapOf(n), msg: { text: 'hi', seq: 3 } };
      const before = { ...a };
      const spliced = encodeWithRawMember(a, 'msg', encode(a.msg));
      const { msg, ...rest } = a;
      expect(Buffer.from(spliced).equals(Buffer.from(encode({ ...rest, msg })))).toBe(true);
      expect(a).toStrictEqual(before);
    });
  }

  it('puts the member back when encoding the rest throws', () => {
    const a = { msg: 1, bad: 10n ** 40n };
    expect(() => encodeWithRawMember(a, 'msg', encode(1))).toThrow();
    expect(a.msg).toBe(1);
  });
});

describe('encodeString and encodeUint', () => {
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
  it('make the bytes encode makes, on the short ASCII path and off it', () => {
    for (const s of ['', 'a', 'user:bob', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'é', `${'a'.repeat(40)}\u00ff`, 'abc\u{1f600}']) {
      expect(same(encodeString(s), encode(s)), JSON.stringify(s.slice(0, 8))).toBe(true);
    }
    for (const n of [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, 1.5]) {
      expect(same(encodeUint(n), encode(n)), String(n)).toBe(true);
    }
  });

  it('splice into a map that decodes as the object would', () => {
    const bytes = encodeMapOfRaw([['to', encodeString('conv:p2p:a:b')], ['q', encodeUint(70_000)], ['a', encode({ text: 'hi' })]]);
    expect(decode(bytes)).toEqual({ to: 'conv:p2p:a:b', q: 70_000, a: { text: 'hi' } });
    expect(same(bytes, encode({ to: 'conv:p2p:a:b', q: 70_000, a: { text: 'hi' } }))).toBe(true);
  });
});
