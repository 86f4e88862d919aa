// Profiles the `parley` processes a bench run starts, which run as children
// of the runner (where `--cpu-prof` is refused in NODE_OPTIONS):
//
//   PARLEY_PROFILE_DIR=/tmp/prof NODE_OPTIONS="--import $PWD/bench/profile-hook.mjs" \
//     node --import tsx bench/run.ts p2p-throughput --no-peers --no-ceilings
//
// Each `parley` main thread writes, when it exits, `<role>-<pid>.cpuprofile`
// (with PARLEY_PROFILE_CPU unset or 1) and `<role>-<pid>.alloc.json`: bytes
// allocated on the JS heap per second of its life (from GC statistics), to
// set beside the run's msgs/s. Other processes and worker threads ignore it.
import { isMainThread } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.PARLEY_PROFILE_DIR;
const launcher = process.argv[1] ?? '';
if (dir !== undefined && isMainThread && launcher.endsWith('parley.mjs')) {
  const { Session } = await import('node:inspector');
  const v8 = await import('node:v8');
  const role = process.argv[2] ?? 'parley';
  const name = join(dir, `${role}-${process.pid}`);
  const cpu = process.env.PARLEY_PROFILE_CPU !== '0';
  const session = new Session();
  session.connect();
  if (cpu) {
    session.post('Profiler.enable');
    session.post('Profiler.start');
  }
  // Bytes allocated so far = heap used now + everything the GCs freed.
  const gc = new v8.GCProfiler();
  gc.start();
  let freed = 0;
  const samples = [];
  const started = Date.now();
  const timer = setInterval(() => {
    const stats = gc.stop();
    for (const g of stats?.statistics ?? []) freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
    gc.start();
    const cpuUsage = process.cpuUsage();
    samples.push({ ms: Date.now() - started, allocated: freed + v8.getHeapStatistics().used_heap_size, cpuUs: cpuUsage.user + cpuUsage.system });
  }, 1000);
  timer.unref();
  process.on('exit', () => {
    clearInterval(timer);
    writeFileSync(`${name}.alloc.json`, JSON.stringify(samples));
    if (!cpu) return;
    session.post('Profiler.stop', (err, result) => {
      if (err === null) writeFileSync(`${name}.cpuprofile`, JSON.stringify(result.profile));
    });
  });
}
