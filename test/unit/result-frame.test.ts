import { describe, expect, it } from 'vitest';
import { decode, encode, encodeMapOfRaw } from '../../engine/protocol/codec.ts';
import { resultFrame } from '../../edge/frames.ts';

describe('resultFrame', () => {
  const results = [encode({ seq: 7, text: 'hi' }), encode(null), encode('x'.repeat(300)), encode([1, 2, 3])];
  const ids = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1];

  it('makes the bytes of `{id, r}` with `r` spliced, for every width of id', () => {
    for (const id of ids) {
      for (const r of results) {
        const frame = resultFrame(id, r);
        expect(Buffer.from(frame).equals(Buffer.from(encodeMapOfRaw([['id', encode(id)], ['r', r]])))).toBe(true);
        expect(Buffer.from(frame).equals(Buffer.from(encode({ id, r: decode(r) })))).toBe(true);
      }
    }
  });

  it('decodes to the id and the result', () => {
    expect(decode(resultFrame(300, encode({ ok: true })))).toEqual({ id: 300, r: { ok: true } });
    expect(decode(resultFrame(70_000, encode(5)))).toEqual({ id: 70_000, r: 5 });
  });
});
