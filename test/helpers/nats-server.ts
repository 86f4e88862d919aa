/**
 * Starts real nats-server processes for tests: a random port on 127.0.0.1, a
 * temporary store directory, readiness checked by polling (never a fixed
 * sleep). A missing binary is an error, never a reason to skip: the NATS
 * suites must fail loudly when they cannot run.
 *
 * Binary lookup order: `$NATS_SERVER_BIN`, `<repo>/.tools/bin/nats-server`
 * (installed by `node scripts/ensure-nats-server.mjs`), then `PATH`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { atExit, killAtExit } from './exit-hook.ts';
import { setupOrFail } from './setup-or-fail.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The nats-server version the suites are pinned to (see scripts/ensure-nats-server.mjs). */
export const PINNED_NATS_SERVER_VERSION = 'v2.12.3';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Path of the nats-server binary; throws with instructions when there is none. */
export function findNatsServer(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isExecutable(fromEnv)) throw new Error(`NATS_SERVER_BIN=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const tools = join(REPO_ROOT, '.tools', 'bin', 'nats-server');
  if (isExecutable(tools)) return tools;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'nats-server');
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(
    'nats-server not found: the NATS test suites need it and are never skipped. ' +
      `Run \`node scripts/ensure-nats-server.mjs\` (installs ${PINNED_NATS_SERVER_VERSION} into .tools/bin with Go), ` +
      'set NATS_SERVER_BIN, or put nats-server on PATH.',
  );
}

export interface NatsServerOptions {
  /** Enable JetStream with a temporary store directory. Default true. */
  jetstream?: boolean;
  /**
   * JetStream `sync_interval`: `'always'` fsyncs every write before it is
   * acknowledged; a duration such as `'2m'` (the server's default) syncs
   * periodically. Unset: the server's default.
   */
  syncInterval?: string;
  /** Extra lines for the server's configuration file, e.g. `max_pending: 1MB`. */
  extraConfig?: string;
  /** How long to wait for the server to accept connections (and JetStream to answer), ms. Default 15000. */
  readyTimeoutMs?: number;
}

export interface NatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** JetStream store directory (inside the temporary directory removed by stop()). */
  readonly storeDir: string;
  /** Process id of the running server, undefined while it is not running. */
  readonly pid: number | undefined;
  /** Terminates the server (if running) and removes its temporary directory. Idempotent. */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL: a crash) and waits for the process to exit. The store is kept. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the server if it runs, then starts it again on the same port and store directory, and waits until ready. */
  restart(): Promise<void>;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, tail: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let delayMs = 10; ; delayMs = Math.min(delayMs * 2, 200)) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`nats-server: ${what} not reached within ${timeoutMs} ms${cause}\n--- server output ---\n${tail()}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

/**
 * Starts a nats-server on a random free port of 127.0.0.1 and resolves once
 * it accepts connections (and, with JetStream, answers `$JS.API.INFO`).
 * Call `stop()` in an `afterAll`/`finally`; a process exit hook kills any
 * server left running.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = findNatsServer();
  const jetstream = options.jetstream ?? true;
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;

  const root = mkdtempSync(join(tmpdir(), 'parley-nats-'));
  const forgetRoot = atExit(() => rmSync(root, { recursive: true, force: true }));
  const storeDir = join(root, 'store');
  const portsDir = join(root, 'ports');
  const confPath = join(root, 'nats.conf');
  const useConfig = options.syncInterval !== undefined || options.extraConfig !== undefined;
  if (useConfig) {
    let conf = options.extraConfig === undefined ? '' : `${options.extraConfig}\n`;
    if (jetstream) {
      const sync = options.syncInterval === undefined ? '' : `  sync_interval: ${JSON.stringify(options.syncInterval)}\n`;
      conf += `jetstream {\n  store_dir: ${JSON.stringify(storeDir)}\n${sync}}\n`;
    }
    writeFileSync(confPath, conf);
  }

  let child: ChildProcess | undefined;
  let port = -1;
  let output: string[] = [];
  let stopped = false;
  const tail = () => output.slice(-40).join('');

  const launch = async (portArg: number) => {
    rmSync(portsDir, { recursive: true, force: true });
    mkdirSync(portsDir);
    const args = ['-a', '127.0.0.1', '-p', String(portArg), '--ports_file_dir', portsDir];
    if (useConfig) args.unshift('-c', confPath);
    else if (jetstream) args.unshift('-js', '-sd', storeDir);
    output = [];
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    killAtExit(proc);
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.splice(0, output.length - 200);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const spawnError = new Promise<never>((_, reject) => proc.once('error', reject));
    spawnError.catch(() => {});

    const exited = () => proc.exitCode !== null || proc.signalCode !== null;
    // The ports file is written once the client listener is bound.
    port = await Promise.race([
      spawnError,
      pollUntil('client port', readyTimeoutMs, async () => {
        if (exited()) throw new Error(`exited with ${proc.exitCode ?? proc.signalCode}`);
        if (!existsSync(portsDir)) return undefined;
        const file = readdirSync(portsDir).find((f) => f.endsWith('.ports'));
        if (file === undefined) return undefined;
        const ports = JSON.parse(readFileSync(join(portsDir, file), 'utf8')) as { nats?: string[] };
        const url = ports.nats?.[0];
        return url === undefined ? undefined : Number(new URL(url).port);
      }, tail),
    ]);
    await pollUntil(jetstream ? 'JetStream ready' : 'accepting connections', readyTimeoutMs, async () => {
      if (exited()) throw new Error(`exited with ${proc.exitCode ?? proc.signalCode}`);
      const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: 1000 });
      try {
        if (jetstream) await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
        return true;
      } finally {
        await nc.close();
      }
    }, tail);
  };

  const terminate = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (proc === undefined) return;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    if (!(await waitForExit(proc, 10_000))) {
      proc.kill('SIGKILL');
      await waitForExit(proc, 5_000);
    }
  };

  try {
    await launch(-1);
  } catch (err) {
    await terminate('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    forgetRoot();
    throw err;
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid() {
      return child?.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate('SIGTERM');
      rmSync(root, { recursive: true, force: true });
      forgetRoot();
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await terminate(signal);
    },
    async restart() {
      if (stopped) throw new Error('nats-server: restart() after stop()');
      await terminate('SIGTERM');
      await launch(port);
    },
  };
}

/**
 * Starts a server for the enclosing `describe` and stops it after. If it
 * cannot start (no binary, say), every test of the block fails with that
 * error instead of being skipped. Returns a getter for the running server.
 */
export function useNatsServer(options: NatsServerOptions = {}): () => NatsServer {
  let server: NatsServer | undefined;
  let failure: unknown;
  setupOrFail(async () => {
    try {
      server = await startNatsServer(options);
    } catch (err) {
      failure = err;
      throw err;
    }
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw failure ?? new Error('nats-server: used outside a test');
    return server;
  };
}
