/**
 * The login policy and the online-device list across a cluster of two
 * edges: a phone logging in on one edge displaces the phone on the other;
 * when an edge is killed -9, its devices leave `getOnlineDevices` once its
 * heartbeat has been silent for EDGE_SILENCE_MS, and they no longer count
 * against the policy; a restarted edge under the same node id does not
 * vouch for them. A broadcast from one edge reaches the devices on both.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ConnectOptions, ParleyClient } from '../../client/index.ts';
import { EDGE_SILENCE_MS } from '../../engine/edge-liveness.ts';
import { tokenFor } from '../helpers/engine.ts';
import { watch } from '../helpers/kick-watch.ts';
import { startTestCluster, until } from './harness.ts';

const KEY = 'admin-key-cluster-policy-0123456789';

describe('cluster: login policy', () => {
  it('displaces across edges, and forgets the devices of an edge killed -9', { timeout: 90_000 }, async () => {
    const cluster = await startTestCluster({ edges: 2, actors: 1, env: { PARLEY_ADMIN_API_KEY: KEY, PARLEY_DEVICE_LIMITS: 'mobile=1,*=2' } });
    const account = `policy-${Date.now().toString(36)}`;
    const clients: ParleyClient[] = [];
    cluster.defer(async () => {
      await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
    });
    const open = async (edge: number, deviceId: string, options: Partial<ConnectOptions> = {}): Promise<ParleyClient> => {
      // No reconnect: a socket of a killed edge must stay gone.
      const c = await connect({ url: cluster.urls[edge]!, token: await tokenFor(account), deviceId, WebSocket, reconnect: false, ...options });
      clients.push(c);
      return c;
    };
    const devices = async (edge: number): Promise<string[]> => {
      const res = await fetch(`http://127.0.0.1:${cluster.edges[edge]!.port}/v1/admin/getOnlineDevices`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ account }),
      });
      const json = (await res.json()) as { result: { devices: Array<{ deviceId: string }> } };
      return json.result.devices.map((d) => d.deviceId);
    };
    const listed = (ids: string[], timeoutMs = 10_000) =>
      until(`online devices are ${ids.join(', ')}`, async () => (JSON.stringify(await devices(1)) === JSON.stringify(ids) ? true : undefined), timeoutMs);

    const oldPhone = await open(0, 'old-phone', { deviceType: 'ios' });
    const oldSeen = watch(oldPhone);
    await listed(['old-phone']);
    await open(1, 'new-phone', { deviceType: 'android' });
    await until('the phone on the other edge is displaced', () => (oldSeen.closes.length === 1 ? true : undefined), 10_000);
    expect(oldSeen.kicked).toEqual([{ reason: 'samePlatformKick', from: 'new-phone' }]);
    await listed(['new-phone']);

    // A web device on edge 0, which is then killed with its socket.
    await open(0, 'doomed-web');
    await listed(['new-phone', 'doomed-web']);
    const killedAt = Date.now();
    await cluster.edges[0]!.kill('SIGKILL');
    await listed(['new-phone'], EDGE_SILENCE_MS + 10_000);
    const forgotMs = Date.now() - killedAt;
    expect(forgotMs).toBeLessThan(EDGE_SILENCE_MS + 10_000);
    console.log(`devices of an edge killed -9 left the online list after ${forgotMs} ms (silence bound ${EDGE_SILENCE_MS} ms)`);

    // The edge comes back under its node id: the killed socket does not come back with it, and does not count.
    await cluster.startEdge(cluster.edges[0]!.nodeId);
    const pc = await open(0, 'pc', { deviceType: 'pc' });
    const pcSeen = watch(pc);
    await listed(['new-phone', 'pc']);
    expect(pcSeen.kicked).toEqual([]);

    // A broadcast from one edge's admin API reaches the devices on both.
    const heard: string[] = [];
    for (const c of clients.filter((c) => c.state === 'ready')) c.on('broadcastmsg', (d) => heard.push(d.body));
    const res = await fetch(`http://127.0.0.1:${cluster.edges[1]!.port}/v1/admin/broadcastMsg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ body: 'to everyone' }),
    });
    expect(res.status).toBe(200);
    await until('both devices heard the broadcast', () => (heard.length === 2 ? true : undefined), 10_000);
    expect(heard).toEqual(['to everyone', 'to everyone']);
  });
});
