/**
 * idle-connections: `vus` logged-in sockets held idle, spread over several
 * 127.0.0.x source addresses and logged in at `loginRate` per second.
 * Measures the edge's resident memory per held connection after a settle
 * pause, and checks that none was closed. The runner bounds the count by
 * the open-file limit (each socket is one descriptor in the driver and one
 * in the edge).
 */
import { defineScenario } from '../driver/scenario.ts';
import type { Client } from '../driver/scenario.ts';

export default defineScenario({
  name: 'idle-connections',
  describe: 'logged-in idle sockets over several 127.0.0.x addresses: edge RSS per connection',
  options: { vus: 50_000, duration: 0, warmup: 0, loginRate: 500, settleMs: 3000 },
  smoke: { vus: 300, loginRate: 1000, settleMs: 500 },
  connections: 'held',
  headline: ['held.count', 'login.p99'],
  checks: ['held.count == vus', 'closedEarly == 0'],
  thresholds: [],
  async vu(ctx) {
    await ctx.barrier('start');
    await ctx.sleep((ctx.vu / ctx.opt('loginRate')) * 1000);
    const started = ctx.now();
    let client: Client | undefined;
    try {
      ({ client } = await ctx.login(`${ctx.tag}-i${ctx.vu}`));
      ctx.trend('login', ctx.now() - started);
      ctx.count('held');
      client.onClose = () => ctx.count('closedEarly');
    } finally {
      await ctx.barrier('logged-in');
    }
    await ctx.sleep(ctx.opt('settleMs'));
    await ctx.barrier('held');
    client.onClose = () => {};
    client.close();
  },
});
