/**
 * Threads over the wire with the SDK, in both modes: replies carry
 * `threadMessageInfo` naming the replied message and the thread's root,
 * `getThreadMsgs` pages a thread's replies both ways with `lastMsgId`, and
 * the refusals (a reply to a message elsewhere, a missing root, a root of a
 * conversation the caller is not in, over-limit and wrong-typed fields).
 */
import { expect, it } from 'vitest';
import type { Message, MsgRef } from '../../engine/protocol/methods.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';

const refOf = (m: Message): MsgRef => ({ scene: m.scene, from: m.from, to: m.to, time: m.time, idServer: m.idServer });
const rootOf = (m: Message) => ({ scene: 'p2p' as const, threadMsgFromAccount: m.from, threadMsgToAccount: m.to, threadMsgIdServer: m.idServer, threadMsgTime: m.time });

describeBothModes('threads', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  async function pair() {
    const [me, bob] = [account('me'), account('bob')];
    const phone = await conns.client(me, { deviceId: 'phone' });
    const peer = await conns.client(bob, { deviceId: 'b' });
    return { me, bob, phone, peer };
  }

  it('stores threadMessageInfo on replies, and a reply to a reply joins the same thread', async () => {
    const { me, bob, phone, peer } = await pair();
    const atPeer: Message[] = [];
    peer.on('msg', (m) => atPeer.push(m));
    const root = await phone.sendText({ scene: 'p2p', to: bob, text: 'root' });
    const r1 = await peer.sendText({ scene: 'p2p', to: me, text: 'reply', replyMsg: root });
    expect(r1.threadMessageInfo).toEqual({
      replyMsgFromAccount: me, replyMsgToAccount: bob, replyMsgTime: root.time, replyMsgIdServer: root.idServer, replyMsgIdClient: root.idClient,
      threadMsgFromAccount: me, threadMsgToAccount: bob, threadMsgTime: root.time, threadMsgIdServer: root.idServer, threadMsgIdClient: root.idClient,
    });
    const r2 = await phone.sendCustomMsg({ scene: 'p2p', to: bob, content: '{}', replyMsg: refOf(r1) });
    expect(r2.threadMessageInfo).toMatchObject({ replyMsgIdServer: r1.idServer, replyMsgFromAccount: bob, threadMsgIdServer: root.idServer, threadMsgIdClient: root.idClient });
    await waitFor('the peer gets the reply', () => atPeer.some((m) => m.idServer === r2.idServer));
    expect(atPeer.find((m) => m.idServer === r2.idServer)?.threadMessageInfo).toEqual(r2.threadMessageInfo);
    const history = (await peer.getHistoryMsgs({ scene: 'p2p', to: me })).msgs;
    expect(history.find((m) => m.idServer === r1.idServer)?.threadMessageInfo?.threadMsgIdServer).toBe(root.idServer);
    expect(history.find((m) => m.idServer === root.idServer)?.threadMessageInfo).toBeUndefined();
    const page = await peer.getThreadMsgs(rootOf(root));
    expect(page.threadMsg).toMatchObject({ idServer: root.idServer, flow: 'in' });
    expect(page.msgs.map((m) => m.idServer)).toEqual([r2.idServer, r1.idServer]);
    expect(page.total).toBe(2);
    expect(page.timetag).toBeGreaterThanOrEqual(r2.time);
  });

  it('pages a thread backwards from endTime and forwards from beginTime with lastMsgId; recalled replies leave it', async () => {
    const { bob, phone } = await pair();
    const root = await phone.sendText({ scene: 'p2p', to: bob, text: 'root' });
    await phone.sendText({ scene: 'p2p', to: bob, text: 'not in the thread' });
    const replies: Message[] = [];
    for (let i = 0; i < 7; i++) replies.push(await phone.sendText({ scene: 'p2p', to: bob, text: `r${i}`, replyMsg: refOf(i % 2 === 0 ? root : replies[i - 1]!) }));
    const ids = replies.map((m) => m.idServer);

    const back: string[] = [];
    let cursor: { endTime?: number; lastMsgId?: string } = {};
    for (let i = 0; i < 5 && back.length < 7; i++) {
      const page = await phone.getThreadMsgs({ ...rootOf(root), limit: 3, ...cursor });
      back.push(...page.msgs.map((m) => m.idServer));
      const last = page.msgs[page.msgs.length - 1]!;
      cursor = { endTime: last.time, lastMsgId: last.idServer };
    }
    expect(back).toEqual([...ids].reverse());

    const fwd: string[] = [];
    let from: { beginTime?: number; lastMsgId?: string } = {};
    for (let i = 0; i < 5 && fwd.length < 7; i++) {
      const page = await phone.getThreadMsgs({ ...rootOf(root), limit: 3, reverse: true, ...from });
      // Each page comes newest first; its newest reply is where the next page starts.
      fwd.push(...[...page.msgs].reverse().map((m) => m.idServer));
      const newest = page.msgs[0]!;
      from = { beginTime: newest.time, lastMsgId: newest.idServer };
    }
    expect(fwd).toEqual(ids);

    await phone.recallMsg({ msg: refOf(replies[6]!) });
    const after = await phone.getThreadMsgs(rootOf(root));
    expect(after.msgs.map((m) => m.idServer)).toEqual(ids.slice(0, 6).reverse());
    expect(after.total).toBe(6);
    const window = await phone.getThreadMsgs({ ...rootOf(root), beginTime: replies[2]!.time, endTime: replies[4]!.time, reverse: true });
    expect(window.msgs.every((m) => m.time >= replies[2]!.time && m.time <= replies[4]!.time)).toBe(true);
    expect(window.msgs.map((m) => m.idServer)).toContain(replies[3]!.idServer);
  });

  it('counts in total only the replies the caller sees: one deleted for self leaves their count, not the peer\'s', async () => {
    const { me, bob, phone, peer } = await pair();
    const root = await phone.sendText({ scene: 'p2p', to: bob, text: 'root' });
    const r1 = await peer.sendText({ scene: 'p2p', to: me, text: 'r1', replyMsg: refOf(root) });
    const r2 = await phone.sendText({ scene: 'p2p', to: bob, text: 'r2', replyMsg: refOf(r1) });
    const r3 = await peer.sendText({ scene: 'p2p', to: me, text: 'r3', replyMsg: refOf(root) });
    await peer.deleteMsgSelf({ msg: refOf(r2) });
    const atPeer = await peer.getThreadMsgs(rootOf(root));
    expect(atPeer.msgs.map((m) => m.idServer)).toEqual([r3.idServer, r1.idServer]);
    expect(atPeer.total).toBe(2);
    const atPhone = await phone.getThreadMsgs(rootOf(root));
    expect(atPhone.msgs.map((m) => m.idServer)).toEqual([r3.idServer, r2.idServer, r1.idServer]);
    expect(atPhone.total).toBe(3);
    // A page smaller than the thread still counts all of it.
    expect((await peer.getThreadMsgs({ ...rootOf(root), limit: 1 })).total).toBe(2);
  });

  it('refuses a reply to a message elsewhere, a missing root, a root the caller cannot see, and bad fields', async () => {
    const { me, bob, phone, peer } = await pair();
    const carol = account('carol');
    const other = await phone.sendText({ scene: 'p2p', to: carol, text: 'elsewhere' });
    const root = await phone.sendText({ scene: 'p2p', to: bob, text: 'root' });
    await peer.sendText({ scene: 'p2p', to: me, text: 'reply', replyMsg: refOf(root) });
    const refusal = async (p: Promise<unknown>, name: string, pattern: RegExp) => {
      const err = await rejectionOf(p);
      expect(err, String(pattern)).toMatchObject({ name });
      expect(err.message).toMatch(pattern);
    };
    await refusal(phone.sendText({ scene: 'p2p', to: bob, text: 'x', replyMsg: refOf(other) }), 'NOT_FOUND', /`replyMsg` .* is not a message of this conversation/);
    await refusal(phone.sendText({ scene: 'p2p', to: bob, text: 'x', replyMsg: { ...refOf(root), idServer: 'missing' } }), 'NOT_FOUND', /`replyMsg`/);
    await refusal(phone.sendText({ scene: 'p2p', to: bob, text: 'x', replyMsg: { ...refOf(root), time: 'now' as never } }), 'BAD_REQUEST', /`replyMsg.time` must be an integer/);
    await refusal(phone.getThreadMsgs({ ...rootOf(root), threadMsgIdServer: 'missing' }), 'NOT_FOUND', /no message missing/);
    await refusal(phone.getThreadMsgs({ ...rootOf(root), limit: 101 }), 'BAD_REQUEST', /`limit` must be between 1 and 100/);
    await refusal(phone.getThreadMsgs({ ...rootOf(root), reverse: 1 as never }), 'BAD_REQUEST', /`reverse` must be true or false/);
    const outsider = await conns.client(account('mallory'), { deviceId: 'm' });
    const err = await rejectionOf(outsider.getThreadMsgs(rootOf(root)));
    expect(['FORBIDDEN', 'NOT_FOUND']).toContain(err.name);
    expect(err.message).not.toContain('reply');
    // Nothing refused was stored.
    expect((await phone.getHistoryMsgs({ scene: 'p2p', to: bob })).msgs).toHaveLength(2);
  });
});
