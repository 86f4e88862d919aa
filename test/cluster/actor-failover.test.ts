/**
 * Losing an actor host under load. Conversations are spread over both hosts;
 * clients of every pair sit on both edges and keep sending (a failed send is
 * retried with its idClient, as an application would).
 *
 * - kill -9: the other host serves the dead host's partitions once their
 *   leases lapse — within the lease TTL plus TAKEOVER_MARGIN_MS — and every
 *   acknowledged message is in history exactly once with gapless seq.
 * - SIGSTOP past the lease, takeover, SIGCONT: the stale host writes nothing
 *   to the Log on a partition whose lease it does not hold (checked on the
 *   Log's `Parley-Node` headers against a recording of the lease table).
 * - Both again with takers on fresh data directories, which rebuild every
 *   conversation of the lost host from the Log while 8 sends per client are
 *   in flight and the edges retry an attempt after 250 ms: no
 *   `(from, idClient)` stored twice, and resends get the original back.
 */
import { describe, expect, it } from 'vitest';
import { startTestCluster, until } from './harness.ts';
import type { Cluster } from './harness.ts';
import { SHORT_ATTEMPT_EDGE_ENV, pairsOwnedBy, startLoad } from './load.ts';
import type { Load, LoadClient } from './load.ts';
import { checkHistories } from './history.ts';
import { LeaseRecorder, decidedAt, logPositions, readLogAfter } from './log-audit.ts';

const LEASE_TTL_MS = 2000;
/**
 * Allowance past the lease TTL for a takeover: the server expires the key at
 * most TTL after its last renewal; the survivor notices on its next lease tick
 * (TTL/4); the edge retries a held request after at most 250 ms; plus process
 * scheduling on a busy two-core machine.
 */
const TAKEOVER_MARGIN_MS = 2500;

/** Starts a cluster and load with two conversations on each actor host. */
async function setUp(prefix: string): Promise<{ cluster: Cluster; load: Load; ownerOf: Map<string, string> }> {
  const cluster = await startTestCluster({ leaseTtlMs: LEASE_TTL_MS });
  const hosts = cluster.actors.map((a) => a.nodeId);
  const { pairs, ownerOf } = pairsOwnedBy(await cluster.leases(), (a) => cluster.partitionOf(a), hosts, 2, prefix);
  const load = await startLoad({ urls: cluster.urls, pairs });
  cluster.defer(() => load.destroy());
  return { cluster, load, ownerOf };
}

/**
 * For each conversation of `pairs`: when the first acknowledgement arrived of
 * a message the actor decided at or after `t` (Date.now() time), or
 * undefined while there is none.
 */
function firstAckDecidedAfter(pairs: readonly (readonly [LoadClient, LoadClient])[], t: number): (number | undefined)[] {
  return pairs.map(([a, b]) => {
    const ats = [...a.acked, ...b.acked].filter((x) => x.msg.time >= t).map((x) => x.at);
    return ats.length === 0 ? undefined : Math.min(...ats);
  });
}

async function waitForTakeover(
  pairs: readonly (readonly [LoadClient, LoadClient])[],
  since: number,
  timeoutMs: number,
): Promise<{ firstMs: number; allMs: number }> {
  const firsts = await until(
    'every conversation of the lost host to acknowledge sends again',
    () => {
      const at = firstAckDecidedAfter(pairs, since);
      return at.every((x) => x !== undefined) ? (at as number[]) : undefined;
    },
    timeoutMs,
    () => `served again: ${firstAckDecidedAfter(pairs, since).map((x, i) => `${pairs[i]![0].address}=${x === undefined ? 'no' : `${x - since} ms`}`).join(' ')}`,
  );
  return { firstMs: Math.min(...firsts) - since, allMs: Math.max(...firsts) - since };
}

describe('cluster: losing an actor host', () => {
  it('kill -9: its partitions are served by the other host within the lease TTL, and nothing acknowledged is lost or doubled', { timeout: 60_000 }, async () => {
    const { cluster, load, ownerOf } = await setUp('kill');
    const [victim, survivor] = cluster.actors as [(typeof cluster.actors)[0], (typeof cluster.actors)[0]];
    const victimPairs = load.pairs.filter(([a]) => ownerOf.get(a.address) === victim.nodeId);
    expect(victimPairs.length).toBeGreaterThan(0);
    // A second device per conversation of the victim sends fresh messages from the moment of the kill.
    const devices = await Promise.all(victimPairs.map(([a]) => load.addDevice(a, cluster.urls[1]!)));
    await load.waitForAcks(30);

    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const probes = await Promise.all(victimPairs.map(([a], i) => load.probe(a, devices[i]!, LEASE_TTL_MS + 15_000)));
    const firstMs = Math.min(...probes.map((p) => p.at)) - killedAt;
    const allMs = Math.max(...probes.map((p) => p.at)) - killedAt;
    // The load's own sends that were in flight to the dead host wait out the edge's request timeout first.
    const load_ = await waitForTakeover(victimPairs, killedAt, 15_000);
    console.log(
      `kill -9 of ${victim.nodeId}: a new send in its conversations is served by ${survivor.nodeId} ${firstMs} ms after the kill ` +
        `(every conversation within ${allMs} ms; lease TTL ${LEASE_TTL_MS} ms, bound ${LEASE_TTL_MS + TAKEOVER_MARGIN_MS} ms); ` +
        `the load's sends in flight at the kill resumed after ${load_.firstMs}–${load_.allMs} ms; failures ${JSON.stringify(load.failureCounts())}`,
    );
    expect(probes.every((p) => p.msg.time >= killedAt)).toBe(true);
    expect(firstMs).toBeLessThanOrEqual(LEASE_TTL_MS + TAKEOVER_MARGIN_MS);
    expect(allMs).toBeLessThanOrEqual(LEASE_TTL_MS + TAKEOVER_MARGIN_MS);
    await cluster.waitForBalance([survivor.nodeId]);

    await load.waitForAcks(30, { since: Date.now() });
    await load.stop();
    expect(load.unexpectedFailures()).toEqual([]);
    const { problems } = await checkHistories(load.pairs);
    expect(problems).toEqual([]);
  });

  it('SIGSTOP past the lease, takeover, SIGCONT: the stale host writes nothing to the Log', { timeout: 60_000 }, async () => {
    const { cluster, load, ownerOf } = await setUp('pause');
    const [victim, survivor] = cluster.actors as [(typeof cluster.actors)[0], (typeof cluster.actors)[0]];
    const victimPairs = load.pairs.filter(([a]) => ownerOf.get(a.address) === victim.nodeId);
    // A conversation of the victim that nobody writes to between the stop and the end of the test: its
    // sends caught in the stopped host are the stale writes the Log would still accept (no newer entry
    // fences them), so only the host's own lease check keeps them out.
    const quietPair = pairsOwnedBy(await cluster.leases(), (a) => cluster.partitionOf(a), [victim.nodeId], 1, 'quiet').pairs;
    const quiet = await startLoad({ urls: cluster.urls, pairs: quietPair, window: 16 });
    cluster.defer(() => quiet.destroy());
    const nc = await cluster.connection();
    const leases = await LeaseRecorder.start(nc);
    cluster.defer(() => leases.stop());
    await load.waitForAcks(30);
    await quiet.waitForAcks(30);

    const pausedAt = Date.now();
    victim.pause();
    quiet.halt();
    const quietInFlight = quiet.inFlightCount;
    await cluster.waitForLeases(
      `every partition's lease to name ${survivor.nodeId}`,
      (table) => Array.from({ length: cluster.partitions }, (_, p) => table.get(p)?.node).every((n) => n === survivor.nodeId),
      LEASE_TTL_MS + 15_000,
    );
    const takenAfterMs = Date.now() - pausedAt;
    // Sends in flight to the stopped host wait out the edge's request timeout, then the load retries them.
    const { firstMs, allMs } = await waitForTakeover(victimPairs, pausedAt, 15_000);

    // Everything the stopped host wrote before the stop is stored by now; from here on it may write
    // nothing on a partition until it holds that partition's lease again.
    const fence = await logPositions(nc);
    victim.resume();
    const resumedAt = Date.now();
    // It finds its leases lapsed, rejoins, and the partitions are shared out again.
    await cluster.waitForBalance([victim.nodeId, survivor.nodeId], 20_000);
    await load.waitForAcks(30, { since: Date.now() });
    await Promise.all([load.stop(), quiet.stop()]);
    expect(victim.running).toBe(true);

    const entries = await readLogAfter(nc, fence);
    await leases.caughtUp(nc);
    expect(entries.filter((e) => e.node === undefined)).toEqual([]);
    expect(entries.some((e) => e.node === survivor.nodeId)).toBe(true);
    const stale = entries
      .filter((e) => e.node === victim.nodeId && leases.holderAt(e.partition, e.timeMs) !== victim.nodeId)
      .map(
        (e) =>
          `${e.stream}#${e.seq} ${e.subject} stored at ${new Date(e.timeMs).toISOString()}, ` +
          `decided at ${decidedAt(e).map((t) => new Date(t).toISOString()).join(',') || '?'} ` +
          `(stopped ${new Date(pausedAt).toISOString()}, continued ${new Date(resumedAt).toISOString()}); lease changes of partition ${e.partition}: ` +
          leases.events
            .filter((l) => l.partition === e.partition)
            .map((l) => `${l.node ?? '(deleted)'} at ${new Date(l.timeMs).toISOString()}`)
            .join(', '),
      );
    const quietTimeouts = quiet.failures().filter((f) => f.name === 'TIMEOUT').length;
    console.log(
      `SIGSTOP of ${victim.nodeId}: all leases named ${survivor.nodeId} ${takenAfterMs} ms after the stop, its conversations served again ` +
        `after ${firstMs}–${allMs} ms; ${quietInFlight} sends of the quiet conversation were in flight at the stop, ${quietTimeouts} timed out in ` +
        `the stopped host. After SIGCONT: ${entries.length} Log entries past the fence, ${entries.filter((e) => e.node === victim.nodeId).length} ` +
        `by ${victim.nodeId}, all on the ${leases.takenBy(victim.nodeId, resumedAt - 1000).length} partitions it took back`,
    );
    expect(stale).toEqual([]);
    // The quiet conversation did have sends in flight at the stop, so the check above was not vacuous.
    expect(quietInFlight).toBeGreaterThan(0);

    expect(load.unexpectedFailures()).toEqual([]);
    expect(quiet.unexpectedFailures()).toEqual([]);
    const { problems } = await checkHistories([...load.pairs, ...quiet.pairs]);
    expect(problems).toEqual([]);
  });

  for (const how of ['kill -9', 'SIGSTOP past the lease']) {
    it(`${how} with takers on fresh data directories: nothing stored twice, every resend answered with the original`, { timeout: 90_000 }, async () => {
      // The victim starts alone; the takers join on fresh data directories and get their share before the load.
      const cluster = await startTestCluster({ actors: 1, leaseTtlMs: LEASE_TTL_MS, roleEnv: { edge: { ...SHORT_ATTEMPT_EDGE_ENV } } });
      const victim = cluster.actors[0]!;
      const takers = [(await cluster.startActors()).nodeId, (await cluster.startActors()).nodeId];
      await cluster.waitForBalance([victim.nodeId, ...takers]);
      const leases = await cluster.leases();
      const pairs = [
        ...pairsOwnedBy(leases, (a) => cluster.partitionOf(a), [victim.nodeId], 12, 'fresh-v').pairs,
        ...pairsOwnedBy(leases, (a) => cluster.partitionOf(a), takers, 4, 'fresh-t').pairs,
      ];
      const load = await startLoad({ urls: cluster.urls, pairs, window: 8, minGapMs: 50 });
      cluster.defer(() => load.destroy());
      await load.waitForAcks(40, { timeoutMs: 30_000 });

      const lostAt = Date.now();
      if (how === 'kill -9') await victim.kill('SIGKILL');
      else victim.pause();
      await cluster.waitForLeases(
        `every partition's lease to name one of ${takers.join(', ')}`,
        (table) => Array.from({ length: cluster.partitions }, (_, p) => table.get(p)?.node).every((n) => n !== undefined && takers.includes(n)),
        LEASE_TTL_MS + 15_000,
      );
      const takenMs = Date.now() - lostAt;
      await load.waitForAcks(10, { since: Date.now(), timeoutMs: 20_000 });
      if (how !== 'kill -9') {
        // Back from the stop, it finds its leases lapsed and rejoins; its stale state must not be written.
        victim.resume();
        await cluster.waitForBalance([victim.nodeId, ...takers], 20_000);
        await load.waitForAcks(10, { since: Date.now(), timeoutMs: 20_000 });
      }
      await load.stop();

      const resent = await load.resendThroughOtherEdge();
      console.log(
        `${how} of ${victim.nodeId} with fresh takers: leases with ${takers.join(', ')} after ${takenMs} ms; ${load.ackCount} sends acknowledged, ` +
          `${load.retriedAckCount} after a retry; failures ${JSON.stringify(load.failureCounts())}; ${resent.resends} resends through the other edge`,
      );
      expect(load.unexpectedFailures()).toEqual([]);
      expect(resent.problems).toEqual([]);
      const { problems } = await checkHistories(load.pairs);
      expect(problems).toEqual([]);
    });
  }
});
