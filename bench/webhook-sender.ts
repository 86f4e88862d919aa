/**
 * Webhook delivery rate: a local HTTP receiver that checks every signature
 * and answers 204, and the webhook sender delivering `n` events spread over
 * `lanes` conversations (one request in flight per lane, in order). Prints
 * events/s delivered and the receiver's view: bad signatures, duplicates
 * (the same id again) and events out of order within a lane.
 *
 *   node --import tsx bench/webhook-sender.ts [n=20000] [lanes=64]
 */
import { createServer } from 'node:http';
import { logger } from '../engine/logger.ts';
import { WebhookSender } from '../engine/webhooks/sender.ts';
import { verifyWebhook } from '../engine/webhooks/signature.ts';

logger.setLevel('warn');
const n = Number(process.argv[2] ?? 20_000);
const lanes = Number(process.argv[3] ?? 64);
const secret = 'bench-webhook-secret';
const lastByLane = new Map<string, number>();
let received = 0;
let badSignatures = 0;
let outOfOrder = 0;
/** The same event again (a try whose answer the sender did not get): allowed, with the same id. */
let duplicates = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (!verifyWebhook(secret, req.headers['parley-signature'] as string | undefined, body)) badSignatures++;
    const { data } = JSON.parse(body) as { data: { lane: string; n: number } };
    const last = lastByLane.get(data.lane) ?? -1;
    if (last === data.n) duplicates++;
    else if (last > data.n) outOfOrder++;
    lastByLane.set(data.lane, data.n);
    received++;
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;
let acknowledged = 0;
let done!: () => void;
const finished = new Promise<void>((resolve) => (done = resolve));
const sender = new WebhookSender({
  url: `http://127.0.0.1:${port}/hook`,
  secret,
  onAcknowledged: () => {
    if (++acknowledged === n) done();
  },
});
const started = performance.now();
for (let i = 0; i < n; i++) {
  const lane = `conv-${i % lanes}`;
  sender.enqueue(lane, { id: `ev-${i}`, type: 'msg.sent', time: Date.now(), data: { lane, n: i, text: 'x'.repeat(100) } });
}
await finished;
const seconds = (performance.now() - started) / 1000;
sender.stop();
server.close();
console.log(JSON.stringify({ events: n, lanes, eventsPerSec: Math.round(n / seconds), received, duplicates, badSignatures, outOfOrder, tries: sender.stats.tries }));
