import { describe, expect, it } from 'vitest';
import { encode, encodeBin, encodeMapOfRaw } from '../../engine/protocol/codec.ts';
import { readPlainDelivery } from '../../edge/delivery.ts';

/** A frame of `n` bytes. */
const frameOf = (n: number) => encode({ ev: 'msg', d: { text: 'x'.repeat(Math.max(0, n - 20)) } });

describe('readPlainDelivery', () => {
  it('reads `f` and `x` as a delivery is encoded, for every width of bin and str', () => {
    for (const size of [0, 10, 200, 255, 256, 70_000]) {
      const frame = size === 0 ? new Uint8Array(0) : frameOf(size);
      for (const x of [undefined, 'n1/7', `edge-${'e'.repeat(40)}/123456`, 'é/1']) {
        const bytes = x === undefined ? encodeMapOfRaw([['f', encodeBin(frame)]]) : encodeMapOfRaw([['x', encode(x)], ['f', encodeBin(frame)]]);
        const read = readPlainDelivery(bytes);
        expect(read).toBeDefined();
        expect(Buffer.from(read!.f).equals(Buffer.from(frame))).toBe(true);
        expect(read!.x).toBe(x);
        // msgpackr's own encoding of the same delivery reads the same.
        const plain = readPlainDelivery(encode(x === undefined ? { f: frame } : { f: frame, x }));
        expect(Buffer.from(plain!.f).equals(Buffer.from(frame))).toBe(true);
        expect(plain!.x).toBe(x);
      }
    }
  });

  it('leaves control messages and other shapes to the decoder', () => {
    const f = frameOf(50);
    for (const other of [
      { f, c: { kick: {} } },
      { f, x: 'a/1', c: { events: {} } },
      { x: 'a/1' },
      { f: 'not bytes' },
      { f, x: 7 },
      { ff: f },
      [f],
      'f',
      {},
    ]) {
      expect(readPlainDelivery(encode(other))).toBeUndefined();
    }
    expect(readPlainDelivery(new Uint8Array(0))).toBeUndefined();
  });

  it('refuses every truncation and trailing bytes', () => {
    const whole = encodeMapOfRaw([['x', encode('n1/7')], ['f', encodeBin(frameOf(300))]]);
    for (let n = 0; n < whole.length; n++) expect(readPlainDelivery(whole.subarray(0, n))).toBeUndefined();
    const longer = new Uint8Array(whole.length + 1);
    longer.set(whole);
    expect(readPlainDelivery(longer)).toBeUndefined();
  });
});
