/**
 * p2p messaging across a cluster: each pair has one client on each edge and
 * the conversations are spread over both actor hosts. Under continuous load,
 * everything is acknowledged, delivered in the order it was sent, and stored
 * with gapless `seq`.
 */
import { describe, expect, it } from 'vitest';
import { startTestCluster, until } from './harness.ts';
import { pairsOwnedBy, startLoad } from './load.ts';
import type { LoadClient } from './load.ts';
import { checkHistories } from './history.ts';

/** Problems with the order in which `receiver` got the messages `sender` had acknowledged. */
function orderProblems(receiver: LoadClient, sender: LoadClient): string[] {
  const ackOf = new Map(sender.acked.map((a) => [a.msg.idServer, a]));
  const problems: string[] = [];
  let lastSeq = 0;
  let lastN = -1;
  for (const m of receiver.received) {
    const ack = ackOf.get(m.idServer);
    if (ack === undefined) {
      problems.push(`${receiver.account} received ${m.idServer} (${m.idClient}) that ${sender.account} never had acknowledged`);
      continue;
    }
    if (m.seq <= lastSeq || ack.n <= lastN) {
      problems.push(`${receiver.account} received ${sender.account} #${ack.n} (seq ${m.seq}) after #${lastN} (seq ${lastSeq})`);
    }
    lastSeq = Math.max(lastSeq, m.seq);
    lastN = Math.max(lastN, ack.n);
  }
  // The sender's own acknowledgements, in the order it sent: seq grows with n.
  const bySent = [...sender.acked].sort((x, y) => x.n - y.n);
  for (let i = 1; i < bySent.length; i++) {
    if (bySent[i]!.msg.seq <= bySent[i - 1]!.msg.seq) {
      problems.push(`${sender.account} #${bySent[i]!.n} got seq ${bySent[i]!.msg.seq}, not above #${bySent[i - 1]!.n}'s ${bySent[i - 1]!.msg.seq}`);
    }
  }
  return problems.slice(0, 10);
}

describe('cluster: p2p between clients on different edges', () => {
  it('delivers every message in order, with gapless seq', { timeout: 60_000 }, async () => {
    const cluster = await startTestCluster();
    const hosts = cluster.actors.map((a) => a.nodeId);
    const { pairs } = pairsOwnedBy(await cluster.leases(), (a) => cluster.partitionOf(a), hosts, 2, 'p2p');
    const load = await startLoad({ urls: cluster.urls, pairs });
    cluster.defer(() => load.destroy());
    for (const [a, b] of load.pairs) {
      expect(a.client.url).toBe(cluster.urls[0]);
      expect(b.client.url).toBe(cluster.urls[1]);
    }

    await load.waitForAcks(150, { timeoutMs: 30_000 });
    await load.stop();
    expect(load.failures()).toEqual([]);

    await until(
      'every acknowledged message to reach its recipient',
      () => (load.pairs.every(([a, b]) => a.missingFrom(b).length === 0 && b.missingFrom(a).length === 0) ? true : undefined),
      10_000,
      () => load.pairs.map(([a, b]) => `${a.account} misses ${a.missingFrom(b).length}, ${b.account} misses ${b.missingFrom(a).length}`).join('; '),
    );
    for (const [a, b] of load.pairs) {
      expect(orderProblems(a, b)).toEqual([]);
      expect(orderProblems(b, a)).toEqual([]);
      // No client had to reconnect: one login each.
      expect(a.connects).toHaveLength(1);
      expect(b.connects).toHaveLength(1);
    }

    const { problems, histories } = await checkHistories(load.pairs);
    expect(problems).toEqual([]);
    for (const [a, b] of load.pairs) {
      // Nothing failed, so every stored message was acknowledged to its sender.
      const ackedSeqs = [...a.acked, ...b.acked].map((x) => x.msg.seq).sort((x, y) => x - y);
      expect(ackedSeqs).toEqual(histories.get(a.address)!.map((m) => m.seq));
    }
  });
});
