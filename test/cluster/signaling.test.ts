/**
 * A call across a cluster of two edges and two actor hosts: the inviter on
 * one edge, the invitee's devices on both; the first answer wins, the
 * inviter hears it, the invitee's other device is told and its own answer
 * is CONFLICT; a control signal crosses edges both ways.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { Events } from '../../engine/protocol/events.ts';
import { tokenFor } from '../helpers/engine.ts';
import { rejectionOf } from '../helpers/wait.ts';
import { startTestCluster, until } from './harness.ts';

describe('cluster: signaling', () => {
  it('a call between edges is answered once', { timeout: 60_000 }, async () => {
    const cluster = await startTestCluster({ edges: 2, actors: 2 });
    const suffix = Date.now().toString(36);
    const [a, b] = [`caller-${suffix}`, `callee-${suffix}`];
    const clients: ParleyClient[] = [];
    cluster.defer(async () => {
      await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
    });
    const open = async (edge: number, account: string, deviceId: string): Promise<{ c: ParleyClient; notes: Array<Events['signalingNotify']>; syncs: Array<Events['signalingMutilClientSyncNotify']> }> => {
      const c = await connect({ url: cluster.urls[edge]!, token: await tokenFor(account), deviceId, WebSocket });
      clients.push(c);
      const heard = { c, notes: [] as Array<Events['signalingNotify']>, syncs: [] as Array<Events['signalingMutilClientSyncNotify']> };
      c.on('signalingNotify', (d) => heard.notes.push(d));
      c.on('signalingMutilClientSyncNotify', (d) => heard.syncs.push(d));
      return heard;
    };
    const alice = await open(0, a, 'a');
    const bobFar = await open(1, b, 'far');
    const bobNear = await open(0, b, 'near');

    const call = await alice.c.signalingCall({ type: 1, account: b, requestId: 'r1' });
    await until('both of bob\'s devices hear the invitation', () => (bobFar.notes.length === 1 && bobNear.notes.length === 1 ? true : undefined), 10_000);
    await bobFar.c.signalingAccept({ channelId: call.channelId, account: a, requestId: 'r1' });
    await until('alice hears the answer', () => (alice.notes.some((n) => n.eventType === 'ACCEPT') ? true : undefined), 10_000);
    await until('the near device is told', () => (bobNear.syncs.length === 1 ? true : undefined), 10_000);
    expect(bobNear.syncs[0]).toMatchObject({ eventType: 'ACCEPT', fromDeviceId: 'far', requestId: 'r1' });
    const second = await rejectionOf(bobNear.c.signalingReject({ channelId: call.channelId, account: a, requestId: 'r1' }));
    expect(second).toMatchObject({ name: 'CONFLICT' });

    await bobFar.c.signalingControl({ channelId: call.channelId, account: a, attachExt: 'ping' });
    await alice.c.signalingControl({ channelId: call.channelId, account: b, attachExt: 'pong' });
    await until('the control signals cross', () =>
      alice.notes.some((n) => n.eventType === 'CONTROL' && n.attachExt === 'ping') && bobFar.notes.some((n) => n.eventType === 'CONTROL' && n.attachExt === 'pong') ? true : undefined,
    10_000);
    // Both of bob's devices hear a signal to bob.
    await until('the near device hears it too', () => (bobNear.notes.some((n) => n.eventType === 'CONTROL' && n.attachExt === 'pong') ? true : undefined), 10_000);
  });
});
