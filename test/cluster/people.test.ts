/**
 * The blocklist, the mutelist and friend requests across a cluster: the
 * blocker's user actor, the blocked account's user actor and the pair's
 * conversation on different actor hosts, the two accounts on different
 * edges. A block is enforced in the conversation as soon as it is answered;
 * a friend request and its answer cross hosts and edges.
 */
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { connect } from '../../client/index.ts';
import type { SysMsg } from '../../engine/protocol/methods.ts';
import { p2pAddress, userAddress } from '../../engine/subjects.ts';
import { tokenFor } from '../helpers/engine.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';
import { startTestCluster } from './harness.ts';

describe('cluster: people across actor hosts and edges', () => {
  it('blocks, mutes and befriends across hosts', { timeout: 60_000 }, async () => {
    const cluster = await startTestCluster();
    const leases = await cluster.leases();
    const ownerOf = (address: string) => leases.get(cluster.partitionOf(address))?.node;
    // A pair whose conversation lives on another host than the blocker's user actor.
    let pair: [string, string] | undefined;
    for (let k = 0; k < 1000 && pair === undefined; k++) {
      const [a, b] = [`pa${k}`, `pb${k}`];
      if (ownerOf(userAddress(a)) !== ownerOf(p2pAddress(a, b))) pair = [a, b];
    }
    expect(pair).toBeDefined();
    const [a, b] = pair!;
    const ca = await connect({ url: cluster.urls[0]!, token: await tokenFor(a), WebSocket, reconnect: false });
    cluster.defer(() => ca.destroy());
    const cb = await connect({ url: cluster.urls[1]!, token: await tokenFor(b), WebSocket, reconnect: false });
    cluster.defer(() => cb.destroy());

    await ca.addToBlacklist(b);
    expect(await rejectionOf(cb.sendText({ scene: 'p2p', to: a, text: 'x' }))).toMatchObject({ name: 'BLOCKED' });
    expect(await rejectionOf(cb.applyFriend({ account: a }))).toMatchObject({ name: 'BLOCKED' });
    await ca.removeFromBlacklist(b);
    await ca.addToMutelist(b);
    const seen: Array<{ idServer: string; isMuted?: boolean }> = [];
    ca.on('msg', (m) => seen.push(m));
    const sent = await cb.sendText({ scene: 'p2p', to: a, text: 'quiet' });
    await waitFor('the muted message', () => seen.some((m) => m.idServer === sent.idServer), 10_000);
    expect(seen.find((m) => m.idServer === sent.idServer)?.isMuted).toBe(true);

    const toA: SysMsg[] = [];
    const toB: SysMsg[] = [];
    ca.on('sysmsg', (m) => toA.push(m));
    cb.on('sysmsg', (m) => toB.push(m));
    const req = await cb.applyFriend({ account: a, ps: 'hi' });
    await waitFor('the request on the other edge', () => toA.some((m) => m.idServer === req.idServer), 10_000);
    await ca.passFriendApply({ idServer: req.idServer, account: b });
    await waitFor('the answer back', () => toB.some((m) => m.type === 'passFriendApply'), 10_000);
    await waitFor('both to be friends', async () => (await ca.isMyFriend(b)) && (await cb.isMyFriend(a)), 10_000);
  });
});
