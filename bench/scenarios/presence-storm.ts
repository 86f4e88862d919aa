/**
 * presence-storm: every account watched by `watchers` others (VU v
 * subscribes to the next `watchers` VUs' accounts). Then, all at once,
 * every account logs a second device in (a login storm: the engine
 * publishes online status 1 to its watchers) and publishes `events` custom
 * events. Measures events delivered to subscribers per second and Bus
 * messages per published event; checks that every watcher got every event.
 *
 * Bus messages per event: the publishes on the per-publisher event subjects
 * are counted by a tap on the Bus (cluster mode: a NATS connection
 * subscribed to `parley.evt.>`), plus one delivery of each to every edge
 * holding watchers of its publisher (the edge subscribes once per
 * publisher, whatever the number of its watchers there). Without the fan-out
 * of the edges it would be one message per subscriber (`watchers`).
 */
import { connect } from '@nats-io/transport-node';
import { defineScenario } from '../driver/scenario.ts';
import type { Client } from '../driver/scenario.ts';
import { settle } from './p2p-throughput.ts';

export default defineScenario({
  name: 'presence-storm',
  describe: 'login storm with every account watched by `watchers` others: events delivered/s, Bus messages per event',
  options: { vus: 1000, duration: 0, warmup: 0, watchers: 100, events: 2, settleMs: 60_000 },
  smoke: { vus: 20, watchers: 5, events: 1, settleMs: 15_000 },
  connections: 'held',
  delivered: 'delivered',
  headline: ['delivered.rate', 'busPerEvent.avg', 'statusDelivered.count', 'stormLoginFailures.count'],
  checks: ['missing == 0', 'statusMissing == 0'],
  thresholds: ['busPerEvent.avg < 4'],
  async vu(ctx) {
    const { vus } = ctx.options;
    const watchers = Math.min(ctx.opt('watchers'), vus - 1);
    const events = ctx.opt('events');
    const name = (v: number) => `${ctx.tag}-ps${((v % vus) + vus) % vus}`;
    const edges = new Set(Array.from({ length: 8 }, (_, i) => ctx.url(i))).size;
    const expected = watchers * events;
    let delivered = 0;
    let statuses = 0;
    const onEvent = (f: { ev?: string; d?: any }) => {
      if (f.ev !== 'pushevents') return;
      for (const e of f.d.msgEvents as Array<{ value: number; custom?: string; time: number }>) {
        if (e.value > 10000 && e.custom === ctx.tag) {
          delivered++;
          ctx.count('delivered');
          ctx.trend('eventLatency', ctx.now() - e.time);
        } else if (e.value === 1 && e.custom === undefined && e.time >= stormAt) {
          statuses++;
          ctx.count('statusDelivered');
        }
      }
    };
    let stormAt = Number.POSITIVE_INFINITY;
    const { client } = await ctx.login(name(ctx.vu));
    client.onEvent = onEvent;
    const watched = Array.from({ length: watchers }, (_, i) => name(ctx.vu + 1 + i));
    for (let i = 0; i < watched.length; i += 100) await client.request('subscribeEvent', { type: 1, accounts: watched.slice(i, i + 100) });
    ctx.count('held');
    // Every account logged in and watching: the edges' memory per connection is read here.
    await ctx.barrier('held');

    // The tap: one VU counts the publishes on the event subjects (cluster mode only).
    const natsUrl = process.env.PARLEY_BENCH_NATS_URL;
    const tap = ctx.vu === 0 && natsUrl !== undefined ? await connect({ servers: natsUrl }) : undefined;
    let tapped = 0;
    tap?.subscribe('parley.evt.>', {
      callback: () => {
        tapped++;
      },
    });
    await tap?.flush();

    stormAt = await ctx.barrier('storm');
    let second: Client | undefined;
    // The second device's login and the publishes go together; a failed login (its sync closed with 1011) is counted, the events still go.
    const storm = ctx.login(name(ctx.vu), { deviceId: 'storm' }).then(
      (r) => (second = r.client),
      () => ctx.count('stormLoginFailures'),
    );
    try {
      for (let i = 0; i < events; i++) await client.request('publishEvent', { type: 1, value: 10001 + i, custom: ctx.tag, broadcastType: 1 });
      await storm;
    } finally {
      await settle(ctx, ctx.opt('settleMs'), () => delivered >= expected && statuses >= watchers);
      const doneAt = await ctx.barrier('done');
      ctx.window(stormAt, doneAt);
      ctx.count('missing', Math.max(0, expected - delivered));
      ctx.count('statusMissing', Math.max(0, watchers - statuses));
      // Edges holding watchers of this account (VU w is on edge w mod edges): each gets each event once.
      const watcherEdges = new Set(Array.from({ length: watchers }, (_, i) => (((ctx.vu - 1 - i) % vus) + vus) % vus % edges)).size;
      if (tap !== undefined) {
        // Taken at the barrier: the closes after it publish status 3, not part of the storm.
        const seen = tapped;
        // Per published event (custom and status alike): what the tap saw, plus the deliveries to edges.
        const published = vus * (events + 1);
        ctx.trend('busPerEvent', seen / published + watcherEdges, doneAt);
        await tap.close();
      } else ctx.trend('busPerEvent', 1 + watcherEdges, doneAt);
      second?.close();
      client.close();
    }
  },
});
