import { describe, expect, it } from 'vitest';
import { assignPartitions } from '../../engine/actor/lease-ownership.ts';

function counts(owners: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of owners) out[o] = (out[o] ?? 0) + 1;
  return out;
}

describe('partition assignment', () => {
  it('divides partitions evenly, whatever order the hosts are listed in', () => {
    const a = assignPartitions(['h1', 'h2'], 64);
    expect(counts(a)).toEqual({ h1: 32, h2: 32 });
    expect(assignPartitions(['h2', 'h1', 'h2'], 64)).toEqual(a);
    const three = counts(assignPartitions(['a', 'b', 'c'], 64));
    expect(Object.values(three).every((n) => n === 21 || n === 22)).toBe(true);
  });

  it('moves few partitions when a host joins or leaves', () => {
    const before = assignPartitions(['h1', 'h2', 'h3'], 64);
    const after = assignPartitions(['h1', 'h2', 'h3', 'h4'], 64);
    const moved = before.filter((o, p) => after[p] !== o).length;
    expect(moved).toBeLessThan(32);
    const left = assignPartitions(['h1', 'h3'], 64);
    // Partitions of the hosts that stay mostly stay.
    const kept = before.filter((o, p) => o !== 'h2' && left[p] === o).length;
    expect(kept).toBeGreaterThan(28);
  });

  it('gives everything to a lone host and nothing to nobody', () => {
    expect(counts(assignPartitions(['solo'], 8))).toEqual({ solo: 8 });
    expect(assignPartitions([], 8)).toEqual([]);
  });
});
