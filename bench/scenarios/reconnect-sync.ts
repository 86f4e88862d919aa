/**
 * reconnect-sync: `vus` clients each miss `messages` messages while away,
 * then all reconnect at the same moment. Measures the time from connect to
 * `syncdone` and the synced messages per second, and checks that every
 * missed message arrives exactly once and in `seq` order.
 */
import { DeliveryCheck, defineScenario, stampedText } from '../driver/scenario.ts';

export default defineScenario({
  name: 'reconnect-sync',
  describe: 'clients that missed messages reconnect at once: time to syncdone, every message once',
  options: { vus: 1000, duration: 0, warmup: 0, messages: 100, window: 10, bytes: 100 },
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
      while (k < messages) await sender.request('sendText', { scene: 'p2p', to: receiver, text: stampedText(++k, ctx.now(), bytes) });
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
