/**
 * The operator's view: `parley config`, the quick start without a configured
 * secret, `parley token`, and roles that refuse to start without what they need.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import { spawnEngine, tempDir, type SpawnedEngine } from '../helpers/engine.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'engine/bin/parley.mjs');

function parley(args: string[], env: Record<string, string> = {}) {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('PARLEY_')) delete clean[k];
  return run(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...clean, ...env } });
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('parley CLI', () => {
  // The launcher builds dist/ when it is stale; doing it here keeps a cold tsc run out of the tests' own timeouts.
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }, 180_000);

  it('prints every configuration variable with its effective value', async () => {
    const { stdout } = await parley(['config', '--partitions', '16'], { PARLEY_PORT: '9001' });
    for (const v of ['PARLEY_PORT=9001', 'PARLEY_DATA_DIR=./data', 'PARLEY_PARTITIONS=16', 'PARLEY_NATS_URL=', 'PARLEY_LOGIN_TIMEOUT_MS=10000', 'PARLEY_MAX_FRAME_BYTES=1048576', 'PARLEY_JWT_SECRET=(unset)']) {
      expect(stdout).toContain(v);
    }
  });

  it('names a bad setting and exits non-zero', async () => {
    await expect(parley(['config'], { PARLEY_PORT: 'eighty' })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('PARLEY_PORT must be an integer') });
    await expect(parley(['config', '--no-such-flag'])).rejects.toMatchObject({ code: 2 });
  });

  it('refuses to run edge or actors without PARLEY_NATS_URL', async () => {
    await expect(parley(['edge'], { PARLEY_PORT: '0' })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('PARLEY_NATS_URL') });
    await expect(parley(['actors'], { PARLEY_PORT: '0' })).rejects.toMatchObject({ code: 1 });
  });

  it('serves logins on a first start without a secret, with tokens from `parley token`', async () => {
    const dataDir = tempDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const engine: SpawnedEngine = await spawnEngine({ dataDir, noSecret: true });
    cleanup.push(() => engine.kill('SIGTERM'));
    const { stdout } = await parley(['token', 'alice'], { PARLEY_DATA_DIR: dataDir });
    const client = await connect({ url: engine.url, token: stdout.trim(), WebSocket, reconnect: false });
    cleanup.push(() => client.destroy());
    expect(client.account).toBe('alice');
  });

  it('stops gracefully on SIGTERM', async () => {
    const dataDir = tempDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const engine = await spawnEngine({ dataDir });
    engine.process.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
  });
});
