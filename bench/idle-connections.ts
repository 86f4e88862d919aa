/**
 * Engine memory per idle logged-in socket. Starts the engine as its own
 * process (`parley start`; embedded, or on NATS with a nats-server of its
 * own), logs in `--warmup` sockets, takes the engine's settled resident
 * memory, logs in `--sockets` more (distinct accounts, or `--devices`
 * sockets per account) and prints the settled growth per socket, one JSON
 * line per mode. Only the engine's memory is counted, as its anonymous
 * resident memory (RssAnon: heap and malloc; VmRSS also counts the pages of
 * LMDB's memory map, which come and go with the page cache, and is printed
 * as `vmRssBytesPerSocket`); the sockets are held by this process with `ws`.
 *
 * Settled: a full GC is run through the engine's inspector (bound to
 * 127.0.0.1) and memory is read twice a pause apart; the second reading
 * counts. `bytesPerSocketWithActors` is read right after the logins, while
 * the accounts' user actors are still in memory; `bytesPerSocket` once they
 * have left it (`--actor-idle-ms`, waited out twice), which is what an idle
 * socket costs for as long as it stays open. `--heap-snapshots` writes a
 * heap snapshot of the engine at both settled points into a temporary
 * directory, to see what each socket holds. Everything listens on 127.0.0.1
 * and is stopped at the end. `--compiled` starts the engine as production
 * does, through `engine/bin/parley.mjs` from the compiled dist/ (built first
 * when stale), instead of the TypeScript sources through tsx.
 *
 *   node --import tsx bench/idle-connections.ts [--mode embedded|nats|both] [--sockets 5000] [--devices 1] [--warmup 300] [--compiled]
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { decode, encode } from '../engine/protocol/codec.ts';
import { signDevToken } from '../engine/auth/jwt-verifier.ts';
import { logger } from '../engine/logger.ts';
import { startNatsServer } from '../test/helpers/nats-server.ts';
import type { NatsServer } from '../test/helpers/nats-server.ts';
import { freePort } from '../test/helpers/engine.ts';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at === -1 || args[at + 1] === undefined ? fallback : args[at + 1]!;
};
const intFlag = (name: string, fallback: number, max: number): number => {
  const n = Number(flag(name, String(fallback)));
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer from 1 to ${max}, got ${flag(name, '')}`);
  return n;
};
const MODE = flag('mode', 'both');
if (!['embedded', 'nats', 'both'].includes(MODE)) throw new Error(`--mode must be embedded, nats or both, got ${MODE}`);
const SOCKETS = intFlag('sockets', 5000, 15_000);
const DEVICES = intFlag('devices', 1, 64);
const WARMUP = intFlag('warmup', 300, 5000);
const ACTOR_IDLE_MS = intFlag('actor-idle-ms', 20_000, 60_000);
const COMPILED = args.includes('--compiled');
/** How the engine process runs `parley`: the compiled launcher, or the sources through tsx. */
const ENGINE_ENTRY = COMPILED ? [join(ROOT, 'engine/bin/parley.mjs')] : ['--import', 'tsx', join(ROOT, 'engine/cli.ts')];
if (COMPILED) execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { stdio: 'inherit' });
const SNAPSHOT_DIR = args.includes('--heap-snapshots') ? mkdtempSync(join(tmpdir(), 'parley-idle-heap-')) : undefined;
/** Logins in flight at once from this process. */
const CONCURRENCY = 64;
/** One socket's connect + login + sync, ms. */
const LOGIN_TIMEOUT_MS = 30_000;
/** The whole run of one mode, ms. */
const RUN_TIMEOUT_MS = 10 * 60_000;
const SECRET = 'bench-idle-secret-0123456789abcdef';

logger.setLevel('warn');


async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A minimal Chrome DevTools Protocol client: enough to run a GC and read `process.memoryUsage()`. */
class Inspector {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      const w = msg.id === undefined ? undefined : this.waiting.get(msg.id);
      if (w === undefined) return;
      this.waiting.delete(msg.id!);
      if (msg.error !== undefined) w.reject(new Error(msg.error.message));
      else w.resolve(msg.result);
    });
  }

  static async open(url: string): Promise<Inspector> {
    if (!url.startsWith('ws://127.0.0.1:')) throw new Error(`the inspector must be on 127.0.0.1, got ${url}`);
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise((done, reject) => {
      ws.once('open', done);
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`inspector ${method}: no answer`));
      }, 60_000);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

interface Engine {
  readonly child: ChildProcess;
  readonly url: string;
  readonly inspector: Inspector;
  stop(): Promise<void>;
}

async function startEngine(natsUrl: string | undefined): Promise<Engine> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-idle-'));
  const snapshots = SNAPSHOT_DIR === undefined ? [] : ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${SNAPSHOT_DIR}`];
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', ...snapshots, ...ENGINE_ENTRY, 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PARLEY_PORT: String(port),
      PARLEY_HOST: '127.0.0.1',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_JWT_SECRET: SECRET,
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_ACTOR_IDLE_MS: String(ACTOR_IDLE_MS),
      ...(natsUrl === undefined ? {} : { PARLEY_NATS_URL: natsUrl }),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (alive()) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const inspectorUrl = await pollUntil('the engine inspector', 30_000, () => {
      if (!alive()) throw new Error(`the engine exited:\n${stderr}`);
      return /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
    });
    await pollUntil('the engine to be healthy', 60_000, async () => {
      if (!alive()) throw new Error(`the engine exited:\n${stderr}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined;
      } catch {
        return undefined;
      }
    });
    const inspector = await Inspector.open(inspectorUrl);
    return { child, url: `ws://127.0.0.1:${port}/v1/ws`, inspector, stop: async () => (inspector.close(), await stop()) };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Opens a socket, logs in as `account` and resolves once the login sync is done. */
function login(url: string, account: string, deviceId: string, token: string): Promise<WebSocket> {
  return new Promise((done, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => fail(new Error(`login of ${account}/${deviceId} took over ${LOGIN_TIMEOUT_MS} ms`)), LOGIN_TIMEOUT_MS);
    const fail = (err: Error) => {
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    ws.once('error', fail);
    ws.once('close', (code) => fail(new Error(`${account}/${deviceId} closed with ${code} during login`)));
    ws.once('open', () => ws.send(encode({ id: 1, m: 'login', a: { token, deviceId } })));
    ws.on('message', (data: Buffer) => {
      const frame = decode(data) as { id?: number; e?: { message: string }; ev?: string };
      if (frame.id === 1 && frame.e !== undefined) fail(new Error(`login of ${account} failed: ${frame.e.message}`));
      else if (frame.ev === 'syncdone') {
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.on('close', () => closedEarly++);
        done(ws);
      }
    });
  });
}

let closedEarly = 0;

/** Logs in `count` sockets, `DEVICES` per account, accounts named `<tag><n>`. */
async function loginMany(url: string, tag: string, count: number, held: WebSocket[], deadline: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      if (Date.now() > deadline) throw new Error('the run took too long');
      const k = next++;
      const account = `${tag}${Math.floor(k / DEVICES)}`;
      const token = await signDevToken(SECRET, account, 3600);
      held.push(await login(url, account, `d${k % DEVICES}`, token));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

interface Sample {
  /** VmRSS: resident memory, including mapped files (LMDB's pages, the binary's code). */
  rss: number;
  /** RssAnon: resident memory of the process's own allocations (heap, malloc), which sockets add to. */
  anon: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** VmRSS and RssAnon of `pid`, bytes. */
function residentOf(pid: number): { rss: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) * 1024;
  return { rss: kib('VmRSS'), anon: kib('RssAnon') };
}

/** Runs a full GC and reads memory twice a pause apart; returns the second reading. */
async function settle(engine: Engine): Promise<Sample> {
  let sample: Sample | undefined;
  for (let i = 0; i < 2; i++) {
    await engine.inspector.call('HeapProfiler.collectGarbage');
    await sleep(1000);
    const usage = await engine.inspector.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const mem = JSON.parse(usage.result.value as string) as { heapUsed: number; heapTotal: number; external: number };
    sample = { ...residentOf(engine.child.pid!), heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external };
  }
  return sample!;
}

/**
 * With `--heap-snapshots`: has the engine write a snapshot into SNAPSHOT_DIR
 * (Node's `--heapsnapshot-signal`) and waits until it is complete. Writing
 * one grows the engine's memory, so figures of such a run are rough.
 */
async function snapshot(engine: Engine): Promise<void> {
  if (SNAPSHOT_DIR === undefined) return;
  const files = () => readdirSync(SNAPSHOT_DIR).filter((f) => f.endsWith('.heapsnapshot'));
  const count = files().length;
  engine.child.kill('SIGUSR2');
  const file = await pollUntil('the heap snapshot', 120_000, () => (files().length > count ? files().sort().at(-1) : undefined));
  let size = -1;
  await pollUntil('the heap snapshot to be written', 120_000, async () => {
    await sleep(1000);
    const now = statSync(join(SNAPSHOT_DIR, file)).size;
    if (now === size) return true;
    size = now;
    return undefined;
  });
  console.error(`heap snapshot: ${join(SNAPSHOT_DIR, file)}`);
}

async function run(mode: 'embedded' | 'nats'): Promise<void> {
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  let nats: NatsServer | undefined;
  let engine: Engine | undefined;
  const held: WebSocket[] = [];
  closedEarly = 0;
  try {
    if (mode === 'nats') nats = await startNatsServer({ jetstream: true });
    engine = await startEngine(nats?.url);
    await engine.inspector.call('HeapProfiler.enable');
    await loginMany(engine.url, 'warm', WARMUP, held, deadline);
    await sleep(ACTOR_IDLE_MS * 2 + 500);
    const before = await settle(engine);
    await snapshot(engine);
    const started = performance.now();
    await loginMany(engine.url, 'idle', SOCKETS, held, deadline);
    const loginSec = (performance.now() - started) / 1000;
    const withActors = await settle(engine);
    await sleep(ACTOR_IDLE_MS * 2 + 500);
    const after = await settle(engine);
    await snapshot(engine);
    if (closedEarly > 0) throw new Error(`${closedEarly} logged-in sockets were closed by the engine`);
    const per = (k: keyof Sample, at = after) => Math.round((at[k] - before[k]) / SOCKETS);
    const mib = (n: number) => +(n / 1024 / 1024).toFixed(1);
    console.log(
      JSON.stringify({
        mode,
        engine: COMPILED ? 'compiled' : 'tsx',
        sockets: SOCKETS,
        devicesPerAccount: DEVICES,
        warmup: WARMUP,
        loginSec: +loginSec.toFixed(1),
        anonRssMiB: { before: mib(before.anon), withActors: mib(withActors.anon), after: mib(after.anon) },
        bytesPerSocketWithActors: per('anon', withActors),
        bytesPerSocket: per('anon'),
        vmRssBytesPerSocket: per('rss'),
        heapBytesPerSocket: per('heapUsed'),
        heapReservedBytesPerSocket: per('heapTotal'),
        externalBytesPerSocket: per('external'),
      }),
    );
  } finally {
    for (const ws of held) ws.terminate();
    await engine?.stop();
    await nats?.stop();
  }
}

for (const mode of MODE === 'both' ? (['embedded', 'nats'] as const) : [MODE as 'embedded' | 'nats']) await run(mode);
process.exit(0);
