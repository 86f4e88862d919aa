/**
 * reconnect-sync: `vus` clients each miss `messages` messages while away,
 * then all reconnect at the same moment. Measures the time from connect to
 * `syncdone` and the synced messages per second, and checks that every
 * missed message arrives exactly once and in `seq` order. While seeding,
 * a send the engine answers with a retryable error is repeated with the same
 * idClient, as a client would (counted as `seedRetries<ERROR>`).
 */
import { DeliveryCheck, defineScenario, stampedText } from '../driver/scenario.ts';
import type { Client, VuContext } from '../driver/scenario.ts';
import { RequestError } from '../driver/client.ts';

/** Errors after which PROTOCOL.md says a send may be repeated (with the same idClient, so it is stored once). */
const RETRYABLE = new Set(['UNAVAILABLE', 'TIMEOUT', 'RATE_LIMITED']);

/** Sends one message, repeating it with the same idClient while the engine answers with a retryable error. */
async function sendWithRetry(ctx: VuContext, sender: Client, a: Record<string, unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await sender.request('sendText', a);
      return;
    } catch (err) {
      if (!(err instanceof RequestError) || !RETRYABLE.has(err.error.name) || attempt >= 20) throw err;
      ctx.count(`seedRetries${err.error.name}`);
      await ctx.sleep(50 * attempt);
    }
  }
}

export default defineScenario({
  name: 'reconnect-sync',
  describe: 'clients that missed messages reconnect at once: time to syncdone, every message once',
  options: { vus: 1000, duration: 0, warmup: 0, messages: 100, window: 2, bytes: 100 },
  smoke: { vus: 50, messages: 20 },
  delivered: 'synced',
  headline: ['syncTime.p50', 'syncTime.p99', 'syncTime.max', 'synced.rate'],
  checks: ['missing == 0', 'duplicates == 0', 'orderErrors == 0', 'syncedClients.count == vus'],
  thresholds: ['syncTime.p99 < 10000'],
  async vu(ctx) {
    const messages = ctx.opt('messages');
    const window = ctx.opt('window');
    const bytes = ctx.opt('bytes');
    const receiver = `${ctx.tag}-r${ctx.vu}`;
    // The receiver's device exists and has seen nothing, then goes away.
    (await ctx.login(receiver, { deviceId: 'phone' })).client.close();
    const { client: sender } = await ctx.login(`${ctx.tag}-s${ctx.vu}`, { edge: ctx.vu + 1 });
    let k = 0;
    const sendLoop = async () => {
      while (k < messages) {
        const n = ++k;
        await sendWithRetry(ctx, sender, { scene: 'p2p', to: receiver, idClient: `${ctx.vu}-${n}`, text: stampedText(n, ctx.now(), bytes) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, messages) }, sendLoop));
    sender.close();
    const t0 = await ctx.barrier('seeded');
    const started = ctx.now();
    const check = new DeliveryCheck();
    const { client, sync } = await ctx.login(receiver, { deviceId: 'phone', cursors: { sessions: 0, seqs: {} } });
    const done = ctx.now();
    ctx.trend('syncTime', done - started, done);
    for (const frame of sync) {
      if (frame.ev !== 'offlinemsgs') continue;
      for (const msg of frame.d.msgs) check.deliver(msg.text, msg.seq);
    }
    ctx.count('synced', check.delivered, done);
    ctx.count('syncedClients');
    ctx.count('missing', check.missing(messages));
    ctx.count('duplicates', check.duplicates);
    ctx.count('orderErrors', check.orderErrors);
    const end = await ctx.barrier('synced');
    ctx.window(t0, end);
    client.close();
  },
});
