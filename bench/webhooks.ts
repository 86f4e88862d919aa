/**
 * Webhooks end to end from the Log, on one node (embedded, or cluster mode
 * with PARLEY_NATS_URL set), with SDK clients over real sockets:
 *
 * 1. Delivery rate: `messages` p2p sends fill the Log while the receiver is
 *    down; then it comes up (a local HTTP server checking every signature)
 *    and the feed drains the backlog: msg.sent events/s delivered, plus bad
 *    signatures, duplicates and out-of-order events seen by the receiver.
 * 2. Sends are not slowed by a receiver that is down: p2p sends/s for
 *    `seconds` with no webhooks, then on a fresh node whose webhook URL
 *    refuses connections, in the same run; the ratio of the two.
 *
 *   node --import tsx bench/webhooks.ts [messages=5000] [seconds=5] [pairs=16]
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { connect } from '../client/index.ts';
import type { ParleyClient } from '../client/index.ts';
import { parseConfig } from '../engine/config.ts';
import { startNode, type RunningNode } from '../engine/node.ts';
import { signDevToken } from '../engine/auth/jwt-verifier.ts';
import { verifyWebhook } from '../engine/webhooks/signature.ts';
import { logger } from '../engine/logger.ts';

const messages = Number(process.argv[2] ?? 5000);
const seconds = Number(process.argv[3] ?? 5);
const pairs = Number(process.argv[4] ?? 16);
const JWT = 'bench-webhooks-jwt-secret-0123456789';
const HOOK = 'bench-webhooks-secret';
const natsUrl = process.env.PARLEY_NATS_URL ?? '';

async function freePort(): Promise<number> {
  const { createServer: net } = await import('node:net');
  return new Promise((resolve) => {
    const s = net().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function node(env: Record<string, string>): Promise<{ node: RunningNode; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-webhooks-'));
  const config = parseConfig({ PARLEY_PORT: '0', PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: dir, PARLEY_JWT_SECRET: JWT, PARLEY_LOG_LEVEL: 'warn', ...(natsUrl === '' ? {} : { PARLEY_NATS_URL: natsUrl }), ...env });
  const n = await startNode('start', config);
  // In a cluster the partitions come with the leases, which a node stopped just before may still hold for a while.
  for (let i = 0; i < 300 && natsUrl !== ''; i++) {
    if ((await n.metrics?.text())?.includes(`parley_partitions_owned ${config.partitions}`)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { node: n, dir };
}

async function clients(n: RunningNode, tag: string): Promise<ParleyClient[]> {
  const out: ParleyClient[] = [];
  for (let i = 0; i < pairs; i++) {
    out.push(await connect({ url: `ws://127.0.0.1:${n.port}/v1/ws`, token: await signDevToken(JWT, `${tag}s${i}`, 3600), WebSocket, reconnect: false }));
  }
  return out;
}

let failed = 0;

/** Each client sends to its own peer, one send in flight per client, until `until` (ms) or `count` sends in all. */
async function send(cs: ParleyClient[], tag: string, until: number, count = Infinity): Promise<number> {
  let sent = 0;
  await Promise.all(
    cs.map(async (c, i) => {
      while (Date.now() < until && sent < count) {
        try {
          await c.sendText({ scene: 'p2p', to: `${tag}r${i}`, text: `m${sent + 1}` });
          sent++;
        } catch (err) {
          if (c.state === 'closed' || c.state === 'destroyed') return;
          // A partition moving (a loaded machine's leases lapse): counted, and the sender goes on.
          failed++;
          if (failed % 1000 === 1) console.error(`send failed: ${(err as Error).message}`);
        }
      }
    }),
  );
  return sent;
}

async function stop(x: { node: RunningNode; dir: string }, cs: ParleyClient[]): Promise<void> {
  await Promise.all(cs.map((c) => c.destroy().catch(() => undefined)));
  await x.node.stop();
  rmSync(x.dir, { recursive: true, force: true });
}

logger.setLevel('warn');
const mode = natsUrl === '' ? 'embedded' : 'cluster';

// 1. Delivery rate from the Log.
{
  const port = await freePort();
  const lastSeq = new Map<string, number>();
  const seen = new Set<string>();
  let delivered = 0;
  let bad = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let lastAt = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!verifyWebhook(HOOK, req.headers['parley-signature'] as string | undefined, body)) bad++;
      const e = JSON.parse(body) as { id: string; type: string; data: { from: string; to: string; seq: number } };
      res.writeHead(204).end();
      if (seen.has(e.id)) {
        duplicates++;
        return;
      }
      seen.add(e.id);
      if (e.type !== 'msg.sent') return;
      const lane = `${e.data.from}|${e.data.to}`;
      if ((lastSeq.get(lane) ?? 0) > e.data.seq) outOfOrder++;
      lastSeq.set(lane, e.data.seq);
      delivered++;
      lastAt = performance.now();
    });
  });
  const x = await node({ PARLEY_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, PARLEY_WEBHOOK_SECRET: HOOK, PARLEY_WEBHOOK_RETRY_MIN_MS: '50', PARLEY_WEBHOOK_RETRY_MAX_MS: '200' });
  const cs = await clients(x.node, 'd');
  const sent = await send(cs, 'd', Infinity, messages);
  const start = performance.now();
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
  for (let i = 0; i < 600 && delivered < sent; i++) await new Promise((r) => setTimeout(r, 100));
  const secs = (lastAt - start) / 1000;
  console.log(`webhooks (${mode}): ${delivered}/${sent} msg.sent events delivered from a Log backlog in ${secs.toFixed(2)} s = ${Math.round(delivered / secs)} events/s over ${pairs} conversations; bad signatures ${bad}, duplicates ${duplicates}, out of order ${outOfOrder}`);
  await stop(x, cs);
  receiver.closeAllConnections();
  receiver.close();
}

// 2. p2p sends with no webhooks vs with a receiver that refuses connections, same run.
// Alternated twice, so that a machine busy with other work weighs on both alike.
const rates: Record<string, number[]> = { 'no webhooks': [], 'receiver down': [] };
const downUrl = `http://127.0.0.1:${await freePort()}/hook`;
const runs = [
  ['no webhooks', {}],
  ['receiver down', { PARLEY_WEBHOOK_URL: downUrl, PARLEY_WEBHOOK_SECRET: HOOK }],
] as const;
for (const [name, env] of [...runs, ...runs]) {
  const x = await node(env);
  const cs = await clients(x.node, name === 'no webhooks' ? 'a' : 'b');
  await send(cs, 'w', Date.now() + 500); // warm up
  const t0 = performance.now();
  const n = await send(cs, name === 'no webhooks' ? 'a' : 'b', Date.now() + seconds * 1000);
  const rate = n / ((performance.now() - t0) / 1000);
  rates[name]!.push(rate);
  console.log(`p2p-throughput (${mode}), ${name}: ${Math.round(rate)} sends/s (${n} in ${seconds} s, ${pairs} senders, one send in flight each)${x.node.webhooks ? `; webhook backlog ${x.node.webhooks.backlog}` : ''}`);
  await stop(x, cs);
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
if (failed > 0) console.log(`sends refused and not counted: ${failed}`);
console.log(`ratio receiver down / no webhooks: ${(sum(rates['receiver down']!) / sum(rates['no webhooks']!)).toFixed(3)} (sums of two alternated runs each)`);
process.exit(0);
