/**
 * What the group fan-out scenarios (team-fanout, superteam-fanout) share:
 * the edges' Prometheus counters, and the measured part of a run in which
 * VU 0 posts to one group at a steady `rate` while every other VU counts
 * what it receives.
 */
import { DeliveryCheck, stampedText } from './scenario.ts';
import type { VuContext } from './scenario.ts';
import { countChecks, settle } from '../scenarios/p2p-throughput.ts';

type Client = Awaited<ReturnType<VuContext['login']>>['client'];

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

export interface GroupFanout {
  scene: 'team' | 'superTeam';
  /** The group VU 0 posts to (read by VU 0 only). */
  teamId: string;
  /** The edge counter read before and after the window (Bus messages the edges received). */
  busCounter: string;
  /** The send counter of a received text at `seq`, which the delivery check expects in order. */
  position(seq: number, text: string): number;
  /** VU 0's figures once every member has received: messages sent (with the end message) and the counter's rise. */
  report(sent: number, bus: number): void;
}

/**
 * From the `ready` barrier to `done`: VU 0 sends stamped texts at `rate` in
 * the window and then `end:<acked>`; every other VU records latency and
 * deliveries and checks it got every text once and in order.
 */
export async function runGroupFanout(ctx: VuContext, client: Client, g: GroupFanout): Promise<void> {
  const check = new DeliveryCheck();
  let from = Infinity;
  let until = Infinity;
  /** The sender's acknowledged count, announced by its last message (`end:<n>`). */
  let total: number | undefined;
  client.onEvent = (frame) => {
    if (frame.ev !== 'msg' || frame.d.scene !== g.scene || frame.d.type !== 'text' || ctx.vu === 0) return;
    const text = frame.d.text as string;
    if (text.startsWith('end:')) {
      total = Number(text.slice(4));
      return;
    }
    const at = ctx.now();
    const sentAt = check.deliver(text, g.position(frame.d.seq, text));
    if (sentAt >= from && sentAt < until) ctx.trend('latency', at - sentAt, at);
    ctx.count('delivered', 1, at);
  };
  const t0 = await ctx.barrier('ready');
  from = t0 + ctx.options.warmup * 1000;
  until = from + ctx.options.duration * 1000;
  ctx.window(from, until);
  if (ctx.vu === 0) {
    const urls = metricsUrls(ctx);
    const busBefore = await edgeCounter(urls, g.busCounter);
    const intervalMs = 1000 / ctx.opt('rate');
    const sends: Promise<unknown>[] = [];
    let acked = 0;
    for (let k = 1, next = ctx.now(); ctx.now() < until; k++, next += intervalMs) {
      sends.push(
        client.request('sendText', { scene: g.scene, to: g.teamId, text: stampedText(k, ctx.now(), ctx.opt('bytes')) }).then(() => {
          acked++;
          ctx.count('acked');
        }),
      );
      await ctx.sleep(Math.max(0, next + intervalMs - ctx.now()));
    }
    await Promise.all(sends);
    await client.request('sendText', { scene: g.scene, to: g.teamId, text: `end:${acked}` });
    // Every edge has had the end message once the members' own counts settle; the counter is read after it.
    await ctx.barrier('received');
    g.report(acked + 1, (await edgeCounter(urls, g.busCounter)) - busBefore);
  } else {
    await settle(ctx, 20_000, () => total !== undefined && check.delivered >= total);
    countChecks(ctx, check, total ?? Number.POSITIVE_INFINITY);
    await ctx.barrier('received');
  }
  await ctx.barrier('done');
  client.close();
}
