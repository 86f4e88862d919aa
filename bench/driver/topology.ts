/**
 * The systems a bench run drives, as processes on 127.0.0.1: Parley embedded
 * (one `parley start`), a Parley cluster (nats-server with JetStream, 2
 * `parley edge`, 2 `parley actors`), or any other server process. Each
 * process is named for the report and sampled by pid; `stop()` ends them all
 * and removes their temporary directories.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, healthy } from '../../test/helpers/engine.ts';
import { killAtExit } from '../../test/helpers/exit-hook.ts';
import { startNatsServer } from '../../test/helpers/nats-server.ts';
import type { NatsServer } from '../../test/helpers/nats-server.ts';
import { signDevToken } from '../../engine/auth/jwt-verifier.ts';
import { ParleyClient } from './client.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const BENCH_SECRET = 'parley-bench-secret-0123456789abcdef';

export type Mode = 'embedded' | 'cluster';

export interface RunningProcess {
  /** Name in the report: `parley-start`, `edge-1`, `nats-server`, … */
  name: string;
  /** `server` processes count toward "server CPU"; the driver is counted apart. */
  pid: number;
}

export interface Topology {
  mode: Mode | string;
  /** WebSocket URLs clients connect to, one per edge. */
  urls: string[];
  processes: RunningProcess[];
  stop(): Promise<void>;
}

/** Waits until `probe` resolves true, polling; fails after `timeoutMs` with `what`. */
export async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A child process with its stderr tail kept, ended by `stop()` (SIGTERM, then
 * SIGKILL). With `PARLEY_BENCH_LOG_DIR` set, its whole output is also written
 * to `<dir>/<name>.log` (set `PARLEY_BENCH_LOG_LEVEL` for more than warnings).
 */
export function spawnServer(name: string, command: string, args: string[], env: Record<string, string> = {}) {
  const child: ChildProcess = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  killAtExit(child);
  let tail = '';
  const logDir = process.env.PARLEY_BENCH_LOG_DIR;
  let file: ReturnType<typeof createWriteStream> | undefined;
  if (logDir !== undefined && logDir !== '') {
    mkdirSync(logDir, { recursive: true });
    file = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  }
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
    file?.write(chunk);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => file?.end());
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    alive,
    tail: () => tail,
    async stop() {
      if (alive()) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Starts `parley <role>` from the compiled launcher (built first when stale), with the young generation `npm start` gives it, and waits for /healthz. */
async function startParley(name: string, role: string, dataDir: string, env: Record<string, string>) {
  const port = await freePort();
  const server = spawnServer(name, process.execPath, ['--max-semi-space-size=64', join(ROOT, 'engine/bin/parley.mjs'), role], {
    PARLEY_PORT: String(port),
    PARLEY_HOST: '127.0.0.1',
    PARLEY_DATA_DIR: dataDir,
    PARLEY_JWT_SECRET: BENCH_SECRET,
    PARLEY_LOG_LEVEL: process.env.PARLEY_BENCH_LOG_LEVEL ?? 'warn',
    PARLEY_NODE_ID: name,
    ...env,
  });
  try {
    await waitUntil(`${name} healthy`, 60_000, async () => {
      if (!server.alive()) throw new Error(`${name} exited:\n${server.tail()}`);
      return healthy(port);
    });
  } catch (err) {
    await server.stop();
    throw new Error(`${name} did not start: ${err instanceof Error ? err.message : err}\n${server.tail()}`);
  }
  return { ...server, port, url: `ws://127.0.0.1:${port}/v1/ws` };
}

/**
 * Waits until sends to `accounts` accounts (spread over the partitions) are
 * answered through every edge: in a cluster, until every partition has a host.
 */
async function waitForService(urls: string[], accounts = 64): Promise<void> {
  for (const [e, url] of urls.entries()) {
    const account = `bench-probe-${e}`;
    const { client } = await ParleyClient.login(url, { token: await signDevToken(BENCH_SECRET, account, 600) });
    try {
      for (let k = 0; k < accounts; k++) {
        await waitUntil(`sends through ${url}`, 60_000, async () => {
          await client.request('sendText', { scene: 'p2p', to: `bench-probe-peer-${k}`, text: 'probe' });
          return true;
        });
      }
    } finally {
      client.close();
    }
  }
}

export async function startParleyTopology(mode: Mode, engineEnv: Record<string, string> = {}): Promise<Topology> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const started: { name: string; child: ChildProcess; url: string; stop(): Promise<void> }[] = [];
  let nats: NatsServer | undefined;
  const stop = async () => {
    for (const s of started.reverse()) await s.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (mode === 'embedded') {
      started.push(await startParley('parley-start', 'start', join(dir, 'start'), engineEnv));
    } else {
      nats = await startNatsServer({ jetstream: true });
      // Scenarios that tap the Bus (presence-storm) find it here; worker threads inherit it.
      process.env.PARLEY_BENCH_NATS_URL = nats.url;
      const env = { PARLEY_NATS_URL: nats.url, ...engineEnv };
      for (const n of [1, 2]) started.push(await startParley(`actors-${n}`, 'actors', join(dir, `actors-${n}`), env));
      for (const n of [1, 2]) started.push(await startParley(`edge-${n}`, 'edge', join(dir, `edge-${n}`), env));
    }
    const urls = started.filter((s) => !s.name.startsWith('actors')).map((e) => e.url);
    await waitForService(urls);
    const processes = started.map((s) => ({ name: s.name, pid: s.child.pid! }));
    if (nats !== undefined) processes.push({ name: 'nats-server', pid: nats.pid! });
    return { mode, urls, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
