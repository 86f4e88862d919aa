/**
 * Unread counts after a recall, over the wire with the SDK, in both modes: a
 * recalled message the recipient had not read leaves their unread count
 * (whether it was the newest message or not), one they had read changes
 * nothing, and later messages count as before.
 */
import { expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';

describeBothModes('unread counts after a recall', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  /** The session's count and newest message; none yet reads as nothing unread (the recipient's session follows the sender's answer). */
  async function unreadAt(c: ParleyClient, peer: string): Promise<{ unread: number; last: string | undefined }> {
    try {
      const { session } = await c.getServerSession({ scene: 'p2p', to: peer });
      return { unread: session.unread, last: session.lastMsg?.idServer };
    } catch (err) {
      if ((err as { name?: unknown }).name === 'NOT_FOUND') return { unread: 0, last: undefined };
      throw err;
    }
  }

  it('takes recalled unread messages out of the count, newest or not', async () => {
    const [me, bob] = [account('me'), account('bob')];
    const phone = await conns.client(me, { deviceId: 'phone' });
    const peer = await conns.client(bob, { deviceId: 'b' });
    const m1 = await peer.sendText({ scene: 'p2p', to: me, text: 'one' });
    const m2 = await peer.sendText({ scene: 'p2p', to: me, text: 'two' });
    const m3 = await peer.sendText({ scene: 'p2p', to: me, text: 'three' });
    await waitFor('three unread', async () => (await unreadAt(phone, bob)).unread === 3);
    await peer.recallMsg({ msg: m3 });
    await waitFor('the newest recalled: two unread, lastMsg two', async () => {
      const s = await unreadAt(phone, bob);
      return s.unread === 2 && s.last === m2.idServer;
    });
    await peer.recallMsg({ msg: m1 });
    await waitFor('an older one recalled: one unread', async () => (await unreadAt(phone, bob)).unread === 1);
    // Repeating a recall changes nothing more.
    await peer.deleteMsg({ msg: m1 });
    const m4 = await peer.sendText({ scene: 'p2p', to: me, text: 'four' });
    await waitFor('the next message counts: two unread', async () => (await unreadAt(phone, bob)).last === m4.idServer);
    expect((await unreadAt(phone, bob)).unread).toBe(2);
    // The sender's own count never moved.
    expect((await unreadAt(peer, me)).unread).toBe(0);
  });

  it('leaves the count alone when the recalled message was read, and later messages count', async () => {
    const [me, bob] = [account('me'), account('bob')];
    const phone = await conns.client(me, { deviceId: 'phone' });
    const peer = await conns.client(bob, { deviceId: 'b' });
    const m1 = await peer.sendText({ scene: 'p2p', to: me, text: 'one' });
    await peer.sendText({ scene: 'p2p', to: me, text: 'two' });
    await waitFor('two unread', async () => (await unreadAt(phone, bob)).unread === 2);
    await phone.resetSessionUnread(`p2p-${bob}`);
    await peer.recallMsg({ msg: m1 });
    const m3 = await peer.sendText({ scene: 'p2p', to: me, text: 'three' });
    await waitFor('the session shows three', async () => (await unreadAt(phone, bob)).last === m3.idServer);
    expect((await unreadAt(phone, bob)).unread).toBe(1);
  });
});
