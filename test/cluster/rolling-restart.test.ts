/**
 * Rolling restarts of the actor hosts under load.
 *
 * - In place: each host in turn is stopped gracefully (SIGTERM: it hands its
 *   partitions over before it exits) and started again on its data
 *   directory, and the partitions are shared out again before the next one
 *   goes. Not one request fails.
 * - Onto new hosts, as a rolling upgrade: hosts with fresh data directories
 *   join and the old ones leave, so every conversation is rebuilt from the
 *   Log by an owner without local state while its clients keep a window of
 *   sends in flight. The edges' per-attempt timeout is short, so sends
 *   waiting behind a slow activation are retried by the edge while the
 *   originals still sit in the actor's mailbox: no `(from, idClient)` may be
 *   stored twice, and every resend gets the original message back.
 */
import { describe, expect, it } from 'vitest';
import { startTestCluster } from './harness.ts';
import type { Lease } from './harness.ts';
import { SHORT_ATTEMPT_EDGE_ENV, pairsOwnedBy, startLoad } from './load.ts';
import { checkHistories } from './history.ts';

/** Acknowledged sends per client before the first new host joins: the Log each new owner replays. */
const UPGRADE_WARM_UP_ACKS = 40;

function holds(node: string): (leases: Map<number, Lease>) => boolean {
  return (leases) => [...leases.values()].some((l) => l.node === node);
}

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

  it('a rolling upgrade onto hosts with fresh data directories stores no send twice and answers every resend with the original', { timeout: 120_000 }, async () => {
    const cluster = await startTestCluster({ leaseTtlMs: 2000, roleEnv: { edge: { ...SHORT_ATTEMPT_EDGE_ENV } } });
    const [oldA, oldB] = cluster.actors.map((a) => a.nodeId) as [string, string];
    const newEdge = await cluster.startEdge();
    // 20 conversations over both old hosts; the clients sit on the second edge and the new one.
    const { pairs } = pairsOwnedBy(await cluster.leases(), (a) => cluster.partitionOf(a), [oldA, oldB], 10, 'upgrade');
    const urls = [cluster.urls[1]!, newEdge.url];
    const load = await startLoad({ urls, pairs, window: 8, minGapMs: 50, requestTimeoutMs: 10_000 });
    cluster.defer(() => load.destroy());
    await load.waitForAcks(UPGRADE_WARM_UP_ACKS, { timeoutMs: 30_000 });

    const startedAt = Date.now();
    const marks: string[] = [];
    const mark = (what: string) => marks.push(`${what} +${Date.now() - startedAt} ms`);
    // The first new host takes its share from both old ones; the second old host leaves while it does.
    const newA = (await cluster.startActors()).nodeId;
    mark(`${newA} healthy`);
    await cluster.waitForLeases(`${newA} to take partitions`, holds(newA));
    mark(`${newA} holds partitions`);
    expect(await cluster.proc(oldB).stop()).toEqual({ code: 0, signal: null });
    mark(`${oldB} exited`);
    const newB = (await cluster.startActors()).nodeId;
    mark(`${newB} healthy`);
    await cluster.waitForLeases(`${newB} to take partitions`, holds(newB));
    mark(`${newB} holds partitions`);
    expect(await cluster.proc(oldA).stop()).toEqual({ code: 0, signal: null });
    mark(`${oldA} exited`);
    await cluster.waitForBalance([newA, newB]);
    mark('balanced');
    // Every conversation is served by the new hosts.
    await load.waitForAcks(10, { since: Date.now(), timeoutMs: 20_000 });
    await load.stop();

    // Through the other edge, a resend of what was retried (and of each client's latest send) gets the original back.
    const resent = await load.resendThroughOtherEdge();
    console.log(
      `rolling upgrade: ${marks.join(', ')}; ${load.ackCount} sends acknowledged, ${load.retriedAckCount} of them after a retry; ` +
        `failures ${JSON.stringify(load.failureCounts())}; ${resent.resends} resends through the other edge`,
    );
    expect(load.unexpectedFailures()).toEqual([]);
    expect(resent.problems).toEqual([]);
    const { problems } = await checkHistories(load.pairs);
    expect(problems).toEqual([]);
  });
});
