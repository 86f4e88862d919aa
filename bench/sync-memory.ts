/**
 * What sockets that never read their login sync cost the server: spawns an
 * embedded engine (`parley start`) as a child process, gives one account
 * `sessions` conversations of `perSession` messages of `chars` characters,
 * then opens `sockets` sockets of that account which log in with no cursors
 * and read nothing. Samples the engine's resident memory for `seconds`, then
 * resumes the sockets and counts the ones the engine had closed.
 *
 *   node --import tsx bench/sync-memory.ts [--sockets 20] [--sessions 8] [--per-session 600] [--chars 1000] [--seconds 15] [--root <checkout>]
 *
 * `--root` runs another checkout's engine (to compare before and after a change).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { connect } from '../client/index.ts';
import type { ParleyClient } from '../client/index.ts';
import { signDevToken } from '../engine/auth/jwt-verifier.ts';
import { encode } from '../engine/protocol/codec.ts';
import { freePort, healthy } from '../test/helpers/engine.ts';

const { values } = parseArgs({
  options: {
    sockets: { type: 'string', default: '20' },
    sessions: { type: 'string', default: '8' },
    'per-session': { type: 'string', default: '600' },
    chars: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '15' },
    root: { type: 'string', default: resolve(import.meta.dirname, '..') },
  },
});
const sockets = Number(values.sockets);
const sessions = Number(values.sessions);
const perSession = Number(values['per-session']);
const chars = Number(values.chars);
const seconds = Number(values.seconds);
const root = resolve(values.root!);
const SECRET = 'sync-memory-bench-secret-0123456789';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dataDir = mkdtempSync(join(tmpdir(), 'parley-sync-memory-'));
const port = await freePort();
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'engine/cli.ts'), 'start'], {
  cwd: root,
  env: { ...process.env, PARLEY_PORT: String(port), PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: dataDir, PARLEY_JWT_SECRET: SECRET, PARLEY_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
const url = `ws://127.0.0.1:${port}/v1/ws`;
const clients: ParleyClient[] = [];
try {
  for (let i = 0; !(await healthy(port)); i++) {
    if (i > 300) throw new Error('the engine did not become healthy');
    await sleep(100);
  }
  const victim = `victim${Date.now().toString(36)}`;
  const text = 'm'.repeat(chars);
  const peers = await Promise.all(
    Array.from({ length: sessions }, async (_, i) => {
      const c = await connect({ url, token: await signDevToken(SECRET, `peer${i}x${victim}`, 3600), WebSocket, reconnect: false });
      clients.push(c);
      return c;
    }),
  );
  await Promise.all(
    peers.map(async (p) => {
      for (let k = 0; k < perSession; k += 100) {
        await Promise.all(Array.from({ length: Math.min(100, perSession - k) }, () => p.sendText({ scene: 'p2p', to: victim, text })));
      }
    }),
  );
  const watcher = await connect({ url, token: await signDevToken(SECRET, victim, 3600), WebSocket, reconnect: false });
  clients.push(watcher);
  for (let i = 0; ; i++) {
    const page = await watcher.getServerSessions({ limit: 100, needLastMsg: false });
    if (page.sessionList.length === sessions && page.sessionList.every((s) => s.unread === perSession)) break;
    if (i > 600) throw new Error('the sessions were not complete in time');
    await sleep(50);
  }
  await sleep(2000);
  const before = rssMiB();

  const token = await signDevToken(SECRET, victim, 3600);
  const raw = await Promise.all(
    Array.from(
      { length: sockets },
      () =>
        new Promise<{ ws: WebSocket; closed: boolean; synced: boolean }>((ok, fail) => {
          const ws = new WebSocket(url);
          const s = { ws, closed: false, synced: false };
          ws.on('close', () => (s.closed = true));
          ws.on('error', () => {});
          ws.on('message', (data: Buffer) => {
            if (data.includes('syncdone')) s.synced = true;
          });
          ws.once('open', () => {
            ws.send(encode({ id: 1, m: 'login', a: { token } }));
            (ws as unknown as { _socket: { pause(): void } })._socket.pause();
            ok(s);
          });
          ws.once('error', fail);
        }),
    ),
  );
  let peak = before;
  for (let t = 0; t < seconds * 4; t++) {
    await sleep(250);
    peak = Math.max(peak, rssMiB());
  }
  const after = rssMiB();
  for (const s of raw) (s.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  await sleep(3000);
  const closed = raw.filter((s) => s.closed && !s.synced).length;
  console.log(
    JSON.stringify({
      root,
      sockets,
      offlineBytesPerSocket: sessions * perSession * chars,
      rssMiB: { before: Math.round(before), peak: Math.round(peak), afterWindow: Math.round(after) },
      peakDeltaMiB: Math.round(peak - before),
      peakDeltaPerSocketMiB: Number(((peak - before) / sockets).toFixed(2)),
      closedWithoutSync: closed,
      stillOpen: raw.filter((s) => !s.closed).length,
    }),
  );
  for (const s of raw) s.ws.terminate();
} finally {
  await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
