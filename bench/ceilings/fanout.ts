/**
 * The driver against the bare uWebSockets.js fan-out server: VUs are split
 * into topics of `group` subscribers; the first VU of each topic also
 * publishes, keeping `window` 200-byte frames in flight (a frame is done when
 * its own copy comes back), so one publish reaches `group` sockets. Counts
 * every frame delivered to a subscriber in the measured window. Run by the
 * ceilings, not a Parley scenario (it lives outside bench/scenarios).
 */
import { LeanSocket } from '../driver/lean-socket.ts';
import { defineScenario } from '../driver/scenario.ts';
import type { VuContext } from '../driver/scenario.ts';

/** The publisher of a topic: `window` frames in flight until `until`, then drains. */
function publish(ctx: VuContext, socket: LeanSocket, until: number): Promise<void> {
  const payload = new Uint8Array(ctx.opt('bytes')).fill(7);
  return new Promise<void>((done) => {
    let inFlight = ctx.opt('window');
    socket.onMessage = () => {
      ctx.count('delivered');
      if (ctx.now() < until) socket.send(payload);
      else if (--inFlight === 0) done();
    };
    socket.onClose = () => done();
    for (let i = 0; i < inFlight; i++) socket.send(payload);
  });
}

export default defineScenario({
  name: 'uws-fanout',
  describe: 'bare uWebSockets.js topic publish of 200-byte binary frames, each delivered to every subscriber of its topic (50 by default), same driver',
  options: { vus: 200, duration: 5, warmup: 1, group: 50, window: 8, bytes: 200 },
  smoke: { vus: 20, group: 10, duration: 1, warmup: 0.5 },
  delivered: 'delivered',
  headline: ['delivered.rate'],
  checks: [],
  thresholds: [],
  async vu(ctx) {
    const group = ctx.opt('group');
    const topic = Math.floor(ctx.vu / group);
    const { hostname, port } = new URL(ctx.url());
    const socket = await LeanSocket.open({ host: hostname, port: Number(port), path: `/fanout/t${topic}` });
    socket.onMessage = () => ctx.count('delivered');
    // Every socket is subscribed before the first publish.
    const t0 = await ctx.barrier('subscribed');
    const from = t0 + ctx.options.warmup * 1000;
    const until = from + ctx.options.duration * 1000;
    ctx.window(from, until);
    if (ctx.vu % group === 0) await publish(ctx, socket, until);
    // Subscribers stay until every publisher has drained its window.
    await ctx.barrier('drained');
    socket.terminate();
  },
});
