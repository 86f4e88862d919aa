/**
 * p2p-throughput: pairs of accounts, each sender keeping `window` sendText
 * requests in flight to its peer. Measures acknowledged (persisted) and
 * delivered messages per second, and checks every delivered message.
 */
import { DeliveryCheck, defineScenario, stampedText } from '../driver/scenario.ts';
import type { Client, VuContext } from '../driver/scenario.ts';

/** Waits until `done()` or `ms` have passed. */
export async function settle(ctx: VuContext, ms: number, done: () => boolean): Promise<void> {
  const deadline = ctx.now() + ms;
  while (!done() && ctx.now() < deadline) await ctx.sleep(20);
}

/** Logs in a sender on one edge and its receiver on the other (the same edge when there is one). */
export async function loginPair(ctx: VuContext, name: string): Promise<{ sender: Client; receiver: Client; to: string }> {
  const to = `${ctx.tag}-${name}-b${ctx.vu}`;
  const { client: sender } = await ctx.login(`${ctx.tag}-${name}-a${ctx.vu}`, { edge: ctx.vu });
  const { client: receiver } = await ctx.login(to, { edge: ctx.vu + 1 });
  return { sender, receiver, to };
}

/** Counts a check's loss, duplicates and order errors once the stream has settled. */
export function countChecks(ctx: VuContext, check: DeliveryCheck, acked: number): void {
  ctx.count('missing', check.missing(acked));
  ctx.count('duplicates', check.duplicates);
  ctx.count('orderErrors', check.orderErrors);
}

export default defineScenario({
  name: 'p2p-throughput',
  describe: 'pairs with a bounded window of sends in flight: acknowledged (persisted) and delivered messages per second',
  options: { vus: 40, duration: 10, warmup: 2, window: 32, bytes: 100 },
  smoke: { vus: 4, duration: 2, warmup: 0.5, window: 8 },
  delivered: 'delivered',
  headline: ['acked.rate', 'delivered.rate', 'latency.p50', 'latency.p99'],
  checks: ['missing == 0', 'duplicates == 0', 'orderErrors == 0'],
  thresholds: ['delivered.rate > 500', 'latency.p99 < 2000'],
  async vu(ctx) {
    const window = ctx.opt('window');
    const bytes = ctx.opt('bytes');
    const { sender, receiver, to } = await loginPair(ctx, 'tp');
    const check = new DeliveryCheck();
    receiver.onEvent = (frame) => {
      if (frame.ev !== 'msg') return;
      const at = ctx.now();
      const sentAt = check.deliver(frame.d.text, frame.d.seq);
      if (sentAt >= from && at < until) ctx.trend('latency', at - sentAt, at);
      ctx.count('delivered', 1, at);
    };
    const t0 = await ctx.barrier('ready');
    const from = t0 + ctx.options.warmup * 1000;
    const until = from + ctx.options.duration * 1000;
    ctx.window(from, until);
    let k = 0;
    let acked = 0;
    const sendLoop = async () => {
      while (ctx.now() < until) {
        await sender.request('sendText', { scene: 'p2p', to, text: stampedText(++k, ctx.now(), bytes) });
        acked++;
        ctx.count('acked');
      }
    };
    await Promise.all(Array.from({ length: window }, sendLoop));
    await settle(ctx, 10_000, () => check.delivered >= acked);
    countChecks(ctx, check, acked);
    sender.close();
    receiver.close();
  },
});
