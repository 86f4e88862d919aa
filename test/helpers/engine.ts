/**
 * Starts a Parley node for a test: in-process (`startEngine`) or as a child
 * process (`spawnEngine`, for kill -9), embedded or on a NATS server, on a
 * random port with a temporary data directory.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../engine/config.ts';
import type { Config } from '../../engine/config.ts';
import { startNode } from '../../engine/node.ts';
import type { RunningNode, Role } from '../../engine/node.ts';
import { signDevToken } from '../../engine/auth/jwt-verifier.ts';
import { waitFor } from './wait.ts';
import { killAtExit } from './exit-hook.ts';

export const TEST_SECRET = 'parley-test-secret-0123456789abcdef';
const ROOT = resolve(import.meta.dirname, '../..');

export function tempDir(prefix = 'parley-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A token for `account` signed with the test secret. */
export function tokenFor(account: string, ttlSec = 3600): Promise<string> {
  return signDevToken(TEST_SECRET, account, ttlSec);
}

export interface EngineOptions {
  role?: Role;
  natsUrl?: string;
  dataDir?: string;
  /** Extra environment variables (PARLEY_*). */
  env?: Record<string, string>;
  /** Leave PARLEY_JWT_SECRET unset. */
  noSecret?: boolean;
  /** Port for a spawned engine; default a free one. */
  port?: number;
}

export interface TestEngine {
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  readonly config: Config;
  /** The node's edge (roles `start` and `edge`), for its live counters. */
  readonly edge: RunningNode['edge'];
  /** Calls the node's actors over its Bus. */
  readonly actors: RunningNode['actors'];
  stop(): Promise<void>;
}

function envFor(opts: EngineOptions, dataDir: string, port: number): Record<string, string> {
  return {
    PARLEY_PORT: String(port),
    PARLEY_HOST: '127.0.0.1',
    PARLEY_DATA_DIR: dataDir,
    ...(opts.noSecret ? {} : { PARLEY_JWT_SECRET: TEST_SECRET }),
    PARLEY_LOG_LEVEL: process.env.PARLEY_TEST_LOG_LEVEL ?? 'error',
    ...(opts.natsUrl !== undefined ? { PARLEY_NATS_URL: opts.natsUrl } : {}),
    ...opts.env,
  };
}

/** Runs a node inside the test process. */
export async function startEngine(opts: EngineOptions = {}): Promise<TestEngine> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? tempDir();
  const config = parseConfig(envFor(opts, dataDir, 0));
  let node: RunningNode;
  try {
    node = await startNode(opts.role ?? 'start', config);
  } catch (err) {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    port: node.port,
    url: `ws://127.0.0.1:${node.port}/v1/ws`,
    dataDir,
    config,
    edge: node.edge,
    actors: node.actors,
    async stop() {
      await node.stop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface SpawnedEngine {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code or signal once the process has ended. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** True when the node on `port` answers `/readyz` 200: it serves (logins, partitions, NATS). */
export async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Runs `parley <role>` as a child process and waits for /readyz 200: the
 * TypeScript sources through tsx, or with `compiled` the production launcher
 * (`engine/bin/parley.mjs`, which runs dist/ and builds it when stale).
 */
export async function spawnEngine(opts: EngineOptions & { dataDir: string; compiled?: boolean }): Promise<SpawnedEngine> {
  const port = opts.port ?? (await freePort());
  const env: Record<string, string | undefined> = { ...process.env, ...envFor(opts, opts.dataDir, port) };
  if (opts.noSecret) delete env.PARLEY_JWT_SECRET;
  const entry = opts.compiled ? [join(ROOT, 'engine/bin/parley.mjs')] : ['--import', 'tsx', join(ROOT, 'engine/cli.ts')];
  const child = spawn(process.execPath, [...entry, opts.role ?? 'start'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  killAtExit(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | NodeJS.Signals | null>((done) => child.once('exit', (code, signal) => done(signal ?? code)));
  let ended = false;
  void exited.then(() => (ended = true));
  try {
    await waitFor(`parley on port ${port} to be healthy`, async () => {
      if (ended) throw new Error(`parley exited before it was healthy:\n${stderr}`);
      return healthy(port);
    }, 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    url: `ws://127.0.0.1:${port}/v1/ws`,
    process: child,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!ended) child.kill(signal);
      await exited;
    },
  };
}
