import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IdServerGenerator, idDecimal } from '../../engine/ids.ts';

const exact = (time: number, low: number) => ((BigInt(time) << 22n) | BigInt(low)).toString();

describe('server ids', () => {
  it('writes time · 2^22 + low exactly, over the whole 41-bit time range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 41 - 1 }), fc.integer({ min: 0, max: 2 ** 22 - 1 }), (time, low) => {
        expect(idDecimal(time, low)).toBe(exact(time, low));
      }),
      { numRuns: 20_000 },
    );
  });

  it('is exact at the edges of its parts', () => {
    const times = [0, 1, 999_999, 1_000_000, 1_000_001, 2 ** 41 - 1, 1_764_000_000_000 - 1_600_000_000_000];
    const lows = [0, 1, 999_999, 1_000_000, 2 ** 22 - 1];
    for (const t of times) for (const l of lows) expect(idDecimal(t, l)).toBe(exact(t, l));
  });

  it('numbers ids in order within a millisecond, and borrows the next one after 4096', () => {
    const ids = new IdServerGenerator('node-a');
    const now = 1_764_000_000_000;
    const made = Array.from({ length: 5000 }, () => BigInt(ids.next(now)));
    for (let i = 1; i < made.length; i++) expect(made[i]! > made[i - 1]!).toBe(true);
    expect(made[4096]! >> 22n).toBe(BigInt(now + 1 - 1_600_000_000_000));
    // A clock that steps back keeps the ids rising.
    expect(BigInt(ids.next(now - 5)) > made[4999]!).toBe(true);
  });

  it('keeps the node discriminator in bits 12 to 21', () => {
    const a = BigInt(new IdServerGenerator('node-a').next(1_764_000_000_000));
    const b = BigInt(new IdServerGenerator('node-b').next(1_764_000_000_000));
    expect(a >> 22n).toBe(b >> 22n);
    expect((a >> 12n) & 0x3ffn).not.toBe((b >> 12n) & 0x3ffn);
  });
});
