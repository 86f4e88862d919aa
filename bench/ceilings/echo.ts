/**
 * The driver against the bare uWebSockets.js echo server: each VU keeps
 * `window` 200-byte frames in flight on one socket for the measured window.
 * Run by the ceilings, not a Parley scenario (it lives outside bench/scenarios).
 */
import { LeanSocket } from '../driver/lean-socket.ts';
import { defineScenario } from '../driver/scenario.ts';

export default defineScenario({
  name: 'uws-echo',
  describe: 'bare uWebSockets.js echo of 200-byte binary frames, same driver',
  options: { vus: 40, duration: 5, warmup: 1, window: 32, bytes: 200 },
  smoke: { vus: 4, duration: 1, warmup: 0.5 },
  delivered: 'echoed',
  headline: ['echoed.rate'],
  checks: [],
  thresholds: [],
  async vu(ctx) {
    const { hostname, port } = new URL(ctx.url());
    const socket = await LeanSocket.open({ host: hostname, port: Number(port), path: '/echo' });
    const payload = new Uint8Array(ctx.opt('bytes')).fill(7);
    const t0 = await ctx.barrier('ready');
    const from = t0 + ctx.options.warmup * 1000;
    const until = from + ctx.options.duration * 1000;
    ctx.window(from, until);
    await new Promise<void>((done) => {
      let inFlight = ctx.opt('window');
      socket.onMessage = () => {
        ctx.count('echoed');
        if (ctx.now() < until) socket.send(payload);
        else if (--inFlight === 0) done();
      };
      socket.onClose = () => done();
      for (let i = 0; i < inFlight; i++) socket.send(payload);
    });
    socket.terminate();
  },
});
