/**
 * Spawned engines a test may kill -9 and start again on the same data
 * directory (and, in NATS mode, the same server), with the SDK clients it
 * opened: everything is killed, destroyed and removed after each test.
 */
import { afterEach } from 'vitest';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ConnectOptions, ParleyClient } from '../../client/index.ts';
import { spawnEngine, tempDir, tokenFor, type SpawnedEngine } from './engine.ts';
import type { Mode } from './modes.ts';

export interface CrashableEngines {
  /** Starts an engine on the test's data directory (made on the first start of each test), with `env` added to its environment. */
  start(env?: Record<string, string>): Promise<SpawnedEngine>;
  /** An SDK client of `account` on `engine` that does not reconnect by itself; `options` add to its connect options. */
  client(engine: SpawnedEngine, account: string, options?: Partial<ConnectOptions>): Promise<ParleyClient>;
  /** The test's data directory (after the first `start`). */
  dataDir(): string;
}

export function useCrashableEngines(engineOptions: Mode['engineOptions']): CrashableEngines {
  let dir: string | undefined;
  const engines: SpawnedEngine[] = [];
  const clients: ParleyClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.destroy().catch(() => {})));
    await Promise.all(engines.splice(0).map((e) => e.kill('SIGKILL')));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  return {
    async start(env) {
      dir ??= tempDir();
      const e = await spawnEngine(engineOptions(env === undefined ? { dataDir: dir } : { dataDir: dir, env }));
      engines.push(e);
      return e;
    },
    async client(engine, account, options) {
      const c = await connect({ ...options, url: engine.url, token: await tokenFor(account), WebSocket, reconnect: false });
      clients.push(c);
      return c;
    },
    dataDir() {
      if (dir === undefined) throw new Error('no engine was started in this test yet');
      return dir;
    },
  };
}
