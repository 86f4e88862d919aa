/**
 * team-fanout: one advanced group of `members` accounts, `vus` of them
 * online (VU 0 is the owner and the one sender), the sender posting at a
 * steady `rate` messages per second. Measures delivered messages per second
 * over all online members and send-to-deliver latency, and checks that every
 * online member gets every message once and in `seq` order.
 * `dlvBusPerMsg` is the Bus messages the edges received on account delivery
 * subjects per group message over the window (the message to each online
 * member and the session updates it causes), from each edge's
 * `parley_delivery_bus_messages_total`.
 */
import { DeliveryCheck, defineScenario, stampedText } from '../driver/scenario.ts';
import { countChecks, settle } from './p2p-throughput.ts';
import { edgeCounter, metricsUrls } from './superteam-fanout.ts';

export default defineScenario({
  name: 'team-fanout',
  describe: 'one sender posting at a steady rate to a group of `members`, `vus` of them online: delivered msgs/s and send-to-deliver latency',
  options: { vus: 50, duration: 10, warmup: 2, rate: 20, members: 200, bytes: 100 },
  smoke: { vus: 5, duration: 2, warmup: 0.5, rate: 10, members: 20 },
  delivered: 'delivered',
  headline: ['delivered.rate', 'latency.p50', 'latency.p99', 'acked.rate', 'dlvBusPerMsg.count'],
  checks: ['missing == 0', 'duplicates == 0', 'orderErrors == 0'],
  // No speed threshold yet: every message also writes each member's session (O(members) user-actor commits), which
  // sets the latency today; the numbers are reported beside the p2p scenarios of the same run.
  thresholds: [],
  async vu(ctx) {
    const members = ctx.opt('members');
    const member = (i: number) => `${ctx.tag}-tf-m${i}`;
    const { client } = await ctx.login(member(ctx.vu), { edge: ctx.vu });
    // The group is created before everyone is released, with every member in it at once.
    let teamId = '';
    if (ctx.vu === 0) {
      const others = Array.from({ length: members - 1 }, (_, i) => member(i + 1));
      teamId = (await client.request('createTeam', { name: 'fanout', beInviteMode: 'noVerify', accounts: others })).team.teamId as string;
    }
    const check = new DeliveryCheck();
    let from = Infinity;
    let until = Infinity;
    /** The sender's acknowledged count, announced by its last message (`end:<n>`). */
    let total: number | undefined;
    client.onEvent = (frame) => {
      if (frame.ev !== 'msg' || frame.d.scene !== 'team' || frame.d.type !== 'text' || ctx.vu === 0) return;
      const text = frame.d.text as string;
      if (text.startsWith('end:')) {
        total = Number(text.slice(4));
        return;
      }
      const at = ctx.now();
      // The group's first message is its creation notice: texts are numbered from 2.
      const sentAt = check.deliver(text, frame.d.seq - 1);
      if (sentAt >= from && sentAt < until) ctx.trend('latency', at - sentAt, at);
      ctx.count('delivered', 1, at);
    };
    const t0 = await ctx.barrier('ready');
    from = t0 + ctx.options.warmup * 1000;
    until = from + ctx.options.duration * 1000;
    ctx.window(from, until);
    if (ctx.vu === 0) {
      const urls = metricsUrls(ctx);
      const busBefore = await edgeCounter(urls, 'parley_delivery_bus_messages_total');
      const intervalMs = 1000 / ctx.opt('rate');
      const sends: Promise<unknown>[] = [];
      let acked = 0;
      for (let k = 1, next = ctx.now(); ctx.now() < until; k++, next += intervalMs) {
        sends.push(
          client.request('sendText', { scene: 'team', to: teamId, text: stampedText(k, ctx.now(), ctx.opt('bytes')) }).then(() => {
            acked++;
            ctx.count('acked');
          }),
        );
        await ctx.sleep(Math.max(0, next + intervalMs - ctx.now()));
      }
      await Promise.all(sends);
      await client.request('sendText', { scene: 'team', to: teamId, text: `end:${acked}` });
      await ctx.barrier('received');
      ctx.count('dlvBusPerMsg', ((await edgeCounter(urls, 'parley_delivery_bus_messages_total')) - busBefore) / (acked + 1));
    } else {
      await settle(ctx, 20_000, () => total !== undefined && check.delivered >= total);
      countChecks(ctx, check, total ?? Number.POSITIVE_INFINITY);
      await ctx.barrier('received');
    }
    await ctx.barrier('done');
    client.close();
  },
});
