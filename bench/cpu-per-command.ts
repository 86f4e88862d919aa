/**
 * Engine CPU cost per actor command: runs the engine in this process (embedded,
 * or on NATS with `--nats <url>`), drives it from `clients` separate processes
 * of bench/load-client.ts, and reports the engine's CPU time (user + system,
 * all threads) divided by the commands its actors handled. CPU per command is
 * steadier than messages per second on a shared machine, but still compare
 * runs made one after the other. `--compiled` runs the engine from the
 * compiled dist/ (built first when stale, source maps on as `parley` has
 * them) instead of the TypeScript sources through tsx; the load clients run
 * the same either way.
 *
 * Also reports CPU per acknowledged message (`cpuUsPerMessage`), which stays
 * comparable when a change alters how many commands a message costs (session
 * updates coalesced across batches, for one). `--pairs`, `--window` and
 * `--seconds` are passed to each load client (defaults 20, 64, 6); a fixed
 * low load is `--clients 1 --pairs 10 --window 1`. The `steady…` figures
 * leave out logins and the ramps: from a second after every client has a
 * message acknowledged, for `seconds` − 3 s.
 *
 *   node --import tsx bench/cpu-per-command.ts [--clients 2] [--pairs 20] [--window 64] [--seconds 6] [--nats nats://127.0.0.1:4222] [--compiled]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? undefined : args[at + 1];
};
const clients = Number(flag('clients') ?? 2);
const nats = flag('nats');
const compiled = args.includes('--compiled');
const pairs = flag('pairs') ?? '20';
const window = flag('window') ?? '64';
const seconds = flag('seconds') ?? '6';
const ROOT = join(import.meta.dirname, '..');
if (compiled) {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { stdio: 'inherit' });
  process.setSourceMapsEnabled(true);
}
/** The engine module at `path` (relative to the checkout, without extension): dist/ when compiled, else the .ts source. */
const engineModule = (path: string) => pathToFileURL(join(ROOT, compiled ? `dist/${path}.js` : `${path}.ts`)).href;
const { parseConfig }: typeof import('../engine/config.ts') = await import(engineModule('engine/config'));
const { startNode }: typeof import('../engine/node.ts') = await import(engineModule('engine/node'));
const secret = 'bench-secret-0123456789abcdef';
const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
const node = await startNode(
  'start',
  parseConfig({
    PARLEY_PORT: '0',
    PARLEY_HOST: '127.0.0.1',
    PARLEY_DATA_DIR: dataDir,
    PARLEY_JWT_SECRET: secret,
    PARLEY_LOG_LEVEL: 'warn',
    ...(nats === undefined ? {} : { PARLEY_NATS_URL: nats }),
  }),
);
const url = `ws://127.0.0.1:${node.port}/v1/ws`;
const cpuBefore = process.cpuUsage();
const commandsBefore = node.host!.stats.commands;
const started = performance.now();
let acked = 0;
// The steady state: from a second after every client has had a message acknowledged until a second
// before the first one stops sending, CPU and acknowledged messages (from the clients' progress lines).
const progress = new Map<number, number>();
let steady: { cpu: NodeJS.CpuUsage; acked: number; commands: number; at: number } | undefined;
let steadyEnd: typeof steady;
const sumProgress = () => [...progress.values()].reduce((a, b) => a + b, 0);
const mark = () => ({ cpu: process.cpuUsage(), acked: sumProgress(), commands: node.host!.stats.commands, at: performance.now() });
let marking: ReturnType<typeof setTimeout> | undefined;
await Promise.all(
  Array.from(
    { length: clients },
    (_, i) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'load-client.ts'), url, `c${i}`, pairs, window, seconds], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, PARLEY_JWT_SECRET: secret, PARLEY_LOAD_PROGRESS_MS: '100' },
        });
        let pending = '';
        child.stdout.on('data', (chunk: Buffer) => {
          pending += chunk.toString();
          const lines = pending.split('\n');
          pending = lines.pop()!;
          for (const line of lines) {
            if (!line.startsWith('{')) continue;
            const parsed = JSON.parse(line) as { progress?: number; ackedPerSec?: number };
            if (parsed.progress !== undefined) {
              progress.set(i, parsed.progress);
              if (marking === undefined && progress.size === clients && [...progress.values()].every((n) => n > 0)) {
                marking = setTimeout(() => {
                  steady = mark();
                  setTimeout(() => (steadyEnd = mark()), Math.max(1, Number(seconds) - 3) * 1000);
                }, 1000);
              }
              continue;
            }
            process.stdout.write(`${line}\n`);
            acked += (parsed.ackedPerSec ?? 0) * Number(seconds);
          }
        });
        child.on('exit', () => resolve(undefined));
      }),
  ),
);
const cpu = process.cpuUsage(cpuBefore);
const wallMs = performance.now() - started;
const commands = node.host!.stats.commands - commandsBefore;
const cpuUs = cpu.user + cpu.system;
console.log(
  JSON.stringify({
    mode: nats === undefined ? 'embedded' : 'nats',
    engine: compiled ? 'compiled' : 'tsx',
    commands,
    commandsPerSec: Math.round(commands / (wallMs / 1000)),
    engineCores: +(cpuUs / 1000 / wallMs).toFixed(2),
    cpuUsPerCommand: +(cpuUs / commands).toFixed(1),
    acked,
    commandsPerMessage: +(commands / acked).toFixed(2),
    cpuUsPerMessage: +(cpuUs / acked).toFixed(1),
    ...(steady === undefined || steadyEnd === undefined
      ? {}
      : (() => {
          const cpuSteady = steadyEnd.cpu.user - steady.cpu.user + steadyEnd.cpu.system - steady.cpu.system;
          const msgs = steadyEnd.acked - steady.acked;
          return {
            steadyMsgsPerSec: Math.round(msgs / ((steadyEnd.at - steady.at) / 1000)),
            steadyCommandsPerMessage: +((steadyEnd.commands - steady.commands) / msgs).toFixed(2),
            steadyCpuUsPerMessage: +(cpuSteady / msgs).toFixed(1),
          };
        })()),
  }),
);
await node.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
