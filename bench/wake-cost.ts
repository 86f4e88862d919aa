/**
 * What waking up costs on this machine, to set beside the engine's CPU per
 * message at low rate. At a low rate every message wakes the engine's main
 * thread several times (the socket read, the Log commit, the members'
 * session updates), each time from idle; at saturation those wakes are
 * shared by many messages. This measures, in one process:
 *
 * - the CPU of one wake from idle with no work: a 2 ms timer; and a message
 *   posted from another thread that itself wakes on a timer (how the LMDB
 *   write thread and the main thread wake each other), both threads counted;
 * - a fixed piece of engine-like work (encoding and decoding a message's
 *   map 40 times) run back to back, and run once per wake: its extra CPU when
 *   it runs on a cold thread.
 *
 *   node --import tsx bench/wake-cost.ts [--wakes 2000] [--rounds 2]
 *
 * Figures are CPU microseconds (user + system) per wake or per unit of work.
 */
import { parseArgs } from 'node:util';
import { MessageChannel, Worker } from 'node:worker_threads';
import { decode, encode } from '../engine/protocol/codec.ts';

const { values } = parseArgs({ options: { wakes: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '2' } } });
const WAKES = Number(values.wakes);
const ROUNDS = Number(values.rounds);
const GAP_MS = 2;

const MSG = { scene: 'p2p', from: 'alice', to: 'bob', text: 'x'.repeat(100), time: Date.now(), idClient: '6f1c2b9e-0d1a-4c55-9a43-2b7f0c1e9d10', idServer: '123456789', seq: 42, status: 'success', type: 'text' };

let sink = 0;
function unit(): void {
  for (let i = 0; i < 40; i++) sink += (decode(encode({ ...MSG, seq: i })) as { seq: number }).seq;
}

function cpuUs(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return c.user + c.system;
}

/** CPU per step over `n` steps, each run after `wait` calls it back. */
function paced(n: number, wait: (next: () => void) => void, work: boolean): Promise<number> {
  return new Promise((done) => {
    const started = process.cpuUsage();
    let left = n;
    const step = (): void => {
      if (work) unit();
      if (--left === 0) done(cpuUs(started) / n);
      else wait(step);
    };
    wait(step);
  });
}

function backToBack(n: number): number {
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) unit();
  return cpuUs(started) / n;
}

/** A thread that posts a message every GAP_MS: each one wakes this thread from idle. */
function poster(): { wait: (next: () => void) => void; stop: () => Promise<number> } {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const port = workerData.port;
     const timer = setInterval(() => port.postMessage(0), ${GAP_MS});
     port.on('message', () => { clearInterval(timer); port.close(); });`,
    { eval: true, workerData: { port: port2 }, transferList: [port2] },
  );
  let next: (() => void) | undefined;
  port1.on('message', () => {
    const run = next;
    next = undefined;
    run?.();
  });
  return {
    wait: (fn) => (next = fn),
    stop: async () => {
      port1.postMessage('stop');
      port1.close();
      return worker.terminate();
    },
  };
}

const timer = (next: () => void): void => void setTimeout(next, GAP_MS);

for (let i = 0; i < 3000; i++) unit(); // warmed up and optimised
for (let round = 1; round <= ROUNDS; round++) {
  const hot = backToBack(WAKES);
  const timerWake = await paced(WAKES, timer, false);
  const timerWork = await paced(WAKES, timer, true);
  const port = poster();
  const portWake = await paced(WAKES, port.wait, false);
  await port.stop();
  const cold = timerWork - timerWake;
  console.log(
    `round ${round}: wake by timer ${timerWake.toFixed(1)} µs, by another thread's message ${portWake.toFixed(1)} µs (both threads); ` +
      `work unit back to back ${hot.toFixed(1)} µs, after a wake ${cold.toFixed(1)} µs (×${(cold / hot).toFixed(2)})`,
  );
}
if (sink === 0.5) console.log(sink);
