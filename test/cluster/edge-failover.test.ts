/**
 * Losing an edge under load: kill -9 of the edge that the first client of
 * every pair is on. Those clients log in on the other edge; the SDK re-sends
 * what was unacknowledged, the login sync brings what they missed, and no
 * request fails. The restarted edge then takes clients again on its old port.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import { tokenFor } from '../helpers/engine.ts';
import { startTestCluster, until } from './harness.ts';
import { pairsOwnedBy, startLoad } from './load.ts';
import { checkHistories, readHistory } from './history.ts';

describe('cluster: losing an edge', () => {
  it('kill -9 of an edge: its clients reconnect to the other edge and miss nothing', { timeout: 60_000 }, async () => {
    const cluster = await startTestCluster();
    const hosts = cluster.actors.map((a) => a.nodeId);
    const { pairs } = pairsOwnedBy(await cluster.leases(), (a) => cluster.partitionOf(a), hosts, 2, 'edge');
    const load = await startLoad({ urls: cluster.urls, pairs });
    cluster.defer(() => load.destroy());
    const [edge1] = cluster.edges as [(typeof cluster.edges)[0]];
    const moving = load.pairs.map(([a]) => a);
    const staying = load.pairs.map(([, b]) => b);
    expect(moving.every((c) => c.client.url === edge1.url)).toBe(true);
    await load.waitForAcks(30);

    const killedAt = Date.now();
    await edge1.kill('SIGKILL');
    await until(
      `the clients of ${edge1.nodeId} to log in on the other edge`,
      () => (moving.every((c) => c.connects.length >= 2 && c.client.url === cluster.urls[1]) ? true : undefined),
      15_000,
      () => moving.map((c) => `${c.account}: ${c.connects.length} logins, now ${c.client.url} (${c.client.state})`).join('; '),
    );
    const reconnectMs = Math.max(...moving.map((c) => c.connects[1]!.at)) - killedAt;
    await load.waitForAcks(30, { since: Date.now() });
    await load.stop();
    console.log(`kill -9 of ${edge1.nodeId}: its ${moving.length} clients logged in on the other edge within ${reconnectMs} ms; ${load.ackCount} sends acknowledged`);

    expect(load.failures()).toEqual([]);
    expect(staying.every((c) => c.connects.length === 1)).toBe(true);
    await until(
      'every acknowledged message to reach its recipient',
      () => (load.pairs.every(([a, b]) => a.missingFrom(b).length === 0 && b.missingFrom(a).length === 0) ? true : undefined),
      15_000,
      () =>
        load.pairs
          .map(([a, b]) => `${a.account} misses ${a.missingFrom(b).map((x) => x.msg.seq).join(',') || 'nothing'}; ${b.account} misses ${b.missingFrom(a).map((x) => x.msg.seq).join(',') || 'nothing'}`)
          .join(' | '),
    );
    const { problems } = await checkHistories(load.pairs);
    expect(problems).toEqual([]);

    // The edge comes back on its port and serves again.
    await cluster.startEdge(edge1.nodeId);
    const [a, b] = pairs[0]!;
    const again = await connect({ url: edge1.url, token: await tokenFor(a), WebSocket, reconnect: false });
    cluster.defer(() => again.destroy());
    const sent = await again.sendText({ scene: 'p2p', to: b, text: 'back on the restarted edge' });
    const history = await readHistory(again, b);
    expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i + 1));
    expect(history[history.length - 1]!.idServer).toBe(sent.idServer);
  });
});
