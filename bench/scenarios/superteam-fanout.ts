/**
 * superteam-fanout: one supergroup of `members` accounts, `vus` of them
 * online spread over the edges (VU 0 is the owner and the one sender), the
 * sender posting at a steady `rate` messages per second. Measures delivered
 * messages per second over all online members, send-to-deliver latency, and
 * the Bus messages the edges received on the group's subject per message
 * (`busPerMsg`: one per edge with members online, whatever their number),
 * read from each edge's `parley_group_bus_messages_total` over the window.
 * Checks that every online member gets every message once and in `seq`
 * order. The report sets delivery beside the bare uWebSockets.js topic
 * publish ceiling of the same run.
 */
import { defineScenario, readStamp } from '../driver/scenario.ts';
import type { VuContext } from '../driver/scenario.ts';
import { runGroupFanout } from '../driver/group-fanout.ts';

/** Most accounts one `addSuperTeamMembers` names. */
const BATCH = 200;

export default defineScenario({
  name: 'superteam-fanout',
  describe: 'one sender posting at a steady rate to a supergroup of `members`, `vus` of them online over the edges: delivered msgs/s, send-to-deliver latency, group-subject Bus messages per message',
  options: { vus: 1000, duration: 10, warmup: 2, rate: 5, members: 10_000, bytes: 100 },
  smoke: { vus: 6, duration: 2, warmup: 0.5, rate: 10, members: 30 },
  delivered: 'delivered',
  headline: ['delivered.rate', 'latency.p50', 'latency.p99', 'busPerMsg.count', 'groupMessages.count'],
  checks: ['missing == 0', 'duplicates == 0', 'orderErrors == 0'],
  thresholds: [],
  // Adding members in batches of 200: each batch reports to the joiners' team indexes and sends its callback once on the
  // group subject; the edges still wait up to a minute for one on a loaded machine.
  engineEnv: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true', PARLEY_REQUEST_TIMEOUT_MS: '60000' },
  async vu(ctx) {
    const members = ctx.opt('members');
    const member = (i: number) => `${ctx.tag}-sf-m${i}`;
    // The owner creates the supergroup with every member first; the others log in after it, their login sync
    // subscribing their edge to it (as members coming online do).
    let teamId = '';
    let owner: Awaited<ReturnType<VuContext['login']>>['client'] | undefined;
    if (ctx.vu === 0) {
      owner = (await ctx.login(member(0), { edge: 0 })).client;
      const others = Array.from({ length: members - 1 }, (_, i) => member(i + 1));
      teamId = (await owner.request('createSuperTeam', { name: 'fanout', beInviteMode: 'noVerify', accounts: others.slice(0, BATCH) })).team.teamId as string;
      for (let from = BATCH; from < others.length; from += BATCH) await owner.request('addSuperTeamMembers', { teamId, accounts: others.slice(from, from + BATCH) });
    }
    await ctx.barrier('created');
    const client = owner ?? (await ctx.login(member(ctx.vu), { edge: ctx.vu })).client;
    /** seq minus the send counter: the texts follow the membership notices. */
    let offset: number | undefined;
    await runGroupFanout(ctx, client, {
      scene: 'superTeam',
      teamId,
      busCounter: 'parley_group_bus_messages_total',
      position: (seq, text) => seq - (offset ??= seq - readStamp(text).k),
      report: (sent, bus) => {
        ctx.count('groupMessages', sent);
        ctx.count('busPerMsg', bus / sent);
      },
    });
  },
});
