/**
 * One driver worker thread: imports the scenario file, runs its share of the
 * virtual users (VUs `vuFrom` … `vuTo-1`) concurrently on this thread's event
 * loop, keeps their counters and trend samples, and posts them to the runner
 * when every VU has finished. Barriers are counted here for this thread's
 * VUs, then across threads by the runner.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { signDevToken } from '../../engine/auth/jwt-verifier.ts';
import { ParleyClient } from './client.ts';
import type { Scenario, ScenarioOptions, VuContext } from './scenario.ts';

export interface WorkerInput {
  scenarioPath: string;
  options: ScenarioOptions;
  urls: string[];
  secret: string;
  tag: string;
  vuFrom: number;
  vuTo: number;
  /** Source addresses to spread connections over (127.0.0.x). */
  localAddresses: string[];
}

export interface WorkerMetrics {
  /** Counter name → [bucket (100 ms, absolute), count] pairs. */
  counters: Record<string, [number, number][]>;
  /** Trend name → samples and their times. */
  trends: Record<string, { values: Float64Array; at: Float64Array }>;
  window?: [number, number];
  errors: string[];
}

const input = workerData as WorkerInput;
const port = parentPort!;
const now = () => performance.timeOrigin + performance.now();
const counters = new Map<string, Map<number, number>>();
const trends = new Map<string, { values: number[]; at: number[] }>();
let measured: [number, number] | undefined;
const errors: string[] = [];
const localVus = input.vuTo - input.vuFrom;
/** VUs still running: a VU that failed no longer holds up a barrier. */
let active = localVus;
const arrivals = new Map<string, number>();
const posted = new Set<string>();
const releases = new Map<string, { promise: Promise<number>; resolve: (at: number) => void }>();

function release(name: string) {
  let entry = releases.get(name);
  if (entry === undefined) {
    let resolve!: (at: number) => void;
    const promise = new Promise<number>((r) => (resolve = r));
    entry = { promise, resolve };
    releases.set(name, entry);
  }
  return entry;
}

port.on('message', (msg: { type: string; name: string; at: number }) => {
  if (msg.type === 'release') release(msg.name).resolve(msg.at);
});

/** Tells the runner about every barrier all running VUs of this thread have reached. */
function postArrivals() {
  for (const [name, n] of arrivals) {
    if (n < active || posted.has(name)) continue;
    posted.add(name);
    port.postMessage({ type: 'barrier', name });
  }
}

function count(metric: string, n = 1, at = now()) {
  let buckets = counters.get(metric);
  if (buckets === undefined) counters.set(metric, (buckets = new Map()));
  const bucket = Math.floor(at / 100);
  buckets.set(bucket, (buckets.get(bucket) ?? 0) + n);
}

function trend(metric: string, value: number, at = now()) {
  let t = trends.get(metric);
  if (t === undefined) trends.set(metric, (t = { values: [], at: [] }));
  t.values.push(value);
  t.at.push(at);
}

function contextFor(vu: number): VuContext {
  return {
    vu,
    options: input.options,
    opt(name) {
      const value = input.options[name];
      if (value === undefined) throw new Error(`the scenario has no option '${name}'`);
      return value;
    },
    tag: input.tag,
    now,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    url: (edge = vu) => input.urls[edge % input.urls.length]!,
    async login(account, args = {}) {
      const token = await signDevToken(input.secret, account, 3600);
      const url = input.urls[(args.edge ?? vu) % input.urls.length]!;
      const localAddress = input.localAddresses[vu % input.localAddresses.length];
      return ParleyClient.login(url, { token, deviceId: args.deviceId, cursors: args.cursors, localAddress });
    },
    barrier(name) {
      arrivals.set(name, (arrivals.get(name) ?? 0) + 1);
      postArrivals();
      return release(name).promise;
    },
    count,
    trend,
    window(from, until) {
      measured ??= [from, until];
    },
  };
}

const { default: scenario } = (await import(pathToFileURL(input.scenarioPath).href)) as { default: Scenario };
await Promise.all(
  Array.from({ length: localVus }, async (_, i) => {
    try {
      await scenario.vu(contextFor(input.vuFrom + i));
    } catch (err) {
      count('errors');
      if (errors.length < 20) errors.push(`vu ${input.vuFrom + i}: ${err instanceof Error ? err.message : String(err)}`);
      active--;
      postArrivals();
    }
  }),
);

const metrics: WorkerMetrics = { counters: {}, trends: {}, window: measured, errors };
const transfer: ArrayBuffer[] = [];
for (const [name, buckets] of counters) metrics.counters[name] = [...buckets];
for (const [name, t] of trends) {
  const values = Float64Array.from(t.values);
  const at = Float64Array.from(t.at);
  metrics.trends[name] = { values, at };
  transfer.push(values.buffer, at.buffer);
}
port.postMessage({ type: 'done', metrics }, transfer);
