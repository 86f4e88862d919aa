/**
 * The codec's own msgpack writer (engine/protocol/writer.ts) makes exactly
 * the bytes msgpackr's packer makes with the codec's options, for any value:
 * plain data it writes itself, anything else it hands over. Checked on
 * generated values and on the edges of every header size, and on bytes
 * handed out earlier staying as they were while later values fill and
 * replace the chunk.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decode, encode, encodeWithPackr } from '../../engine/protocol/codec.ts';

function same(value: unknown): void {
  expect(Buffer.from(encode(value)).toString('hex')).toBe(Buffer.from(encodeWithPackr(value)).toString('hex'));
}

const numbers = fc.oneof(
  fc.integer(),
  fc.integer({ min: -0x80000000, max: 0xffffffff }),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(0, -0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 2 ** 32, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -(2 ** 31), -(2 ** 31) - 1, NaN, Infinity, -Infinity, 1.5, Date.now()),
);
const strings = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ minLength: 0x1e, maxLength: 0x22 }),
  fc.string({ unit: 'grapheme', minLength: 0x50, maxLength: 0x60 }),
  fc.constantFrom('', 'é', '\ud800', 'a\udc00b', '😀', 'x'.repeat(0x1f), 'x'.repeat(0x20), 'x'.repeat(0xff), 'x'.repeat(0x100), 'é'.repeat(0x80), 'x'.repeat(0xffff), 'x'.repeat(0x10000)),
);
const leaf = fc.oneof(strings, numbers, fc.boolean(), fc.constant(null), fc.constant(undefined), fc.uint8Array({ maxLength: 40 }));
const values = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 20 }),
  map: fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('seq', 'idClient', '0', '12', 'é')), tie('value'), { maxKeys: 20 }),
})).value;

describe('the plain msgpack writer', () => {
  it('writes what msgpackr writes, for generated values', () => {
    fc.assert(fc.property(values, (v) => same(v)), { numRuns: 3000 });
  });

  it('writes what msgpackr writes at every header size of strings, lists and maps', () => {
    for (const n of [0, 15, 16, 0xff, 0x100, 0xffff, 0x10000]) {
      same(Array.from({ length: n }, (_, i) => i));
      same(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
    }
    for (const s of ['x'.repeat(0x1f), 'é'.repeat(0x10), 'é'.repeat(0x7f), 'é'.repeat(0x80), '😀'.repeat(0x4000), '😀'.repeat(0x4001)]) same(s);
    // Undefined members are left out of maps (and counted out of their headers), written as nil in lists.
    same({ a: undefined, b: 1 });
    same(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i % 2 === 0 ? undefined : i])));
    same([undefined, 1, undefined]);
  });

  it('hands over what is not plain data, inside plain data too', () => {
    class Point {
      x = 1;
    }
    const values: unknown[] = [new Date(0), new Map([['a', 1]]), new Set([1]), 12n, new Point(), Buffer.from('ab'), new Uint8Array([1, 2]), Object.create(null), { when: new Date(5), list: [new Map(), 2n] }];
    for (const v of values) same(v);
  });

  it('keeps the bytes it gave out while later values fill and replace its chunk', () => {
    const given: Array<{ value: unknown; bytes: Uint8Array }> = [];
    for (let i = 0; i < 400; i++) {
      const value = { i, text: 'y'.repeat(i * 37 % 9000), list: [i, `n${i}`] };
      given.push({ value, bytes: encode(value) });
    }
    for (const { value, bytes } of given) expect(decode(bytes)).toEqual(value);
  });
});
