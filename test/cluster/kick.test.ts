/**
 * Kicks across a cluster of two edges: a device on one edge kicks a device
 * of its account on the other (told `kicked`, closed, no reconnect; the
 * account's third device there sees it go offline), then the admin API of
 * one edge kicks every device of the account on both.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import { tokenFor } from '../helpers/engine.ts';
import { watch } from '../helpers/kick-watch.ts';
import { startTestCluster, until } from './harness.ts';

const KEY = 'admin-key-cluster-kick-0123456789';

describe('cluster: kick', () => {
  it('reaches devices on the other edge, from a device and from the admin API', { timeout: 60_000 }, async () => {
    const cluster = await startTestCluster({ edges: 2, actors: 1, env: { PARLEY_ADMIN_API_KEY: KEY } });
    const account = `kick-${Date.now().toString(36)}`;
    const clients: ParleyClient[] = [];
    cluster.defer(async () => {
      await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
    });
    const open = async (edge: number, deviceId: string): Promise<ParleyClient> => {
      const c = await connect({ url: cluster.urls[edge]!, token: await tokenFor(account), deviceId, WebSocket, backoff: { initialMs: 20, maxMs: 50, jitter: 0 } });
      clients.push(c);
      return c;
    };
    const kicker = await open(0, 'kicker');
    const victim = await open(1, 'victim');
    const bystander = await open(1, 'bystander');
    const [kickerSeen, victimSeen, bystanderSeen] = [watch(kicker), watch(victim), watch(bystander)];

    expect(await kicker.kick({ deviceIds: ['victim'] })).toEqual({ deviceIds: ['victim'] });
    await until('the victim closed', () => (victimSeen.closes.length === 1 ? true : undefined), 10_000);
    expect(victimSeen.kicked).toEqual([{ reason: 'kickedByOtherDevice', from: 'kicker' }]);
    expect(victimSeen.closes[0]).toMatchObject({ willReconnect: false });
    await until('the bystander sees the victim go offline', () => (bystanderSeen.ports.some((p) => p[0]?.deviceId === 'victim' && p[0]?.online === false) ? true : undefined), 10_000);
    // Absence of a reconnect can only be seen over time: a few backoff delays.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(victim.state).toBe('closed');
    expect([kicker.state, bystander.state]).toEqual(['ready', 'ready']);
    expect(kickerSeen.kicked).toEqual([]);

    const res = await fetch(`http://127.0.0.1:${cluster.edges[1]!.port}/v1/admin/kick`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ account }),
    });
    expect(res.status).toBe(200);
    await until('both remaining devices closed', () => (kickerSeen.closes.length === 1 && bystanderSeen.closes.length === 1 ? true : undefined), 10_000);
    expect(kickerSeen.kicked).toEqual([{ reason: 'kickedByAdmin', from: 'admin' }]);
    expect(bystanderSeen.kicked).toEqual([{ reason: 'kickedByAdmin', from: 'admin' }]);
    // As above: long enough for a reconnect to have happened if one were coming.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([kicker.state, victim.state, bystander.state]).toEqual(['closed', 'closed', 'closed']);
  });
});
