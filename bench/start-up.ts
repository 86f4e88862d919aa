/**
 * Engine start-up time, TypeScript through tsx against the compiled dist/:
 * spawns `parley start` (embedded, fresh data directory) `--runs` times each
 * way, alternating, and measures from spawn to the first `/healthz` 200
 * (polled every 5 ms); then the same for `parley config`, to exit. Prints one
 * JSON line with the median of each, in ms, and the compiled/tsx ratios.
 * Builds dist/ first when it is stale.
 *
 *   node --import tsx bench/start-up.ts [--runs 5]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../test/helpers/engine.ts';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const at = args.indexOf('--runs');
const RUNS = at === -1 ? 5 : Number(args[at + 1]);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 50) throw new Error(`--runs must be an integer from 1 to 50, got ${args[at + 1]}`);
/** One start, ms. */
const START_TIMEOUT_MS = 60_000;

const ENTRIES = {
  tsx: ['--import', 'tsx', join(ROOT, 'engine/cli.ts')],
  compiled: [join(ROOT, 'engine/bin/parley.mjs')],
} as const;
type Way = keyof typeof ENTRIES;

async function timeToHealthy(way: Way): Promise<number> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-start-up-'));
  const started = performance.now();
  const child = spawn(process.execPath, [...ENTRIES[way], 'start'], {
    cwd: ROOT,
    env: { ...process.env, PARLEY_PORT: String(port), PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: 'start-up-secret-0123456789abcdef', PARLEY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`parley (${way}) exited before it was healthy`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
      if (ok) return performance.now() - started;
      if (performance.now() - started > START_TIMEOUT_MS) throw new Error(`parley (${way}) not healthy within ${START_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function timeToExit(way: Way): number {
  const started = performance.now();
  execFileSync(process.execPath, [...ENTRIES[way], 'config'], { cwd: ROOT, stdio: 'ignore' });
  return performance.now() - started;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { stdio: 'inherit' });
const healthy: Record<Way, number[]> = { tsx: [], compiled: [] };
const config: Record<Way, number[]> = { tsx: [], compiled: [] };
for (let i = 0; i < RUNS; i++) {
  for (const way of ['tsx', 'compiled'] as const) {
    healthy[way].push(await timeToHealthy(way));
    config[way].push(timeToExit(way));
  }
}
const round = (x: number) => Math.round(x);
console.log(
  JSON.stringify({
    runs: RUNS,
    healthyMs: { tsx: round(median(healthy.tsx)), compiled: round(median(healthy.compiled)) },
    healthyRatio: +(median(healthy.compiled) / median(healthy.tsx)).toFixed(2),
    configMs: { tsx: round(median(config.tsx)), compiled: round(median(config.compiled)) },
    configRatio: +(median(config.compiled) / median(config.tsx)).toFixed(2),
    all: { healthyMs: { tsx: healthy.tsx.map(round), compiled: healthy.compiled.map(round) }, configMs: { tsx: config.tsx.map(round), compiled: config.compiled.map(round) } },
  }),
);
