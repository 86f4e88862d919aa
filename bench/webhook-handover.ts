/**
 * The webhook feed's handover stall in cluster mode: with a receiver that
 * answers after `delayMs` and a backlog of `messages` p2p sends queued, a
 * node stops (gracefully) and a fresh one starts on the same cluster; prints
 * the ms from the fresh node's start to its feed reading every partition,
 * for `rounds` such moves. Starts its own nats-server.
 *
 *   node --import tsx bench/webhook-handover.ts [rounds=3] [messages=200] [delayMs=20]
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { connect } from '../client/index.ts';
import { parseConfig } from '../engine/config.ts';
import { startNode, type RunningNode } from '../engine/node.ts';
import { signDevToken } from '../engine/auth/jwt-verifier.ts';
import { logger } from '../engine/logger.ts';
import { startNatsServer } from '../test/helpers/nats-server.ts';

const rounds = Number(process.argv[2] ?? 3);
const messages = Number(process.argv[3] ?? 200);
const delayMs = Number(process.argv[4] ?? 20);
const JWT = 'bench-handover-jwt-secret-0123456789';
const PARTITIONS = 16;
logger.setLevel('error');

const nats = await startNatsServer();
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => setTimeout(() => res.writeHead(204).end(), delayMs));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
const dirs: string[] = [];

async function node(id: string): Promise<{ n: RunningNode; ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-handover-'));
  dirs.push(dir);
  const started = performance.now();
  const n = await startNode('start', parseConfig({
    PARLEY_PORT: '0', PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: dir, PARLEY_NODE_ID: id,
    PARLEY_NATS_URL: nats.url, PARLEY_PARTITIONS: String(PARTITIONS), PARLEY_JWT_SECRET: JWT,
    PARLEY_LOG_LEVEL: 'error', PARLEY_WEBHOOK_URL: url, PARLEY_WEBHOOK_SECRET: 'bench', PARLEY_WEBHOOK_PUSH: 'false',
  }));
  const deadline = Date.now() + 60_000;
  while (n.webhooks!.reading < PARTITIONS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return { n, ms: Math.round(performance.now() - started) };
}

const stalls: number[] = [];
let current = await node('handover-0');
const first = current.ms;
for (let r = 1; r <= rounds; r++) {
  const a = await connect({ url: `ws://127.0.0.1:${current.n.port}/v1/ws`, token: await signDevToken(JWT, `hoa${r}`, 3600), WebSocket, reconnect: false });
  for (let i = 0; i < messages; i++) await a.sendText({ scene: 'p2p', to: `hob${r}-${i % 8}`, text: `m${i}` });
  await a.destroy();
  await current.n.stop();
  current = await node(`handover-${r}`);
  stalls.push(current.ms);
}
await current.n.stop();
server.close();
await nats.stop();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
console.log(JSON.stringify({ firstStartMs: first, handoverMs: stalls, messages, delayMs }));
