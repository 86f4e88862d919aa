/**
 * Event subscription across a cluster of two edges: a subscription made
 * on one edge takes effect for the subscriber's device on the other; a
 * custom event published on one edge reaches subscribers on both; the
 * built-in online status follows the publisher's devices on either edge
 * (1 at login, 2 on logout), and the devices of an edge killed -9 are
 * reported disconnected (3) once its heartbeat has been silent for
 * EDGE_SILENCE_MS and the next sweep ran.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ConnectOptions, ParleyClient } from '../../client/index.ts';
import type { PushEvent } from '../../engine/protocol/methods/events.ts';
import { EDGE_SILENCE_MS } from '../../engine/edge-liveness.ts';
import { PRESENCE_SWEEP_MS } from '../../actors/presence/sweeper.ts';
import { tokenFor } from '../helpers/engine.ts';
import { startTestCluster, until } from './harness.ts';

/** The bound stated in the README for reporting a killed edge's devices disconnected. */
const DISCONNECT_BOUND_MS = EDGE_SILENCE_MS + PRESENCE_SWEEP_MS + 2000;

describe('cluster: event subscription', () => {
  it('subscriptions, events and online status across edges, and an edge killed -9', { timeout: 90_000 }, async () => {
    const cluster = await startTestCluster({ edges: 2, actors: 1 });
    const stamp = Date.now().toString(36);
    const [a, b] = [`ev-alice-${stamp}`, `ev-bob-${stamp}`];
    const clients: ParleyClient[] = [];
    cluster.defer(async () => {
      await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
    });
    const open = async (account: string, edge: number, deviceId: string, options: Partial<ConnectOptions> = {}): Promise<ParleyClient> => {
      const c = await connect({ url: cluster.urls[edge]!, token: await tokenFor(account), deviceId, WebSocket, reconnect: false, ...options });
      clients.push(c);
      return c;
    };
    const hear = (c: ParleyClient): PushEvent[] => {
      const got: PushEvent[] = [];
      c.on('pushevents', (d) => got.push(...d.msgEvents));
      return got;
    };
    const statuses = (got: PushEvent[]) => got.filter((e) => e.account === b && e.value < 10000).map((e) => `${e.value}:${e.clientType}`);

    const aliceDesk = await open(a, 1, 'desk', { deviceType: 'pc' });
    const aliceTab = await open(a, 0, 'tab', { deviceType: 'web' });
    const [deskHeard, tabHeard] = [hear(aliceDesk), hear(aliceTab)];
    expect(await aliceDesk.subscribeEvent({ type: 1, accounts: [b] })).toEqual({ failedAccounts: [] });

    const bobPhone = await open(b, 0, 'phone', { deviceType: 'ios' });
    await until('alice hears bob online on both edges', () => (statuses(deskHeard).length === 1 && statuses(tabHeard).length === 1 ? true : undefined), 10_000);
    expect(statuses(deskHeard)).toEqual(['1:ios']);

    await bobPhone.publishEvent({ type: 1, value: 20001, custom: 'on a call' });
    await until('the custom event on both edges', () => (deskHeard.some((e) => e.value === 20001) && tabHeard.some((e) => e.value === 20001) ? true : undefined), 10_000);

    await bobPhone.logout();
    await until('bob logged out', () => (statuses(deskHeard).length === 2 ? true : undefined), 10_000);
    expect(statuses(deskHeard)[1]).toBe('2:ios');

    // A device of bob's on edge 0, which is then killed with its socket.
    await open(b, 0, 'doomed', { deviceType: 'android' });
    await until('doomed online', () => (statuses(deskHeard).length === 3 ? true : undefined), 10_000);
    const killedAt = Date.now();
    await cluster.edges[0]!.kill('SIGKILL');
    await until('doomed reported disconnected', () => (statuses(deskHeard).length === 4 ? true : undefined), DISCONNECT_BOUND_MS + 5000);
    const reportedMs = Date.now() - killedAt;
    expect(statuses(deskHeard).slice(2)).toEqual(['1:android', '3:android']);
    expect(reportedMs).toBeLessThan(DISCONNECT_BOUND_MS);
    console.log(`devices of an edge killed -9 reported disconnected after ${reportedMs} ms (bound ${DISCONNECT_BOUND_MS} ms)`);
  });

  it('answers a subscription only once the subscriber\'s other edge applied it: an event right after reaches that edge too', { timeout: 60_000 }, async () => {
    const cluster = await startTestCluster({ edges: 2, actors: 1 });
    const stamp = Date.now().toString(36);
    const [a, b] = [`evc-alice-${stamp}`, `evc-bob-${stamp}`];
    const clients: ParleyClient[] = [];
    cluster.defer(async () => {
      cluster.edges[0]!.resume();
      await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
    });
    const open = async (account: string, edge: number, deviceId: string): Promise<ParleyClient> => {
      const c = await connect({ url: cluster.urls[edge]!, token: await tokenFor(account), deviceId, WebSocket, reconnect: false });
      clients.push(c);
      return c;
    };
    const aliceDesk = await open(a, 1, 'desk');
    const aliceTab = await open(a, 0, 'tab');
    const tabHeard: PushEvent[] = [];
    aliceTab.on('pushevents', (d) => tabHeard.push(...d.msgEvents));
    const bobPhone = await open(b, 1, 'phone');
    // Every login sync is over: the tab's edge holds its account's subscriptions by then.
    await Promise.all([aliceDesk.synced, aliceTab.synced, bobPhone.synced]);

    // Edge 0 is frozen while the subscription is made on edge 1: it can apply the change only once it runs again.
    cluster.edges[0]!.pause();
    const subscribed = aliceDesk.subscribeEvent({ type: 1, accounts: [b] });
    let answered = false;
    void subscribed.then(() => (answered = true));
    // An answer not given can only be shown over time: 600 ms is well past a subscription's round trips here.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(answered).toBe(false);
    cluster.edges[0]!.resume();
    expect(await subscribed).toEqual({ failedAccounts: [] });

    // Published as soon as the answer is out: edge 0 watches bob's events by then.
    await bobPhone.publishEvent({ type: 1, value: 20002, custom: 'right after' });
    await until('the event on the frozen edge', () => (tabHeard.some((e) => e.value === 20002) ? true : undefined), 10_000);
  });
});
