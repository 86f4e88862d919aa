/**
 * CPU per persisted p2p message on the actor path alone: an embedded Bus,
 * the joint LMDB Log and state store, and an actor host, driven in this
 * process by `ActorClient` calls of `sendText` (as the edge makes them), with
 * no sockets and no load-client processes. Everything a send costs behind the
 * edge is counted — the conversation's batch, its deliveries published on the
 * Bus (no edge subscribes, so they stop there) and the members' session
 * updates with their own batches — so it suits A/B runs of the actors on a
 * shared machine, where the socket clients' own CPU would drown the figure.
 * The steady window leaves out the first second. Bytes allocated per message
 * are summed from the heap's use before and after each garbage collection in
 * the window (`v8.GCProfiler`).
 *
 *   node --import tsx bench/actor-path.ts [--pairs 50] [--window 16] [--seconds 6] [--dir /dev/shm]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { ActorClient } from '../engine/actor/call.ts';
import { ActorHost } from '../engine/actor/host.ts';
import { StaticOwnership } from '../engine/actor/ownership.ts';
import { EmbeddedBus } from '../engine/bus/embedded-bus.ts';
import { LmdbLog } from '../engine/log/lmdb-log.ts';
import { BEHAVIORS } from '../engine/node.ts';
import { StateStore } from '../engine/store.ts';
import { p2pAddress } from '../engine/subjects.ts';
import type { Caller } from '../engine/envelope.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : args[at + 1]!;
};
const PAIRS = Number(flag('pairs', '50'));
const WINDOW = Number(flag('window', '16'));
const SECONDS = Number(flag('seconds', '6'));
const PARTITIONS = 16;
const dir = mkdtempSync(join(flag('dir', tmpdir()), 'parley-actor-path-'));

const bus = new EmbeddedBus();
const store = new StateStore(dir, { syncCommits: true });
const log = LmdbLog.sharing(store.env);
const host = new ActorHost({
  bus,
  log,
  store,
  ownership: new StaticOwnership(PARTITIONS),
  behaviors: BEHAVIORS,
  nodeId: 'bench',
  partitions: PARTITIONS,
  mailboxLimit: 10_000,
  actorIdleMs: 60_000,
  callTimeoutMs: 10_000,
});
await host.start();
const client = new ActorClient(bus, { partitions: PARTITIONS, timeoutMs: 10_000 });

const started = performance.now();
const warmEnd = started + 1000;
const end = started + SECONDS * 1000;
let acked = 0;
let at0: { cpu: NodeJS.CpuUsage; acked: number; commands: number; t: number; heap: number } | undefined;
const mark = () => ({ cpu: process.cpuUsage(), acked, commands: host.stats.commands, t: performance.now(), heap: v8.getHeapStatistics().used_heap_size });
const gc = new v8.GCProfiler();
const warm = setTimeout(() => {
  at0 = mark();
  gc.start();
}, warmEnd - performance.now());
let at1: ReturnType<typeof mark> | undefined;
let gcStats: ReturnType<v8.GCProfiler['stop']> | undefined;

await Promise.all(
  Array.from({ length: PAIRS }, async (_, i) => {
    const from = `ap-a${i}`;
    const to = `ap-b${i}`;
    const caller: Caller = { account: from, deviceId: `d${i}`, deviceType: 'web', conn: `bench/${i}` };
    const address = p2pAddress(from, to);
    let k = 0;
    const loop = async () => {
      while (performance.now() < end) {
        await client.callRaw(address, 'sendText', { scene: 'p2p', to, text: `${++k} ${'x'.repeat(96)}` }, caller);
        acked++;
      }
      if (at1 === undefined) {
        at1 = mark();
        gcStats = gc.stop();
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, loop));
  }),
);
clearTimeout(warm);
if (at0 === undefined || at1 === undefined) throw new Error('the run ended before its steady window');
const cpuUs = at1.cpu.user - at0.cpu.user + at1.cpu.system - at0.cpu.system;
const msgs = at1.acked - at0.acked;
let allocated = 0;
let heapAfter = at0.heap;
for (const g of gcStats?.statistics ?? []) {
  allocated += g.beforeGC.heapStatistics.usedHeapSize - heapAfter;
  heapAfter = g.afterGC.heapStatistics.usedHeapSize;
}
allocated += at1.heap - heapAfter;
console.log(
  JSON.stringify({
    pairs: PAIRS,
    window: WINDOW,
    msgsPerSec: Math.round(msgs / ((at1.t - at0.t) / 1000)),
    commandsPerMessage: +((at1.commands - at0.commands) / msgs).toFixed(2),
    cpuUsPerMessage: +(cpuUs / msgs).toFixed(1),
    allocatedBytesPerMessage: Math.round(allocated / msgs),
  }),
);
await host.stop();
await log.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
