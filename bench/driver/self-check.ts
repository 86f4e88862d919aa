/**
 * Proves the bench's correctness checks can fail: feeds DeliveryCheck a
 * stream with a duplicate, a gap and a reordering, and the threshold judge
 * passing and failing values, and exits 1 when any verdict is wrong. Run by
 * CI before the smoke run, so a smoke pass means something.
 *
 *   node --import tsx bench/driver/self-check.ts
 */
import { DeliveryCheck, stampedText } from './scenario.ts';
import { judge } from './run-scenario.ts';

const problems: string[] = [];
const expect = (what: string, actual: unknown, wanted: unknown) => {
  if (actual !== wanted) problems.push(`${what}: got ${actual}, wanted ${wanted}`);
};

const clean = new DeliveryCheck();
for (let k = 1; k <= 5; k++) clean.deliver(stampedText(k, 1000 + k, 40), k);
expect('clean stream: missing', clean.missing(5), 0);
expect('clean stream: duplicates', clean.duplicates, 0);
expect('clean stream: order errors', clean.orderErrors, 0);

const broken = new DeliveryCheck();
// k=2 delivered twice, k=4 never, k=5 before k=3 (seq out of order).
for (const [k, seq] of [[1, 1], [2, 2], [2, 2], [5, 5], [3, 3]] as const) broken.deliver(stampedText(k, 1000, 40), seq);
expect('broken stream: missing', broken.missing(5), 1);
expect('broken stream: duplicates', broken.duplicates, 1);
expect('broken stream: order errors', broken.orderErrors >= 2, true);

const result = { counters: { missing: { count: 1, rate: 0 }, held: { count: 10, rate: 0 } }, trends: { latency: { count: 1, avg: 3, min: 3, max: 3, p50: 3, p90: 3, p95: 3, p99: 3 } }, options: { vus: 10 } };
expect('missing == 0 with one missing', judge('missing == 0', 'check', result as never).ok, false);
expect('latency.p99 < 5 at 3', judge('latency.p99 < 5', 'threshold', result as never).ok, true);
expect('latency.p99 < 2 at 3', judge('latency.p99 < 2', 'threshold', result as never).ok, false);
expect('held.count == vus', judge('held.count == vus', 'check', result as never).ok, true);
expect('an absent counter counts zero', judge('duplicates == 0', 'check', result as never).ok, true);

if (problems.length > 0) {
  console.error(`bench self-check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('bench self-check: the loss, duplicate, order and threshold checks can fail and pass');
