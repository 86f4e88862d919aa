/**
 * The webhook feed's metrics, on the node's registry, read from the feed's
 * own counters at each scrape (nothing is counted twice on the send path).
 */
import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../metrics.ts';
import type { WebhookFeed } from './feed.ts';

/** Registers `parley_webhook_*` on `metrics`, reading `feed`. */
export function watchWebhookFeed(metrics: Metrics, feed: WebhookFeed): void {
  const registers = [metrics.registry];
  new Counter({
    name: 'parley_webhook_events_total',
    help: 'Webhook events by outcome: queued for sending, acknowledged by the receiver, recorded dead, and dead events replayed.',
    labelNames: ['outcome'],
    registers,
    collect() {
      this.reset();
      const s = feed.stats;
      for (const [outcome, v] of [
        ['queued', s.events],
        ['acknowledged', s.acknowledged],
        ['dead', s.dead],
        ['replayed', s.replayed],
      ] as const) {
        this.inc({ outcome }, v);
      }
    },
  });
  new Counter({
    name: 'parley_webhook_requests_total',
    help: 'Webhook requests made, by result: ok (a 2xx) or failed (another status, a refused connection, a timeout).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      const t = feed.senderStats();
      this.inc({ result: 'ok' }, t.acknowledged);
      this.inc({ result: 'failed' }, t.failures);
    },
  });
  new Gauge({
    name: 'parley_webhook_backlog_events',
    help: 'Webhook events queued on this node and not yet acknowledged or dead.',
    registers,
    collect() {
      this.set(feed.backlog);
    },
  });
  new Counter({
    name: 'parley_webhook_log_entries_total',
    help: 'Log entries the webhook feed read.',
    registers,
    collect() {
      this.reset();
      this.inc(feed.stats.entries);
    },
  });
}
