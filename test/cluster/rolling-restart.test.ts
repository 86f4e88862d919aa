/**
 * A rolling restart of the actor hosts under load: each host in turn is
 * stopped gracefully (SIGTERM: it hands its partitions over before it exits)
 * and started again on its data directory, and the partitions are shared out
 * again before the next one goes. Not one request fails.
 */
import { describe, expect, it } from 'vitest';
import { startTestCluster } from './harness.ts';
import { pairsOwnedBy, startLoad } from './load.ts';
import { checkHistories } from './history.ts';

describe('cluster: rolling restart of the actor hosts', () => {
  it('stops and starts each actor host in turn with zero failed requests', { timeout: 90_000 }, async () => {
    const cluster = await startTestCluster({ leaseTtlMs: 2000 });
    const hosts = cluster.actors.map((a) => a.nodeId);
    const { pairs } = pairsOwnedBy(await cluster.leases(), (a) => cluster.partitionOf(a), hosts, 2, 'roll');
    const load = await startLoad({ urls: cluster.urls, pairs });
    cluster.defer(() => load.destroy());
    await load.waitForAcks(30);

    const timings: string[] = [];
    for (const nodeId of hosts) {
      const others = hosts.filter((h) => h !== nodeId);
      const stopAt = Date.now();
      const status = await cluster.proc(nodeId).stop();
      expect(status).toEqual({ code: 0, signal: null });
      const stoppedMs = Date.now() - stopAt;
      await cluster.waitForBalance(others);
      const handedMs = Date.now() - stopAt;
      // The remaining host serves every conversation, including the stopped host's.
      await load.waitForAcks(10, { since: Date.now() });

      const startAt = Date.now();
      await cluster.startActors(nodeId);
      await cluster.waitForBalance(hosts);
      timings.push(`${nodeId}: exited ${stoppedMs} ms after SIGTERM, partitions with ${others.join(',')} after ${handedMs} ms, back and balanced ${Date.now() - startAt} ms after its start`);
      await load.waitForAcks(10, { since: Date.now() });
    }
    await load.stop();
    console.log(`rolling restart: ${timings.join('; ')}; ${load.ackCount} sends acknowledged, failures ${JSON.stringify(load.failureCounts())}`);

    expect(load.failures()).toEqual([]);
    const { problems } = await checkHistories(load.pairs);
    expect(problems).toEqual([]);
  });
});
