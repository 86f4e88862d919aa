/**
 * The hot-path histogram (engine/metrics.ts) exposes exactly what a
 * prom-client Histogram with the same buckets exposes after the same
 * observations: values on a bound, between bounds, above every bound, by
 * label value and without labels.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { HotHistogram } from '../../engine/metrics.ts';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A value on a bound, just past one, or anywhere up to twice the largest. */
const value = fc.oneof(fc.constantFrom(...BUCKETS, 0), fc.double({ min: 0, max: 20, noNaN: true }), fc.constantFrom(...BUCKETS.map((b) => b * 1.0001)));

describe('HotHistogram', () => {
  it('exposes what prom-client exposes, unlabelled', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(value, { maxLength: 200 }), async (values) => {
        const ours = new Registry();
        const theirs = new Registry();
        const hot = new HotHistogram(ours, { name: 'x_seconds', help: 'h', buckets: BUCKETS });
        const reference = new Histogram({ name: 'x_seconds', help: 'h', buckets: BUCKETS, registers: [theirs] });
        for (const v of values) {
          hot.observe(v);
          reference.observe(v);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
      }),
      { numRuns: 200 },
    );
  });

  it('exposes what prom-client exposes, one series per label value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('sendText', 'login', 'getHistoryMsgs'), value), { maxLength: 200 }), async (observations) => {
        const ours = new Registry();
        const theirs = new Registry();
        const hot = new HotHistogram(ours, { name: 'y_seconds', help: 'by method', buckets: BUCKETS, labelName: 'method' });
        const reference = new Histogram({ name: 'y_seconds', help: 'by method', buckets: BUCKETS, labelNames: ['method'], registers: [theirs] });
        for (const [method, v] of observations) {
          hot.series(method).observe(v);
          reference.labels(method).observe(v);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
      }),
      { numRuns: 200 },
    );
  });

  it('names the label when a labelled histogram is observed without one', () => {
    const hot = new HotHistogram(new Registry(), { name: 'w_seconds', help: 'h', buckets: [1], labelName: 'method' });
    expect(() => hot.observe(1)).toThrow(/w_seconds is labelled by method/);
  });

  it('keeps the series its callers hold across a reset', async () => {
    const registry = new Registry();
    const hot = new HotHistogram(registry, { name: 'z_seconds', help: 'h', buckets: [1, 2], labelName: 'method' });
    const held = hot.series('a');
    held.observe(1.5);
    registry.resetMetrics();
    held.observe(0.5);
    const text = await registry.metrics();
    expect(text).toContain('z_seconds_count{method="a"} 1');
    expect(text).toContain('z_seconds_bucket{le="1",method="a"} 1');
  });
});
