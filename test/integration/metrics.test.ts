/**
 * `GET /metrics` on every role, in both modes: the Prometheus text from
 * prom-client, counting what the wire did, and every `parley_*` metric clean
 * under `promtool check metrics` (prom-client's own Node metrics have known
 * naming findings, which are left alone).
 */
import { expect, it } from 'vitest';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { startEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { promtoolFindings, sample, scrape } from '../helpers/promtool.ts';

let accountSeq = 0;
function account(name: string): string {
  return `${name}${++accountSeq}m${Date.now().toString(36)}`;
}

/** The `parley_*` names promtool complains about. */
function parleyFindings(text: string): string[] {
  return promtoolFindings(text).filter((l) => l.startsWith('parley_'));
}

describeBothModes('metrics', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  it('counts logins, requests, deliveries and Log appends, and lints clean', async () => {
    const alice = account('alice');
    const bob = account('bob');
    const a = await conns.client(alice, { deviceType: 'ios' });
    const b = await conns.client(bob);
    let got = 0;
    b.on('msg', () => got++);
    for (let i = 0; i < 3; i++) await a.sendText({ scene: 'p2p', to: bob, text: `m${i}` });
    await waitFor('the deliveries', () => got === 3);
    // An argument error is counted under its error name.
    await expect(a.sendText({ scene: 'p2p', to: '', text: 'x' })).rejects.toThrow();

    const text = await scrape(engine.port);
    expect(sample(text, 'parley_logins_total', 'device_type="ios"')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'parley_connections', 'device_type="ios"')).toBe(1);
    expect(sample(text, 'parley_requests_total', 'method="sendText",error="none"')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'parley_requests_total', 'method="sendText",error="BAD_REQUEST"')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'parley_request_duration_seconds_count', 'method="sendText"')).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'parley_deliveries_total')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'parley_log_append_duration_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'parley_log_append_batch_events_count')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'parley_lmdb_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'parley_bus_request_duration_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'parley_actor_activations_total')).toBeGreaterThanOrEqual(1);
    // The sends' session updates were applied before their Log entries (PARLEY_DEFER_WRITE_MS).
    expect(sample(text, 'parley_actor_events_deferred_total')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'parley_actors_active')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'parley_partitions_owned')).toBe(engine.config.partitions);
    expect(sample(text, 'parley_actor_mailbox_depth', 'stat="max"')).toBeGreaterThanOrEqual(0);
    // Node's default process metrics are there too.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(parleyFindings(text)).toEqual([]);

    await a.disconnect();
    await waitFor('the logout to be counted', async () => (sample(await scrape(engine.port), 'parley_logouts_total', 'device_type="ios"') ?? 0) >= 1);
  });

  it('answers 404 on /metrics with PARLEY_METRICS=false', async () => {
    const off = await startEngine(mode.engineOptions({ env: { PARLEY_METRICS: 'false' } }));
    try {
      expect((await fetch(`http://127.0.0.1:${off.port}/metrics`)).status).toBe(404);
    } finally {
      await off.stop();
    }
  });

  if (mode.name === 'nats') {
    it('serves /metrics on the actors and edge roles, with lease metrics, and lints clean', async () => {
      const actors = await startEngine(mode.engineOptions({ role: 'actors' }));
      const edge = await startEngine(mode.engineOptions({ role: 'edge' }));
      try {
        // The new host takes its share of the partitions from the running one.
        // A takeover is counted when the lease is won, before the partition is fenced and served: wait for both.
        await waitFor('partitions to move to the actors node', async () => {
          const text = await scrape(actors.port);
          return (sample(text, 'parley_partition_takeovers_total') ?? 0) > 0 && (sample(text, 'parley_partitions_owned') ?? 0) > 0;
        }, 15_000);
        const hostText = await scrape(actors.port);
        expect(sample(hostText, 'parley_lease_renewals_total')).toBeGreaterThanOrEqual(0);
        expect(sample(hostText, 'parley_partitions_owned')).toBeGreaterThan(0);
        expect(sample(hostText, 'parley_nats_reconnects_total')).toBe(0);
        expect(parleyFindings(hostText)).toEqual([]);
        const edgeText = await scrape(edge.port);
        expect(sample(edgeText, 'parley_deliveries_total')).toBe(0);
        expect(parleyFindings(edgeText)).toEqual([]);
        await waitFor('a lease renewal', async () => (sample(await scrape(engine.port), 'parley_lease_renewals_total') ?? 0) > 0, 10_000);
      } finally {
        await edge.stop();
        await actors.stop();
      }
    });
  }
});
