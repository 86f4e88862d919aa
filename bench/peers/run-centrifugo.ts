/**
 * Centrifugo as a peer: the pinned binary from scripts/ensure-centrifugo.mjs
 * (built with `go install` the first time), memory broker, HS256 connection
 * tokens, a `personal` namespace that clients may subscribe to and publish
 * into. Driven through its own JavaScript client by centrifugo-driver.ts,
 * with the same p2p throughput and latency runs as the Socket.IO relay.
 * When no binary can be had the run says so and goes on without it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../test/helpers/engine.ts';
import { spawnServer, waitUntil } from '../driver/topology.ts';
import { drivePeer } from './run-peers.ts';
import type { PeerResult } from './run-peers.ts';

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, '../..');
const SECRET = 'parley-bench-centrifugo-secret-0123456789';

function centrifugoBinary(): string | undefined {
  try {
    return execFileSync(process.execPath, [join(ROOT, 'scripts/ensure-centrifugo.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch {
    return undefined;
  }
}

function config(port: number): object {
  return {
    http_server: { address: '127.0.0.1', port },
    engine: { type: 'memory' },
    log: { level: 'error' },
    client: { token: { hmac_secret_key: SECRET }, allowed_origins: ['*'] },
    channel: { namespaces: [{ name: 'personal', allow_subscribe_for_client: true, allow_publish_for_client: true }] },
  };
}

export async function runCentrifugo(seconds: number): Promise<PeerResult[]> {
  const bin = centrifugoBinary();
  if (bin === undefined) {
    process.stderr.write('peers: Centrifugo skipped (no binary; see scripts/ensure-centrifugo.mjs)\n');
    return [];
  }
  process.stderr.write(`peers: Centrifugo (${execFileSync(bin, ['version'], { encoding: 'utf8' }).trim()})\n`);
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-centrifugo-'));
  const port = await freePort();
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config(port)));
  const server = spawnServer('centrifugo', bin, ['-c', join(dir, 'config.json')]);
  try {
    await waitUntil('Centrifugo listening', 20_000, async () => {
      if (!server.alive()) throw new Error(`centrifugo exited:\n${server.tail()}`);
      await fetch(`http://127.0.0.1:${port}/`);
      return true;
    });
    const driver = join(HERE, 'centrifugo-driver.ts');
    const pid = server.child.pid!;
    return [
      await drivePeer('Centrifugo', 'p2p-throughput', pid, [driver, String(port), SECRET, '40', String(seconds), '32']),
      await drivePeer('Centrifugo', 'p2p-latency', pid, [driver, String(port), SECRET, '50', String(seconds), '0', '10']),
    ];
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
