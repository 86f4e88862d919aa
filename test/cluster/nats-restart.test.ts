/**
 * A restart of nats-server under load (same port, same JetStream store):
 * every Parley process reconnects, the partitions are owned again, every
 * conversation takes sends again, and nothing acknowledged is lost or doubled.
 * Sends during the outage may fail with UNAVAILABLE or TIMEOUT; the load
 * retries them with their idClient.
 */
import { describe, expect, it } from 'vitest';
import { startTestCluster, until } from './harness.ts';
import { pairsOwnedBy, startLoad } from './load.ts';
import { checkHistories } from './history.ts';
import { sample, scrape } from '../helpers/promtool.ts';

const RETRYABLE = ['UNAVAILABLE', 'TIMEOUT'];

describe('cluster: restart of nats-server', () => {
  it('recovers every role and keeps every acknowledged message exactly once', { timeout: 60_000 }, async () => {
    const cluster = await startTestCluster({ leaseTtlMs: 2000 });
    const hosts = cluster.actors.map((a) => a.nodeId);
    const { pairs } = pairsOwnedBy(await cluster.leases(), (a) => cluster.partitionOf(a), hosts, 2, 'natsrestart');
    const load = await startLoad({ urls: cluster.urls, pairs });
    cluster.defer(() => load.destroy());
    await load.waitForAcks(30);

    const restartAt = Date.now();
    await cluster.nats.restart();
    const upMs = Date.now() - restartAt;
    await cluster.waitForBalance(hosts, 20_000);
    const balancedMs = Date.now() - restartAt;
    // Every conversation takes new sends again.
    const back = await until(
      'every client to have a send acknowledged after the restart',
      () => {
        const firsts = load.clients.map((c) => c.ackedAfter(restartAt).find((a) => a.msg.time >= restartAt)?.at);
        return firsts.every((t) => t !== undefined) ? Math.max(...(firsts as number[])) - restartAt : undefined;
      },
      30_000,
      () => `acks since the restart: ${load.clients.map((c) => `${c.account}=${c.ackedAfter(restartAt).length}`).join(' ')}; failures ${JSON.stringify(load.failureCounts())}`,
    );
    await load.waitForAcks(30, { since: Date.now() });
    await load.stop();
    console.log(
      `nats-server restart: up again after ${upMs} ms, leases balanced after ${balancedMs} ms, every client sending again after ${back} ms; ` +
        `failures ${JSON.stringify(load.failureCounts())}` +
        (load.failures().length === 0 ? '' : ` between ${Math.min(...load.failures().map((f) => f.at)) - restartAt} and ${Math.max(...load.failures().map((f) => f.at)) - restartAt} ms`),
    );

    expect([...cluster.edges, ...cluster.actors].filter((p) => !p.running).map((p) => p.nodeId)).toEqual([]);
    // Every process counted its reconnection, and serves again.
    for (const p of [...cluster.edges, ...cluster.actors]) {
      const text = await scrape(p.port);
      expect(sample(text, 'parley_nats_disconnects_total'), p.nodeId).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'parley_nats_reconnects_total'), p.nodeId).toBeGreaterThanOrEqual(1);
      expect((await fetch(`http://127.0.0.1:${p.port}/readyz`)).status, p.nodeId).toBe(200);
    }
    expect(load.failures().filter((f) => !RETRYABLE.includes(f.name))).toEqual([]);
    const { problems } = await checkHistories(load.pairs);
    expect(problems).toEqual([]);
  });
});
