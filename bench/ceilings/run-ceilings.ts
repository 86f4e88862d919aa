/**
 * The ceilings of a bench run, measured in the same run as Parley: the bare
 * uWebSockets.js echo and topic fan-out with the same driver (the socket
 * ceilings: frames echoed, and frames delivered to subscribers), NATS core
 * publish/subscribe, JetStream pipelined appends of 200-byte messages (the
 * durable-append ceiling) and LMDB batched puts. Each runs in its own
 * processes, sampled like Parley's, so each gets msgs/s and CPU µs per op.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer } from '../../test/helpers/nats-server.ts';
import { runScenario } from '../driver/run-scenario.ts';
import { Sampler, DRIVER } from '../driver/sampler.ts';
import type { RunningProcess } from '../driver/topology.ts';
import { spawnServer, waitUntil } from '../driver/topology.ts';
import echo from './echo.ts';
import fanout from './fanout.ts';
import type { Scenario } from '../driver/scenario.ts';

export interface CeilingResult {
  name: string;
  describe: string;
  /** Operations per second (echoes, messages, appends, puts). */
  rate: number;
  /** CPU µs per operation of the serving side (the server, or the process doing the work). */
  cpuUsPerOp: number;
  /** CPU µs per operation of the client side. */
  clientCpuUsPerOp: number;
  processes: Record<string, { cores: number }>;
}

const HERE = import.meta.dirname;

/** A bare uWebSockets.js server (`serverFile`) driven by `scenarioFile` with the same driver; the op is the scenario's `counter`. */
async function uwsCeiling(name: string, serverFile: string, path: string, scenarioFile: string, scenario: Scenario, counter: string, smoke: boolean): Promise<CeilingResult> {
  const server = spawnServer('server', process.execPath, ['--import', 'tsx', join(HERE, serverFile)]);
  let port = 0;
  server.child.stdout!.on('data', (chunk: Buffer) => {
    const m = /listening (\d+)/.exec(chunk.toString());
    if (m) port = Number(m[1]);
  });
  try {
    await waitUntil(`the ${name} server`, 20_000, async () => port > 0);
    const topology = { mode: 'ceiling', urls: [`ws://127.0.0.1:${port}${path}`], processes: [{ name: 'server', pid: server.child.pid! }], stop: async () => {} };
    const options = { ...scenario.options, ...(smoke ? scenario.smoke : {}) } as typeof scenario.options;
    const r = await runScenario({ scenarioPath: join(HERE, scenarioFile), scenario, options, topology, smoke, label: `[ceiling] ${name}` });
    return {
      name,
      describe: scenario.describe,
      rate: r.counters[counter]?.rate ?? 0,
      cpuUsPerOp: r.cpuUsPerDelivered ?? NaN,
      clientCpuUsPerOp: r.driverCpuUsPerDelivered ?? NaN,
      processes: Object.fromEntries(Object.entries(r.processes).map(([n, p]) => [n, { cores: p.cores }])),
    };
  } finally {
    await server.stop();
  }
}

/** Runs backend-ceiling.ts `kind` as a child, sampling it and `others`; the work side is `workName`. */
async function backend(name: string, describe: string, kind: string, target: string, seconds: number, others: RunningProcess[], workName: string): Promise<CeilingResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'backend-ceiling.ts'), kind, target, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sampler = new Sampler([...others, { name: 'client', pid: child.pid! }], 250);
  sampler.start();
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  sampler.stop();
  if (code !== 0) throw new Error(`ceiling ${kind} exited with ${code}: ${out}`);
  const { ops, seconds: measured } = JSON.parse(out.trim().split('\n').at(-1)!) as { ops: number; seconds: number };
  // The child's last sample is gone with it: take the window from the first sample to the last one that has it.
  const last = [...sampler.samples].reverse().find((s) => s.procs.client !== undefined)!;
  const cpu = sampler.cpuBetween(sampler.samples[0]!.at, last.at);
  const processes = Object.fromEntries(
    Object.entries(cpu.cpuUs).filter(([n]) => n !== DRIVER).map(([n, us]) => [n, { cores: +(us / 1e6 / cpu.seconds).toFixed(2) }]),
  );
  return {
    name,
    describe,
    rate: Math.round(ops / measured),
    cpuUsPerOp: +((cpu.cpuUs[workName] ?? 0) / ops).toFixed(2),
    clientCpuUsPerOp: +((cpu.cpuUs.client ?? 0) / ops).toFixed(2),
    processes,
  };
}

export async function runCeilings(smoke: boolean): Promise<CeilingResult[]> {
  const seconds = smoke ? 1 : 5;
  const results: CeilingResult[] = [];
  process.stderr.write('ceilings: bare uWebSockets.js echo\n');
  results.push(await uwsCeiling('uWS echo', 'uws-echo-server.ts', '/echo', 'echo.ts', echo, 'echoed', smoke));
  process.stderr.write('ceilings: bare uWebSockets.js topic fan-out\n');
  results.push(await uwsCeiling('uWS fan-out', 'uws-fanout-server.ts', '/fanout/', 'fanout.ts', fanout, 'delivered', smoke));
  for (const [kind, name, describe] of [
    ['pubsub', 'NATS core pub/sub', 'NATS core publish of 200-byte messages to one subscriber'],
    ['jetstream', 'JetStream append', 'JetStream publish of 200-byte messages to a file stream, 1024 acks in flight'],
  ] as const) {
    process.stderr.write(`ceilings: ${name}\n`);
    const nats = await startNatsServer({ jetstream: kind === 'jetstream' });
    try {
      results.push(await backend(name, describe, kind, nats.url, seconds, [{ name: 'nats-server', pid: nats.pid! }], 'nats-server'));
    } finally {
      await nats.stop();
    }
  }
  process.stderr.write('ceilings: LMDB batched puts\n');
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-lmdb-'));
  try {
    results.push(await backend('LMDB puts', 'LMDB puts of 200-byte values, batched into transactions by lmdb-js', 'lmdb', dir, seconds, [], 'client'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const r of results) process.stderr.write(`ceiling ${r.name}: ${r.rate}/s, ${r.cpuUsPerOp} µs CPU per op\n`);
  return results;
}
