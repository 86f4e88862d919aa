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
 *   node --import tsx bench/actor-path.ts [--pairs 50] [--window 16] [--convs 1] [--seconds 6] [--dir /dev/shm] [--compiled]
 *
 * `--convs N` gives each sender N conversations (with recipients of their
 * own), sent to in turn: the sender's user actor then takes the session
 * updates of N conversations, which the host carries together (`touches`).
 *
 * `--compiled` runs the engine from dist/ (build it first: `node scripts/build.mjs`),
 * as `npm start` does; without it the engine runs from source under tsx.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import type * as CallModule from '../engine/actor/call.ts';
import type * as HostModule from '../engine/actor/host.ts';
import type * as OwnershipModule from '../engine/actor/ownership.ts';
import type * as BusModule from '../engine/bus/embedded-bus.ts';
import type * as LogModule from '../engine/log/lmdb-log.ts';
import type * as NodeModule from '../engine/node.ts';
import type * as StoreModule from '../engine/store.ts';
import type * as SubjectsModule from '../engine/subjects.ts';
import type { Caller } from '../engine/envelope.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : args[at + 1]!;
};

// `--compiled`: the engine as production runs it, the JavaScript `node scripts/build.mjs` writes to dist/.
const COMPILED = args.includes('--compiled');
const engine = async <T>(path: string): Promise<T> => (await import(COMPILED ? `../dist/engine/${path}.js` : `../engine/${path}.ts`)) as T;
const { ActorClient } = await engine<typeof CallModule>('actor/call');
const { ActorHost } = await engine<typeof HostModule>('actor/host');
const { StaticOwnership } = await engine<typeof OwnershipModule>('actor/ownership');
const { EmbeddedBus } = await engine<typeof BusModule>('bus/embedded-bus');
const { LmdbLog } = await engine<typeof LogModule>('log/lmdb-log');
const { BEHAVIORS } = await engine<typeof NodeModule>('node');
const { StateStore } = await engine<typeof StoreModule>('store');
const { p2pAddress } = await engine<typeof SubjectsModule>('subjects');
const PAIRS = Number(flag('pairs', '50'));
const WINDOW = Number(flag('window', '16'));
const CONVS = Math.max(1, Number(flag('convs', '1')));
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
    const peers = Array.from({ length: CONVS }, (_, j) => (CONVS === 1 ? `ap-b${i}` : `ap-b${i}-${j}`));
    const caller: Caller = { account: from, deviceId: `d${i}`, deviceType: 'web', conn: `bench/${i}` };
    const addresses = peers.map((to) => p2pAddress(from, to));
    let k = 0;
    const loop = async () => {
      while (performance.now() < end) {
        const c = k % CONVS;
        const to = peers[c]!;
        await client.callRaw(addresses[c]!, 'sendText', { scene: 'p2p', to, text: `${++k} ${'x'.repeat(96)}` }, caller);
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
    convs: CONVS,
    compiled: COMPILED,
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
