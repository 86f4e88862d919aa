/**
 * Leases under a backlog. A burst of sends that keeps the actor hosts busy
 * for longer than a lease lifetime (what a reconnect storm does) must not
 * make their leases lapse: renewals run apart from the membership round,
 * over a connection of their own, and the hosts' batches leave the event
 * loop a turn every 20 ms, so no partition moves while the burst is worked
 * off and every send of it is answered with its message.
 */
import { expect, it } from 'vitest';
import { createInbox } from '@nats-io/transport-node';
import { startTestCluster } from './harness.ts';
import { decode, encode } from '../../engine/protocol/codec.ts';
import { p2pAddress, partitionOf, requestSubject } from '../../engine/subjects.ts';

const LEASE_TTL_MS = 3000;
/** Conversations of the burst, and sends to each: under the mailbox limit, so none is refused as overload. */
const CONVERSATIONS = 2000;
const SENDS_EACH = 30;

it('actor hosts keep every lease while they work off a burst lasting several lease lifetimes', async () => {
  const cluster = await startTestCluster({ edges: 0, leaseTtlMs: LEASE_TTL_MS, roleEnv: { actors: { PARLEY_REQUEST_TIMEOUT_MS: '60000' } } });
  try {
    const owners = (leases: Map<number, { node: string }>) => [...leases].sort(([a], [b]) => a - b).map(([p, l]) => `${p}:${l.node}`);
    const before = owners(await cluster.leases());
    expect(before).toHaveLength(cluster.partitions);

    const nc = await cluster.connection();
    const inbox = createInbox();
    const total = CONVERSATIONS * SENDS_EACH;
    let answered = 0;
    const refused: string[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    nc.subscribe(`${inbox}.*`, {
      callback: (_err, msg) => {
        const reply = decode(msg.data) as { r?: unknown; e?: { code: string; message: string } };
        if (reply.e !== undefined) refused.push(`${reply.e.code}: ${reply.e.message}`);
        if (++answered === total) done();
      },
    });
    await nc.flush();

    const startedMs = Date.now();
    for (let k = 0; k < SENDS_EACH; k++) {
      for (let c = 0; c < CONVERSATIONS; c++) {
        const from = `burst-a${c}`;
        const to = `burst-b${c}`;
        const address = p2pAddress(from, to);
        const request = encode({
          to: address,
          m: 'sendText',
          a: { scene: 'p2p', to, text: `${k}`, idClient: `c${c}-${k}` },
          caller: { account: from, deviceId: 'phone', deviceType: 'ios', conn: `burst/${c}` },
        });
        nc.publish(requestSubject(partitionOf(address, cluster.partitions)), request, { reply: `${inbox}.${c}` });
      }
    }
    await nc.flush();
    await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`${answered} of ${total} sends answered`)), 90_000))]);
    const workedOffMs = Date.now() - startedMs;
    console.log(`lease backlog: ${total} sends answered in ${workedOffMs} ms with a lease lifetime of ${LEASE_TTL_MS} ms`);

    expect(refused.slice(0, 5)).toEqual([]);
    // The burst is only a test of the leases if it outlasted one.
    expect(workedOffMs).toBeGreaterThan(LEASE_TTL_MS);
    for (const a of cluster.actors) expect(cluster.logTail(a.nodeId, 5000)).not.toContain('partition lost');
    expect(owners(await cluster.leases())).toEqual(before);
  } catch (err) {
    cluster.markFailed();
    throw err;
  } finally {
    await cluster.stop();
  }
}, 180_000);
