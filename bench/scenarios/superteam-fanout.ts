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
import { DeliveryCheck, defineScenario, readStamp, stampedText } from '../driver/scenario.ts';
import type { VuContext } from '../driver/scenario.ts';
import { countChecks, settle } from './p2p-throughput.ts';

/** Most accounts one `addSuperTeamMembers` names. */
const BATCH = 200;

/** The edges' WebSocket URLs as their `/metrics` URLs, each once. */
export function metricsUrls(ctx: VuContext): string[] {
  const urls = new Set<string>();
  for (let e = 0; e < 8; e++) {
    const u = new URL(ctx.url(e));
    urls.add(`http://${u.host}/metrics`);
  }
  return [...urls];
}

/** The sum over the edges of one Prometheus counter. */
export async function edgeCounter(urls: readonly string[], name: string): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    if (line !== undefined) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export default defineScenario({
  name: 'superteam-fanout',
  describe: 'one sender posting at a steady rate to a supergroup of `members`, `vus` of them online over the edges: delivered msgs/s, send-to-deliver latency, group-subject Bus messages per message',
  options: { vus: 1000, duration: 10, warmup: 2, rate: 5, members: 10_000, bytes: 100 },
  smoke: { vus: 6, duration: 2, warmup: 0.5, rate: 10, members: 30 },
  delivered: 'delivered',
  headline: ['delivered.rate', 'latency.p50', 'latency.p99', 'busPerMsg.count', 'groupMessages.count'],
  checks: ['missing == 0', 'duplicates == 0', 'orderErrors == 0'],
  thresholds: [],
  // Adding members in batches of 200 reports each batch to every member's team index (the member count changed), so a
  // batch takes longer as the group grows: the edges wait up to a minute for one.
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
    const check = new DeliveryCheck();
    let from = Infinity;
    let until = Infinity;
    let total: number | undefined;
    /** seq minus the send counter: the texts follow the membership notices. */
    let offset: number | undefined;
    client.onEvent = (frame) => {
      if (frame.ev !== 'msg' || frame.d.scene !== 'superTeam' || frame.d.type !== 'text' || ctx.vu === 0) return;
      const text = frame.d.text as string;
      if (text.startsWith('end:')) {
        total = Number(text.slice(4));
        return;
      }
      const at = ctx.now();
      offset ??= frame.d.seq - readStamp(text).k;
      const sentAt = check.deliver(text, frame.d.seq - offset);
      if (sentAt >= from && sentAt < until) ctx.trend('latency', at - sentAt, at);
      ctx.count('delivered', 1, at);
    };
    const t0 = await ctx.barrier('ready');
    from = t0 + ctx.options.warmup * 1000;
    until = from + ctx.options.duration * 1000;
    ctx.window(from, until);
    if (ctx.vu === 0) {
      const urls = metricsUrls(ctx);
      const busBefore = await edgeCounter(urls, 'parley_group_bus_messages_total');
      const intervalMs = 1000 / ctx.opt('rate');
      const sends: Promise<unknown>[] = [];
      let acked = 0;
      for (let k = 1, next = ctx.now(); ctx.now() < until; k++, next += intervalMs) {
        sends.push(
          client.request('sendText', { scene: 'superTeam', to: teamId, text: stampedText(k, ctx.now(), ctx.opt('bytes')) }).then(() => {
            acked++;
            ctx.count('acked');
          }),
        );
        await ctx.sleep(Math.max(0, next + intervalMs - ctx.now()));
      }
      await Promise.all(sends);
      await client.request('sendText', { scene: 'superTeam', to: teamId, text: `end:${acked}` });
      // Every edge has had the end message once the members' own counts settle; the Bus count is read after it.
      await ctx.barrier('received');
      const sent = acked + 1;
      const bus = (await edgeCounter(urls, 'parley_group_bus_messages_total')) - busBefore;
      ctx.count('groupMessages', sent);
      ctx.count('busPerMsg', bus / sent);
    } else {
      await settle(ctx, 20_000, () => total !== undefined && check.delivered >= total);
      countChecks(ctx, check, total ?? Number.POSITIVE_INFINITY);
      await ctx.barrier('received');
    }
    await ctx.barrier('done');
    client.close();
  },
});
