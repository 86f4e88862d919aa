/**
 * Clearing one's own history over the wire with the SDK, in both modes:
 * `clearServerHistoryMsgs` hides the conversation's messages so far from the
 * caller only (history, lookups, threads and pins; with `isDeleteRoam` the
 * login sync too), tells the caller's other devices only with `isSyncSelf`,
 * and refuses bad arguments.
 */
import { expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { ClearedHistory, Message, MsgRef } from '../../engine/protocol/methods.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';

const refOf = (m: Message): MsgRef => ({ scene: m.scene, from: m.from, to: m.to, time: m.time, idServer: m.idServer });

function clears(c: ParleyClient): ClearedHistory[] {
  const seen: ClearedHistory[] = [];
  c.on('ClearServerHistoryMsgs', (d) => seen.push(...d));
  return seen;
}

describeBothModes('clearing server history', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  async function history(c: ParleyClient, to: string, reverse = false): Promise<string[]> {
    return (await c.getHistoryMsgs({ scene: 'p2p', to, reverse })).msgs.map((m) => m.idServer);
  }

  it("clears the caller's view only; later messages show; other devices hear it with isSyncSelf", async () => {
    const [me, bob] = [account('me'), account('bob')];
    const phone = await conns.client(me, { deviceId: 'phone' });
    const desk = await conns.client(me, { deviceId: 'desk' });
    const peer = await conns.client(bob, { deviceId: 'b' });
    const atDesk = clears(desk);
    const atPhone = clears(phone);
    const atPeer = clears(peer);
    const m1 = await peer.sendText({ scene: 'p2p', to: me, text: 'one' });
    const m2 = await phone.sendText({ scene: 'p2p', to: bob, text: 'two' });
    await phone.addMsgPin({ msg: refOf(m1) });

    const cleared = await phone.clearServerHistoryMsgs({ scene: 'p2p', to: bob, isSyncSelf: true, ext: '{"why":"tidy"}' });
    expect(cleared).toMatchObject({ sessionId: `p2p-${bob}`, scene: 'p2p', to: bob, isDeleteRoam: true, ext: '{"why":"tidy"}' });
    await waitFor('the desk hears of the clear', () => atDesk.length === 1);
    expect(atDesk[0]).toEqual(cleared);

    const m3 = await peer.sendText({ scene: 'p2p', to: me, text: 'three', replyMsg: refOf(m1) });
    for (const c of [phone, desk]) {
      expect(await history(c, bob)).toEqual([m3.idServer]);
      expect(await history(c, bob, true)).toEqual([m3.idServer]);
    }
    expect(await history(peer, me)).toEqual([m3.idServer, m2.idServer, m1.idServer]);
    expect((await phone.getMsgsByIdServer({ reqMsgs: [refOf(m1), refOf(m3)] })).msgs.map((m) => m.idServer)).toEqual([m3.idServer]);
    expect((await phone.getMsgPins(`p2p-${bob}`)).pins).toEqual([]);
    expect((await peer.getMsgPins(`p2p-${me}`)).pins.map((p) => p.msg.idServer)).toEqual([m1.idServer]);
    expect(await rejectionOf(phone.getThreadMsgs({ scene: 'p2p', threadMsgFromAccount: bob, threadMsgToAccount: me, threadMsgIdServer: m1.idServer, threadMsgTime: m1.time }))).toMatchObject({ name: 'NOT_FOUND' });
    expect((await peer.getThreadMsgs({ scene: 'p2p', threadMsgFromAccount: bob, threadMsgToAccount: me, threadMsgIdServer: m1.idServer, threadMsgTime: m1.time })).msgs.map((m) => m.idServer)).toEqual([m3.idServer]);

    // Without isSyncSelf the other devices are not told: the next thing the desk hears is a later clear with it.
    await phone.clearServerHistoryMsgs({ scene: 'p2p', to: bob });
    await peer.sendText({ scene: 'p2p', to: me, text: 'four' });
    await phone.clearServerHistoryMsgsWithSync({ scene: 'p2p', to: bob, isSyncSelf: true, ext: 'second' });
    await waitFor('the desk hears of the second synced clear', () => atDesk.length === 2);
    expect(atDesk.map((c) => c.ext)).toEqual(['{"why":"tidy"}', 'second']);
    expect(await history(phone, bob)).toEqual([]);
    expect(atPhone).toEqual([]);
    expect(atPeer).toEqual([]);
  });

  it('leaves cleared messages out of a later login sync with isDeleteRoam, keeps them there without it', async () => {
    const [me, bob, carol] = [account('me'), account('bob'), account('carol')];
    const peer = await conns.client(bob, { deviceId: 'b' });
    const other = await conns.client(carol, { deviceId: 'c' });
    const phone = await conns.client(me, { deviceId: 'phone' });
    const gone = await peer.sendText({ scene: 'p2p', to: me, text: 'gone' });
    const stays = await other.sendText({ scene: 'p2p', to: me, text: 'stays in sync' });
    await phone.clearServerHistoryMsgs({ scene: 'p2p', to: bob });
    await phone.clearServerHistoryMsgs({ scene: 'p2p', to: carol, isDeleteRoam: false });
    const after = await peer.sendText({ scene: 'p2p', to: me, text: 'after' });
    const lastOf = async (to: string) => (await phone.getServerSession({ scene: 'p2p', to })).session.lastMsg?.idServer;
    await waitFor('both sessions to show their newest message', async () => (await lastOf(bob)) === after.idServer && (await lastOf(carol)) === stays.idServer);
    const seen: Message[] = [];
    const fresh = await conns.client(me, { deviceId: 'new', on: { offlinemsgs: (o) => seen.push(...o.msgs) } });
    await fresh.waitForSync(20_000);
    const ids = seen.map((m) => m.idServer);
    expect(ids).toContain(after.idServer);
    expect(ids).toContain(stays.idServer);
    expect(ids).not.toContain(gone.idServer);
    expect(await history(fresh, carol)).toEqual([]);
  });

  it('refuses bad arguments, naming them', async () => {
    const phone = await conns.client(account('me'), { deviceId: 'phone' });
    const refusal = async (p: Promise<unknown>, name: string, pattern: RegExp) => {
      const err = await rejectionOf(p);
      expect(err, String(pattern)).toMatchObject({ name });
      expect(err.message).toMatch(pattern);
    };
    await refusal(phone.clearServerHistoryMsgs({ scene: 'p2p', to: 'bob', ext: 'e'.repeat(4097) }), 'TOO_LARGE', /`ext` must be at most 4096 characters/);
    await refusal(phone.clearServerHistoryMsgs({ scene: 'p2p', to: 'bob', isSyncSelf: 'yes' as never }), 'BAD_REQUEST', /`isSyncSelf` must be true or false/);
    await refusal(phone.clearServerHistoryMsgs({ scene: 'room' as never, to: 'bob' }), 'BAD_REQUEST', /`scene`/);
    await refusal(phone.clearServerHistoryMsgs({ scene: 'p2p', to: '' }), 'BAD_REQUEST', /`to`/);
  });
});
