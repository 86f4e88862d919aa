/**
 * A real HTTP webhook receiver on 127.0.0.1 for tests: it checks every
 * request's signature, answers 200 or 500 as told (optionally after a
 * delay), and can be down (nothing listening: connections are refused)
 * and come back on the same port.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { verifyWebhook } from '../../engine/webhooks/signature.ts';
import type { WebhookEvent } from '../../engine/webhooks/sender.ts';
import { freePort } from './engine.ts';

export class WebhookReceiver {
  readonly port: number;
  readonly url: string;
  private readonly secret: string;
  private server: Server | undefined;
  /** What to answer: 200 or 500. */
  status = 200;
  /** Pause before answering, ms. */
  delayMs = 0;
  /** Every event answered 200, in arrival order (duplicates included). */
  readonly accepted: WebhookEvent[] = [];
  /** Requests answered 500. */
  failed = 0;
  /** Requests whose signature or id header did not check out. */
  badSignatures = 0;

  private constructor(port: number, secret: string) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}/hook`;
    this.secret = secret;
  }

  /** A receiver on a free port, down until `up()`. */
  static async reserve(secret: string): Promise<WebhookReceiver> {
    return new WebhookReceiver(await freePort(), secret);
  }

  /** Starts listening. */
  async up(): Promise<void> {
    if (this.server !== undefined) return;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const answer = () => {
          let event: WebhookEvent;
          try {
            event = JSON.parse(body) as WebhookEvent;
          } catch {
            this.badSignatures++;
            res.writeHead(400).end();
            return;
          }
          if (!verifyWebhook(this.secret, req.headers['parley-signature'] as string | undefined, body) || req.headers['parley-webhook-id'] !== event.id) {
            this.badSignatures++;
            res.writeHead(401).end();
            return;
          }
          if (this.status !== 200) {
            this.failed++;
            res.writeHead(this.status).end('no');
            return;
          }
          this.accepted.push(event);
          res.writeHead(200).end('ok');
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and drops open connections: later requests are refused. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepted events with duplicates (same id) removed, first arrival kept. */
  unique(): WebhookEvent[] {
    const seen = new Set<string>();
    return this.accepted.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
  }
}
