/**
 * p2p-latency: pairs of accounts, each sender sending at a fixed low rate
 * (`rate` messages per second per pair, not waiting for answers). Measures
 * send-to-deliver latency per message on the driver's clock, and checks
 * every delivered message.
 */
import { DeliveryCheck, defineScenario, stampedText } from '../driver/scenario.ts';
import { countChecks, loginPair, settle } from './p2p-throughput.ts';

export default defineScenario({
  name: 'p2p-latency',
  describe: 'pairs sending at a fixed low rate: send-to-deliver latency p50/p95/p99',
  options: { vus: 50, duration: 10, warmup: 2, rate: 10, bytes: 100 },
  smoke: { vus: 4, duration: 2, warmup: 0.5, rate: 20 },
  delivered: 'delivered',
  headline: ['latency.p50', 'latency.p95', 'latency.p99', 'delivered.rate'],
  checks: ['missing == 0', 'duplicates == 0', 'orderErrors == 0'],
  thresholds: ['latency.p99 < 250', 'latency.p50 < 50'],
  async vu(ctx) {
    const intervalMs = 1000 / ctx.opt('rate');
    const bytes = ctx.opt('bytes');
    const { sender, receiver, to } = await loginPair(ctx, 'lat');
    const check = new DeliveryCheck();
    let from = Infinity;
    let until = Infinity;
    receiver.onEvent = (frame) => {
      if (frame.ev !== 'msg') return;
      const at = ctx.now();
      const sentAt = check.deliver(frame.d.text, frame.d.seq);
      if (sentAt >= from && sentAt < until) ctx.trend('latency', at - sentAt, at);
      ctx.count('delivered', 1, at);
    };
    const t0 = await ctx.barrier('ready');
    from = t0 + ctx.options.warmup * 1000;
    until = from + ctx.options.duration * 1000;
    ctx.window(from, until);
    // Pairs start spread over one interval, so the sends do not come in bursts.
    await ctx.sleep((ctx.vu % 97) * (intervalMs / 97));
    const sends: Promise<unknown>[] = [];
    let acked = 0;
    for (let k = 1, next = ctx.now(); ctx.now() < until; k++, next += intervalMs) {
      sends.push(sender.request('sendText', { scene: 'p2p', to, text: stampedText(k, ctx.now(), bytes) }).then(() => acked++));
      await ctx.sleep(Math.max(0, next + intervalMs - ctx.now()));
    }
    await Promise.all(sends);
    await settle(ctx, 10_000, () => check.delivered >= acked);
    countChecks(ctx, check, acked);
    sender.close();
    receiver.close();
  },
});
