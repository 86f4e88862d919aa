/**
 * Pinned messages over the wire with the SDK, in both modes: pinning,
 * changing and removing a pin as both participants and the pinner's other
 * device see it (`PinMsgChange`, `getMsgPins`), and the refusals (a message
 * of a conversation the caller is not in, a missing message, over-limit and
 * wrong-typed fields, a pin on a pinned message).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import { conversationSettings } from '../../actors/conversation/behavior.ts';
import { MAX_PINS_PER_CONVERSATION } from '../../actors/conversation/pins.ts';
import type { Message, MsgRef, PinMsgChange } from '../../engine/protocol/methods.ts';
import { waitFor, rejectionOf } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { accountAndPeer, useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';

const refOf = (m: Message): MsgRef => ({ scene: m.scene, from: m.from, to: m.to, time: m.time, idServer: m.idServer });

function changes(c: ParleyClient): PinMsgChange[] {
  const seen: PinMsgChange[] = [];
  c.on('PinMsgChange', (d) => seen.push(d));
  return seen;
}

describeBothModes('message pins', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);
  afterEach(() => {
    conversationSettings.maxPins = MAX_PINS_PER_CONVERSATION;
  });

  const pair = () => accountAndPeer(conns);

  it('pins, updates and unpins: the peer and the other device hear each change, getMsgPins lists the pins', async () => {
    const { me, bob, phone, desk, peer } = await pair();
    const m1 = await peer.sendText({ scene: 'p2p', to: me, text: 'one' });
    const m2 = await phone.sendText({ scene: 'p2p', to: bob, text: 'two' });
    const atPeer = changes(peer);
    const atDesk = changes(desk);
    const atPhone = changes(phone);

    const { pin } = await phone.addMsgPin({ msg: m1, pinCustom: '{"c":1}' });
    expect(pin).toMatchObject({ pinFrom: me, pinCustom: '{"c":1}', msg: { idServer: m1.idServer, flow: 'in', sessionId: `p2p-${bob}` } });
    await peer.addMsgPin({ msg: refOf(m2) });
    await waitFor('both adds reach the peer and the desk', () => atPeer.length === 1 && atDesk.length === 2);
    expect(atPeer[0]).toMatchObject({ type: 'add', sessionId: `p2p-${me}`, pin: { pinFrom: me, pinCustom: '{"c":1}', msg: { idServer: m1.idServer, flow: 'out' } } });
    expect(atDesk.map((c) => [c.type, c.pin.msg.idServer, c.pin.pinFrom])).toEqual([['add', m1.idServer, me], ['add', m2.idServer, bob]]);

    const listed = await peer.getMsgPins(`p2p-${me}`);
    expect(listed.pins.map((p) => [p.msg.idServer, p.pinCustom, p.pinFrom])).toEqual([[m1.idServer, '{"c":1}', me], [m2.idServer, undefined, bob]]);

    const updated = await desk.updateMsgPin({ msg: refOf(m1), pinCustom: '{"c":2}' });
    expect(updated.pin).toMatchObject({ pinCustom: '{"c":2}', pinFrom: me, createTime: pin.createTime });
    await waitFor('the update reaches the peer and the phone', () => atPeer.some((c) => c.type === 'update') && atPhone.some((c) => c.type === 'update'));
    expect(atPeer.find((c) => c.type === 'update')?.pin.pinCustom).toBe('{"c":2}');

    const removed = await phone.deleteMsgPin({ msg: refOf(m2) });
    expect(removed.pin?.msg.idServer).toBe(m2.idServer);
    await waitFor('the removal reaches the peer and the desk', () => atPeer.some((c) => c.type === 'delete') && atDesk.some((c) => c.type === 'delete'));
    expect((await phone.getMsgPins(`p2p-${bob}`)).pins.map((p) => [p.msg.idServer, p.pinCustom])).toEqual([[m1.idServer, '{"c":2}']]);
    // Removing it again, or pinning the same way again, changes nothing and tells nobody: the next change is the next thing heard.
    const heard = atDesk.length;
    expect(await phone.deleteMsgPin({ msg: refOf(m2) })).toEqual({});
    expect((await phone.addMsgPin({ msg: refOf(m1), pinCustom: '{"c":2}' })).pin.pinCustom).toBe('{"c":2}');
    await peer.addMsgPin({ msg: refOf(m2), pinCustom: 'again' });
    await waitFor('the next change reaches both devices', () => atDesk.some((c) => c.pin.pinCustom === 'again') && atPhone.some((c) => c.pin.pinCustom === 'again'));
    expect(atDesk.slice(heard).map((c) => [c.type, c.pin.pinCustom])).toEqual([['add', 'again']]);
    // The pinner's own device never hears its own changes.
    expect(atPhone.map((c) => [c.type, c.pin.pinFrom])).toEqual([['add', bob], ['update', me], ['add', bob]]);
  });

  it('unpins a recalled message, telling the participants, and leaves deleted-for-self ones out of the caller\'s getMsgPins', async () => {
    const { me, bob, phone, peer } = await pair();
    const kept = await phone.sendText({ scene: 'p2p', to: bob, text: 'kept' });
    const recalled = await phone.sendText({ scene: 'p2p', to: bob, text: 'recalled' });
    const hidden = await peer.sendText({ scene: 'p2p', to: me, text: 'hidden by me' });
    for (const m of [kept, recalled, hidden]) await phone.addMsgPin({ msg: refOf(m) });
    const atPeer = changes(peer);
    await phone.recallMsg({ msg: refOf(recalled) });
    await waitFor('the peer hears the recalled message lose its pin', () => atPeer.some((c) => c.type === 'delete'));
    expect(atPeer.filter((c) => c.type === 'delete').map((c) => c.pin.msg.idServer)).toEqual([recalled.idServer]);
    await phone.deleteMsgSelf({ msg: refOf(hidden) });
    expect((await phone.getMsgPins(`p2p-${bob}`)).pins.map((p) => p.msg.idServer)).toEqual([kept.idServer]);
    expect((await peer.getMsgPins(`p2p-${me}`)).pins.map((p) => p.msg.idServer)).toEqual([kept.idServer, hidden.idServer]);
  });

  it("refuses a message of a conversation the caller is not in, without telling anything about it", async () => {
    const { me, bob, phone, peer } = await pair();
    const mallory = account('mallory');
    const outsider = await conns.client(mallory, { deviceId: 'm' });
    const secret = await phone.sendText({ scene: 'p2p', to: bob, text: 'between us' });
    const atPeer = changes(peer);
    const attempts = [
      outsider.addMsgPin({ msg: refOf(secret), pinCustom: 'x' }),
      outsider.updateMsgPin({ msg: refOf(secret), pinCustom: 'x' }),
      outsider.deleteMsgPin({ msg: refOf(secret) }),
    ];
    const errors = await Promise.all(attempts.map((p) => rejectionOf(p)));
    for (const err of errors) {
      expect(['FORBIDDEN', 'NOT_FOUND']).toContain(err.name);
      expect(err.message).not.toContain('between us');
    }
    // A real message id at a made-up time, and a made-up id: the same answer.
    const made = await rejectionOf(outsider.addMsgPin({ msg: { ...refOf(secret), idServer: 'nothing-here' } }));
    expect(made.name).toBe(errors[0]!.name);
    expect((await outsider.getMsgPins(`p2p-${me}`)).pins).toEqual([]);
    expect((await outsider.getMsgPins(`p2p-${bob}`)).pins).toEqual([]);
    expect((await peer.getMsgPins(`p2p-${me}`)).pins).toEqual([]);
    expect(atPeer).toEqual([]);
  });

  it('refuses a missing message, a pin on a pinned message, over-limit and wrong-typed fields, and pins past the limit', async () => {
    const { bob, phone } = await pair();
    const m = await phone.sendText({ scene: 'p2p', to: bob, text: 'x' });
    const n = await phone.sendText({ scene: 'p2p', to: bob, text: 'y' });
    const refusal = async (p: Promise<unknown>, name: string, pattern: RegExp) => {
      const err = await rejectionOf(p);
      expect(err, String(pattern)).toMatchObject({ name });
      expect(err.message).toMatch(pattern);
    };
    await refusal(phone.addMsgPin({ msg: { ...refOf(m), idServer: 'missing' } }), 'NOT_FOUND', /no message missing/);
    await refusal(phone.updateMsgPin({ msg: refOf(m), pinCustom: 'x' }), 'NOT_FOUND', /not pinned/);
    await refusal(phone.deleteMsgPin({ msg: { ...refOf(m), time: m.time + 100_000 } }), 'NOT_FOUND', /no message/);
    await refusal(phone.addMsgPin({ msg: refOf(m), pinCustom: 'p'.repeat(4097) }), 'TOO_LARGE', /`pinCustom` must be at most 4096 characters/);
    await refusal(phone.addMsgPin({ msg: refOf(m), pinCustom: 5 as never }), 'BAD_REQUEST', /`pinCustom` must be a string/);
    await refusal(phone.addMsgPin({ msg: { ...refOf(m), idServer: 7 as never } }), 'BAD_REQUEST', /`msg.idServer` must be a string/);
    await refusal(phone.getMsgPins('room-1' as never), 'BAD_REQUEST', /`id`/);
    await phone.addMsgPin({ msg: refOf(m), pinCustom: 'a' });
    await refusal(phone.addMsgPin({ msg: refOf(m), pinCustom: 'b' }), 'CONFLICT', /pinned already/);
    conversationSettings.maxPins = 1;
    await refusal(phone.addMsgPin({ msg: refOf(n) }), 'BAD_REQUEST', /at most 1 messages of a conversation may be pinned/);
    expect((await phone.getMsgPins(`p2p-${bob}`)).pins.map((p) => p.pinCustom)).toEqual(['a']);
  });
});
