/**
 * The webhook sender against a real local HTTP receiver that verifies every
 * signature: down (connection refused), then answering 500, then
 * recovering. Every event arrives, exactly once by id after dedup, in order
 * per conversation; an event out of retries is handed over as dead.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookSender, retryDelayMs } from '../../engine/webhooks/sender.ts';
import type { WebhookEvent } from '../../engine/webhooks/sender.ts';
import { signWebhook, verifyWebhook } from '../../engine/webhooks/signature.ts';
import { freePort } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';

const SECRET = 'whsec-test-0123456789';

interface Receipt {
  id: string;
  lane: string;
  status: number;
}

/** A receiver on `port` that answers `status()` to each request after checking its signature. */
async function receiver(port: number, status: () => number, receipts: Receipt[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signed = verifyWebhook(SECRET, req.headers['parley-signature'] as string | undefined, body);
      const event = JSON.parse(body) as WebhookEvent & { data: { lane: string } };
      const answer = signed && req.headers['parley-webhook-id'] === event.id ? status() : 401;
      receipts.push({ id: event.id, lane: event.data.lane, status: answer });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

const servers: Server[] = [];
const senders: WebhookSender[] = [];
afterEach(async () => {
  for (const s of senders.splice(0)) s.stop();
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

describe('webhook signatures', () => {
  it('verifies its own signature and refuses a changed body, another secret or an old timestamp', () => {
    const body = '{"id":"e1"}';
    const header = signWebhook(SECRET, body);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(SECRET, header, body)).toBe(true);
    expect(verifyWebhook(SECRET, header, '{"id":"e2"}')).toBe(false);
    expect(verifyWebhook('another', header, body)).toBe(false);
    expect(verifyWebhook(SECRET, signWebhook(SECRET, body, Math.floor(Date.now() / 1000) - 3600), body)).toBe(false);
    expect(verifyWebhook(SECRET, undefined, body)).toBe(false);
  });

  it('backs off exponentially up to the cap, with jitter in the upper half', () => {
    expect(retryDelayMs(1, 500, 60_000, () => 0)).toBe(250);
    expect(retryDelayMs(1, 500, 60_000, () => 0.999999)).toBe(500);
    expect(retryDelayMs(4, 500, 60_000, () => 0.5)).toBe(3000);
    expect(retryDelayMs(40, 500, 60_000, () => 0.999999)).toBe(60_000);
  });
});

describe('webhook sender', () => {
  it('delivers every event exactly once by id, in order per conversation, through refusals and 500s', async () => {
    const port = await freePort();
    const acked: { id: string; lane: string }[] = [];
    const sender = new WebhookSender({
      url: `http://127.0.0.1:${port}/hook`,
      secret: SECRET,
      retryMinMs: 10,
      retryMaxMs: 80,
      timeoutMs: 2000,
      onAcknowledged: (e, lane) => acked.push({ id: e.id, lane }),
    });
    senders.push(sender);
    const lanes = ['p2p-a|b', 'p2p-a|c', 'team-1'];
    const sent: Record<string, string[]> = {};
    for (let i = 0; i < 60; i++) {
      const lane = lanes[i % lanes.length]!;
      const event = { id: `ev-${i}`, type: 'msg.sent', time: Date.now(), data: { lane, n: i } };
      (sent[lane] ??= []).push(event.id);
      sender.enqueue(lane, event);
    }
    // Queuing returned before any try was made: it never waits on the receiver.
    expect(sender.stats.tries).toBe(0);
    expect(sender.backlog).toBe(60);

    // Down: every try is refused.
    await waitFor('tries refused while the receiver is down', () => sender.stats.failures >= 6);
    expect(acked).toEqual([]);
    // Up, answering 500 to the first 10 requests, then 200.
    const receipts: Receipt[] = [];
    let answered = 0;
    servers.push(await receiver(port, () => (++answered <= 10 ? 500 : 200), receipts));
    await waitFor('every event acknowledged', () => acked.length === 60, 15_000);
    expect(sender.backlog).toBe(0);

    expect(receipts.filter((r) => r.status === 500)).toHaveLength(10);
    expect(receipts.every((r) => r.status === 200 || r.status === 500)).toBe(true);
    const accepted = receipts.filter((r) => r.status === 200);
    // Exactly once by id after dedup: every id accepted, none missing.
    expect(new Set(accepted.map((r) => r.id))).toEqual(new Set(Object.values(sent).flat()));
    for (const lane of lanes) {
      const firstAcceptance = [...new Map(accepted.filter((r) => r.lane === lane).map((r) => [r.id, r])).keys()];
      expect(firstAcceptance).toEqual(sent[lane]);
      // No event of a lane reached the receiver before the previous one was accepted.
      const seen = receipts.filter((r) => r.lane === lane).map((r) => r.id);
      for (let i = 1; i < seen.length; i++) expect(sent[lane]!.indexOf(seen[i]!)).toBeGreaterThanOrEqual(sent[lane]!.indexOf(seen[i - 1]!));
      expect(acked.filter((a) => a.lane === lane).map((a) => a.id)).toEqual(sent[lane]);
    }
  });

  it('hands an event over as dead once its retry time is spent, and carries on with the lane', async () => {
    const port = await freePort();
    const receipts: Receipt[] = [];
    servers.push(await receiver(port, () => 500, receipts));
    const dead: { id: string; error: string }[] = [];
    const sender = new WebhookSender({
      url: `http://127.0.0.1:${port}/hook`,
      secret: SECRET,
      retryMinMs: 10,
      retryMaxMs: 40,
      retryForMs: 300,
      onDead: (e, _lane, error) => dead.push({ id: e.id, error }),
    });
    senders.push(sender);
    sender.enqueue('c1', { id: 'x1', type: 'msg.sent', time: Date.now(), data: { lane: 'c1' } });
    sender.enqueue('c1', { id: 'x2', type: 'msg.recalled', time: Date.now(), data: { lane: 'c1' } });
    await waitFor('both events dead', () => dead.length === 2, 10_000);
    expect(dead.map((d) => d.id)).toEqual(['x1', 'x2']);
    expect(dead[0]!.error).toBe('HTTP 500');
    // Retried with fresh signatures until the time ran out.
    expect(receipts.filter((r) => r.id === 'x1').length).toBeGreaterThan(2);
    expect(sender.backlog).toBe(0);
  });
});
