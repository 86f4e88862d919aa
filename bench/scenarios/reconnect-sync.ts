/**
 * reconnect-sync: `vus` clients each miss `messages` messages while away,
 * then all reconnect at the same moment. Measures the time from connect to
 * `syncdone` and the synced messages per second, and checks that every
 * missed message arrives exactly once and in `seq` order. While seeding,
 * a send the engine answers with a retryable error is repeated with the same
 * idClient, as a client would (counted as `seedRetries<ERROR>`).
 *
 * Seeding is pipelined but bounded: each pair keeps up to `window` sends in
 * flight, and all the pairs of one driver worker together at most `inflight`.
 * Without that bound, 1,000 pairs put 2,000 sends into the engine at once; in
 * a cluster each waited in the actor hosts' queues longer than the edge's
 * per-attempt share of its request budget, came back TIMEOUT, and was sent
 * again, so the repeats became most of the load and the seeding of 100,000
 * messages did not end within five minutes. `seedTime` is how long a pair
 * took to store its messages, `seeded/s` the store rate over time.
 *
 * An edge whose login sync fails closes the socket with 1011 ("reconnect");
 * the client then logs in again from the same cursors, as a client that kept
 * nothing of the partial sync would (counted as `syncRetries`). `syncTime`
 * runs from the first connect to the `syncdone` of the sync that completed.
 *
 * In the cluster, 1,000 receivers reconnecting at once once made the actor
 * hosts lose their partition leases: a host renewed its leases only after
 * listing the live hosts, which took over two seconds while JetStream was
 * busy with the burst, so every lease ran out, the partitions moved while
 * the load lasted, and most login syncs ended with 1011. Leases now renew on
 * their own schedule (engine/actor/lease-ownership.ts), and the cluster runs
 * the full 1,000 like the embedded engine.
 */
import { DeliveryCheck, defineScenario, stampedText } from '../driver/scenario.ts';
import type { Client, VuContext } from '../driver/scenario.ts';
import { ClosedDuringLogin, RequestError } from '../driver/client.ts';

/** Errors after which PROTOCOL.md says a send may be repeated (with the same idClient, so it is stored once). */
const RETRYABLE = new Set(['UNAVAILABLE', 'TIMEOUT', 'RATE_LIMITED']);

/** Close code of a failed login sync: the client reconnects. */
const SYNC_FAILED = 1011;

/** Logs the receiver in from empty cursors, again after a failed sync (1011), up to 5 times. */
async function reconnect(ctx: VuContext, receiver: string): Promise<Awaited<ReturnType<VuContext['login']>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.login(receiver, { deviceId: 'phone', cursors: { sessions: 0, seqs: {} } });
    } catch (err) {
      if (!(err instanceof ClosedDuringLogin) || err.code !== SYNC_FAILED || attempt >= 5) throw err;
      ctx.count('syncRetries');
      await ctx.sleep(500 * attempt * (1 + Math.random()));
    }
  }
}

/** A counting gate: at most `free` holders at once, the others wait in arrival order. */
class Gate {
  private readonly waiting: (() => void)[] = [];
  private free: number;

  constructor(places: number) {
    this.free = places;
  }

  async enter(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  leave(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.free++;
  }
}

/** The sends in flight of this driver worker's VUs (each worker thread imports this file once). */
let seedGate: Gate | undefined;

/**
 * Sends one message, repeating it with the same idClient while the engine
 * answers with a retryable error. The send holds a place in the worker's gate
 * until it is stored, through its backoffs, so repeats never add to the load.
 */
async function sendWithRetry(ctx: VuContext, sender: Client, a: Record<string, unknown>): Promise<void> {
  seedGate ??= new Gate(ctx.opt('inflight'));
  await seedGate.enter();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await sender.request('sendText', a);
        ctx.count('seeded');
        return;
      } catch (err) {
        if (!(err instanceof RequestError) || !RETRYABLE.has(err.error.name) || attempt >= 20) throw err;
        ctx.count(`seedRetries${err.error.name}`);
        await ctx.sleep(50 * attempt);
      }
    }
  } finally {
    seedGate.leave();
  }
}

export default defineScenario({
  name: 'reconnect-sync',
  describe: 'clients that missed messages reconnect at once: time to syncdone, every message once',
  options: { vus: 1000, duration: 0, warmup: 0, messages: 100, window: 2, inflight: 200, bytes: 100 },
  smoke: { vus: 50, messages: 20 },
  delivered: 'synced',
  headline: ['seedTime.max', 'syncTime.p50', 'syncTime.p99', 'syncTime.max', 'synced.rate'],
  checks: ['missing == 0', 'duplicates == 0', 'orderErrors == 0', 'syncedClients.count == vus'],
  thresholds: ['syncTime.p99 < 10000'],
  async vu(ctx) {
    const messages = ctx.opt('messages');
    const window = ctx.opt('window');
    const bytes = ctx.opt('bytes');
    const receiver = `${ctx.tag}-r${ctx.vu}`;
    // The receiver's device exists and has seen nothing, then goes away.
    (await ctx.login(receiver, { deviceId: 'phone' })).client.close();
    const { client: sender } = await ctx.login(`${ctx.tag}-s${ctx.vu}`, { edge: ctx.vu + 1 });
    await ctx.barrier('loggedIn');
    const seedStart = ctx.now();
    let k = 0;
    const sendLoop = async () => {
      while (k < messages) {
        const n = ++k;
        await sendWithRetry(ctx, sender, { scene: 'p2p', to: receiver, idClient: `${ctx.vu}-${n}`, text: stampedText(n, ctx.now(), bytes) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, messages) }, sendLoop));
    ctx.trend('seedTime', ctx.now() - seedStart);
    sender.close();
    const t0 = await ctx.barrier('seeded');
    const started = ctx.now();
    const check = new DeliveryCheck();
    const { client, sync } = await reconnect(ctx, receiver);
    const done = ctx.now();
    ctx.trend('syncTime', done - started, done);
    for (const frame of sync) {
      if (frame.ev !== 'offlinemsgs') continue;
      for (const msg of frame.d.msgs) check.deliver(msg.text, msg.seq);
    }
    ctx.count('synced', check.delivered, done);
    ctx.count('syncedClients');
    ctx.count('missing', check.missing(messages));
    ctx.count('duplicates', check.duplicates);
    ctx.count('orderErrors', check.orderErrors);
    const end = await ctx.barrier('synced');
    ctx.window(t0, end);
    client.close();
  },
});
