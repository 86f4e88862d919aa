/**
 * Runs one scenario against a running topology: spreads its VUs over driver
 * worker threads, releases barriers once every worker's VUs have reached
 * them, samples the processes meanwhile, and folds the workers' metrics into
 * one summary (totals, rates over the measured window, percentiles, series
 * per second, CPU and RSS per process) with its checks and thresholds judged.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { Sampler, DRIVER } from './sampler.ts';
import type { Scenario, ScenarioOptions } from './scenario.ts';
import type { Topology } from './topology.ts';
import { BENCH_SECRET } from './topology.ts';
import type { WorkerInput, WorkerMetrics } from './worker.ts';

export interface TrendStats {
  count: number;
  avg: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

export interface Judged {
  rule: string;
  kind: 'check' | 'threshold';
  value: number | undefined;
  ok: boolean;
}

export interface ScenarioResult {
  scenario: string;
  describe: string;
  mode: string;
  options: ScenarioOptions;
  startedAt: string;
  /** Measured window, seconds. */
  windowSec: number;
  counters: Record<string, { count: number; rate: number }>;
  trends: Record<string, TrendStats>;
  /** Per second from the start of the run: counter rates and trend p50/p99. */
  series: { t: number; metric: string; value: number }[];
  /** Per process over the measured window: CPU cores used, CPU µs, peak RSS bytes. */
  processes: Record<string, { cores: number; cpuUs: number; peakRss: number }>;
  /** Server CPU µs (every started process, not the driver) per delivered message. */
  cpuUsPerDelivered?: number;
  driverCpuUsPerDelivered?: number;
  /** Growth of the edges' RssAnon per held connection, bytes, read without a forced GC (an upper bound). */
  rssPerConnection?: number;
  /** Which side ran nearest to a full core per thread: `server` or `driver`. */
  saturated: string;
  judged: Judged[];
  errors: string[];
  passed: boolean;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function trendStats(values: Float64Array): TrendStats {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const round = (n: number) => +n.toFixed(3);
  return {
    count: sorted.length,
    avg: round(sum / sorted.length),
    min: round(sorted[0] ?? NaN),
    max: round(sorted[sorted.length - 1] ?? NaN),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
  };
}

/** Value of `metric.stat` in a result; a bare counter name is its count. */
export function valueOf(result: Pick<ScenarioResult, 'counters' | 'trends'> & Record<string, unknown>, key: string): number | undefined {
  const dot = key.lastIndexOf('.');
  const [metric, stat] = dot === -1 ? [key, 'count'] : [key.slice(0, dot), key.slice(dot + 1)];
  const counter = result.counters[metric];
  if (counter !== undefined) return counter[stat as 'count' | 'rate'] ?? (stat === 'count' ? counter.count : undefined);
  const trend = result.trends[metric];
  if (trend !== undefined) return trend[stat as keyof TrendStats];
  if (typeof result[key] === 'number') return result[key] as number;
  // A counter never incremented is zero.
  return stat === 'count' && !key.includes('.') ? 0 : undefined;
}

export function judge(rule: string, kind: Judged['kind'], result: Parameters<typeof valueOf>[0]): Judged {
  const m = /^\s*([\w.]+)\s*(<=|>=|==|<|>)\s*([\w.-]+)\s*$/.exec(rule);
  if (m === null) throw new Error(`cannot read the threshold '${rule}'`);
  const value = valueOf(result, m[1]!);
  // The right side is a number or the name of a scenario option (`held.count == vus`).
  const limit = /^-?[\d.]+$/.test(m[3]!) ? Number(m[3]) : Number((result as { options?: Record<string, number> }).options?.[m[3]!]);
  const ok =
    value !== undefined &&
    !Number.isNaN(value) &&
    { '<': value < limit, '<=': value <= limit, '>': value > limit, '>=': value >= limit, '==': value === limit }[m[2] as '<']!;
  return { rule, kind, value, ok };
}

export interface RunOptions {
  scenarioPath: string;
  scenario: Scenario;
  options: ScenarioOptions;
  topology: Topology;
  smoke: boolean;
  workers?: number;
  localAddresses?: string[];
  /** Progress line text (what runs). */
  label: string;
}

export async function runScenario(run: RunOptions): Promise<ScenarioResult> {
  const { scenario, options, topology } = run;
  const startedAt = new Date().toISOString();
  const threads = Math.max(1, Math.min(run.workers ?? Math.max(1, availableParallelism() - 1), options.vus));
  const sampler = new Sampler(topology.processes);
  sampler.start();
  const start = performance.timeOrigin + performance.now();
  const marks: Record<string, number> = {};
  const tag = `${scenario.name}-${Date.now().toString(36)}`;
  const workers: Worker[] = [];
  const arrived = new Map<string, Set<number>>();
  const done = new Set<number>();
  const results: WorkerMetrics[] = [];
  const releaseReady = () => {
    for (const [name, set] of arrived) {
      if (marks[name] !== undefined || set.size + [...done].filter((d) => !set.has(d)).length < workers.length) continue;
      marks[name] = sampler.take().at;
      for (const w of workers) w.postMessage({ type: 'release', name, at: marks[name] });
    }
  };
  const expectedSec = options.warmup + options.duration;
  const progress = setInterval(() => {
    const elapsed = ((performance.timeOrigin + performance.now() - start) / 1000).toFixed(0);
    process.stderr.write(`\r${run.label}: ${elapsed}s of ~${expectedSec}s measured time, barriers ${Object.keys(marks).join(',') || '-'}   `);
  }, 1000);
  try {
    await Promise.all(
      Array.from({ length: threads }, (_, w) => {
        const per = Math.ceil(options.vus / threads);
        const input: WorkerInput = {
          scenarioPath: run.scenarioPath,
          options,
          urls: topology.urls,
          secret: BENCH_SECRET,
          tag,
          vuFrom: Math.min(options.vus, w * per),
          vuTo: Math.min(options.vus, (w + 1) * per),
          localAddresses: run.localAddresses ?? ['127.0.0.1'],
        };
        const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: input });
        workers.push(worker);
        return new Promise<void>((resolve, reject) => {
          worker.on('message', (msg: { type: string; name: string; metrics: WorkerMetrics }) => {
            if (msg.type === 'barrier') {
              if (!arrived.has(msg.name)) arrived.set(msg.name, new Set());
              arrived.get(msg.name)!.add(w);
              releaseReady();
            } else if (msg.type === 'done') {
              results.push(msg.metrics);
              done.add(w);
              releaseReady();
              resolve();
            }
          });
          worker.on('error', reject);
          worker.on('exit', (code) => (done.has(w) ? resolve() : reject(new Error(`driver worker ${w} exited with ${code}`))));
        });
      }),
    );
  } finally {
    clearInterval(progress);
    process.stderr.write('\n');
    sampler.stop();
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const end = performance.timeOrigin + performance.now();
  return summarize(run, results, sampler, marks, start, end, startedAt);
}

function summarize(
  run: RunOptions,
  results: WorkerMetrics[],
  sampler: Sampler,
  marks: Record<string, number>,
  start: number,
  end: number,
  startedAt: string,
): ScenarioResult {
  const { scenario, options, topology } = run;
  const [from, until] = results.find((r) => r.window !== undefined)?.window ?? [marks.start ?? start, marks.end ?? end];
  const windowSec = Math.max(0.001, (until - from) / 1000);
  const counters: ScenarioResult['counters'] = {};
  const series: ScenarioResult['series'] = [];
  const perSecond = new Map<string, Map<number, number>>();
  for (const r of results) {
    for (const [name, buckets] of Object.entries(r.counters)) {
      const c = (counters[name] ??= { count: 0, rate: 0 });
      const secs = perSecond.get(name) ?? new Map<number, number>();
      perSecond.set(name, secs);
      for (const [bucket, n] of buckets) {
        c.count += n;
        const at = bucket * 100;
        if (at >= from && at < until) c.rate += n;
        const t = Math.floor((at - start) / 1000);
        secs.set(t, (secs.get(t) ?? 0) + n);
      }
    }
  }
  for (const c of Object.values(counters)) c.rate = Math.round(c.rate / windowSec);
  for (const [name, secs] of perSecond) for (const [t, n] of [...secs].sort((a, b) => a[0] - b[0])) series.push({ t, metric: `${name}/s`, value: n });
  const trends: ScenarioResult['trends'] = {};
  for (const name of new Set(results.flatMap((r) => Object.keys(r.trends)))) {
    const parts = results.map((r) => r.trends[name]).filter((t) => t !== undefined);
    const values = new Float64Array(parts.reduce((n, t) => n + t.values.length, 0));
    const at = new Float64Array(values.length);
    let o = 0;
    for (const t of parts) {
      values.set(t.values, o);
      at.set(t.at, o);
      o += t.values.length;
    }
    trends[name] = trendStats(values);
    const bySecond = new Map<number, number[]>();
    for (let i = 0; i < values.length; i++) {
      const t = Math.floor((at[i]! - start) / 1000);
      let list = bySecond.get(t);
      if (list === undefined) bySecond.set(t, (list = []));
      list.push(values[i]!);
    }
    for (const [t, list] of [...bySecond].sort((a, b) => a[0] - b[0])) {
      const sorted = Float64Array.from(list).sort();
      series.push({ t, metric: `${name} p50`, value: percentile(sorted, 50) }, { t, metric: `${name} p99`, value: percentile(sorted, 99) });
    }
  }
  const cpu = sampler.cpuBetween(from, until);
  const processes: ScenarioResult['processes'] = {};
  for (const [name, cpuUs] of Object.entries(cpu.cpuUs)) {
    const peakRss = Math.max(...sampler.samples.map((s) => s.procs[name]?.rss ?? 0));
    processes[name] = { cores: +(cpuUs / 1e6 / Math.max(0.001, cpu.seconds)).toFixed(2), cpuUs: Math.round(cpuUs), peakRss };
  }
  const serverCpuUs = Object.entries(cpu.cpuUs).reduce((sum, [name, us]) => (name === DRIVER ? sum : sum + us), 0);
  const result: ScenarioResult = {
    scenario: scenario.name,
    describe: scenario.describe,
    mode: String(topology.mode),
    options,
    startedAt,
    windowSec: +windowSec.toFixed(3),
    counters,
    trends,
    series,
    processes,
    saturated: saturatedSide(processes),
    judged: [],
    errors: results.flatMap((r) => r.errors),
    passed: true,
  };
  const delivered = scenario.delivered === undefined ? 0 : valueInWindow(counters, scenario.delivered, windowSec);
  if (delivered > 0) {
    result.cpuUsPerDelivered = +(serverCpuUs / delivered).toFixed(1);
    result.driverCpuUsPerDelivered = +((cpu.cpuUs[DRIVER] ?? 0) / delivered).toFixed(1);
  }
  const held = scenario.connections === undefined ? 0 : (counters[scenario.connections]?.count ?? 0);
  if (held > 0 && marks.held !== undefined) {
    const before = sampler.nearest(marks.start ?? start);
    const at = sampler.nearest(marks.held);
    const edges = topology.processes.filter((p) => p.name.startsWith('edge') || p.name === 'parley-start' || p.name === 'server');
    const growth = edges.reduce((sum, p) => sum + (at.procs[p.name]?.anon ?? 0) - (before.procs[p.name]?.anon ?? 0), 0);
    result.rssPerConnection = Math.round(growth / held);
  }
  result.judged = [
    ...scenario.checks.map((rule) => judge(rule, 'check', result as never)),
    'errors == 0',
    ...(run.smoke ? [] : scenario.thresholds),
  ].map((r) => (typeof r === 'string' ? judge(r, r === 'errors == 0' ? 'check' : 'threshold', result as never) : r));
  result.passed = result.judged.every((j) => j.ok);
  return result;
}

/** Messages in the measured window: the rate times the window. */
function valueInWindow(counters: ScenarioResult['counters'], name: string, windowSec: number): number {
  return (counters[name]?.rate ?? 0) * windowSec;
}

function saturatedSide(processes: ScenarioResult['processes']): string {
  const driver = processes[DRIVER]?.cores ?? 0;
  const server = Object.entries(processes).reduce((m, [name, p]) => (name === DRIVER ? m : Math.max(m, p.cores)), 0);
  return `${server >= driver ? 'server' : 'driver'} (busiest server process ${server} cores, driver ${driver} cores)`;
}
