/**
 * connect: a login storm. Every VU opens a socket and logs in at the same
 * moment; measures logins per second, the time to `syncdone`, and the edge's
 * resident memory per connection once all are logged in.
 */
import { defineScenario } from '../driver/scenario.ts';
import type { Client } from '../driver/scenario.ts';

export default defineScenario({
  name: 'connect',
  describe: 'login storm: logins/s, login (connect to syncdone) p99, edge RSS per connection after login',
  options: { vus: 2000, duration: 0, warmup: 0 },
  smoke: { vus: 100 },
  connections: 'held',
  headline: ['logins.rate', 'login.p50', 'login.p99'],
  checks: ['held.count == vus', 'closedEarly == 0'],
  thresholds: ['login.p99 < 5000'],
  async vu(ctx) {
    const account = `${ctx.tag}-c${ctx.vu}`;
    const t0 = await ctx.barrier('start');
    const started = ctx.now();
    let client: Client;
    try {
      ({ client } = await ctx.login(account));
    } catch (err) {
      ctx.count('loginFailures');
      await ctx.barrier('held');
      throw err;
    }
    ctx.trend('login', ctx.now() - started);
    ctx.count('logins');
    ctx.count('held');
    client.onClose = () => ctx.count('closedEarly');
    const heldAt = await ctx.barrier('held');
    ctx.window(t0, heldAt);
    client.onClose = () => {};
    client.close();
  },
});
