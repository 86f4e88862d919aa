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
import { defineScenario } from '../driver/scenario.ts';
import { runGroupFanout } from '../driver/group-fanout.ts';

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
    await runGroupFanout(ctx, client, {
      scene: 'team',
      teamId,
      busCounter: 'parley_delivery_bus_messages_total',
      // The group's first message is its creation notice: texts are numbered from 2.
      position: (seq) => seq - 1,
      report: (sent, bus) => ctx.count('dlvBusPerMsg', bus / sent),
    });
  },
});
