/**
 * Every message kind, forwarding, recall, delete-for-self and lookups by
 * idServer, over the wire with the SDK, in both modes: what the other party
 * and the sender's other devices receive, what history shows afterwards, and
 * the refusals (someone else's message, an unknown one, past the recall
 * window, over-limit fields, wrong types).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import { conversationSettings } from '../../actors/conversation/behavior.ts';
import { RECALL_WINDOW_MS } from '../../actors/conversation/logic.ts';
import type { DeletedMsgSelf, Message, MsgRef, SysMsg } from '../../engine/protocol/methods.ts';
import { waitFor, rejectionOf } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { accountAndPeer, useConnections } from '../helpers/connections.ts';

let accountSeq = 0;
function account(name: string): string {
  return `${name}${++accountSeq}k${Date.now().toString(36)}`;
}

const refOf = (m: Message): MsgRef => ({ scene: m.scene, from: m.from, to: m.to, time: m.time, idServer: m.idServer });
const file = { url: 'https://files.example/p.jpg', name: 'p.jpg', size: 2048, md5: 'd41d8cd98f00b204e9800998ecf8427e', ext: 'jpg' };

/** Collects one event of a client. */
function collect<T>(c: ParleyClient, ev: 'msg' | 'sysmsg' | 'DeleteMsgSelf'): T[] {
  const got: T[] = [];
  c.on(ev as 'msg', (d) => got.push(d as unknown as T));
  return got;
}

describeBothModes('message kinds, recall and delete-for-self', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);
  afterEach(() => {
    conversationSettings.recallWindowMs = RECALL_WINDOW_MS;
  });

  const pair = () => accountAndPeer(conns);

  async function history(c: ParleyClient, to: string, msgTypes?: Message['type'][]): Promise<Message[]> {
    return (await c.getHistoryMsgs({ scene: 'p2p', to, ...(msgTypes === undefined ? {} : { msgTypes }) })).msgs;
  }

  describe('sending', () => {
    it('sends geo, tip, custom and file messages with their bodies and options, delivered to the peer and the other device', async () => {
      const { me, bob, phone, desk, peer } = await pair();
      const atPeer = collect<Message>(peer, 'msg');
      const atDesk = collect<Message>(desk, 'msg');
      const geo = await phone.sendGeo({ scene: 'p2p', to: bob, geo: { lng: 116.3833, lat: 39.9167, title: 'Beijing' }, needPushNick: true, env: 'staging' });
      expect(geo).toMatchObject({ type: 'geo', geo: { lng: 116.3833, lat: 39.9167, title: 'Beijing' }, needPushNick: true, env: 'staging', flow: 'out', seq: 1 });
      const tip = await phone.sendTipMsg({ scene: 'p2p', to: bob, tip: 'welcome' });
      const custom = await phone.sendCustomMsg({ scene: 'p2p', to: bob, content: '{"dice":4}' });
      const image = await phone.sendFile({ scene: 'p2p', to: bob, type: 'image', file: { ...file, w: 640, h: 480 } });
      const audio = await phone.sendFile({ scene: 'p2p', to: bob, type: 'audio', file: { ...file, name: 'a.aac', ext: 'aac', dur: 3000 } });
      expect([tip.tip, custom.content, image.file?.w, audio.file?.dur]).toEqual(['welcome', '{"dice":4}', 640, 3000]);
      await waitFor('the peer and the other device get all five', () => atPeer.length === 5 && atDesk.length === 5);
      expect(atPeer.map((m) => [m.type, m.flow, m.sessionId])).toEqual([
        ['geo', 'in', `p2p-${me}`], ['tip', 'in', `p2p-${me}`], ['custom', 'in', `p2p-${me}`], ['image', 'in', `p2p-${me}`], ['audio', 'in', `p2p-${me}`],
      ]);
      expect(atDesk.map((m) => m.idServer)).toEqual([geo, tip, custom, image, audio].map((m) => m.idServer));
      expect((await history(peer, me, ['image', 'audio'])).map((m) => m.type)).toEqual(['audio', 'image']);
      expect((await history(peer, me)).find((m) => m.type === 'geo')?.geo).toEqual(geo.geo);
    });

    it('stores and returns every per-message option, and honours the history, sync, roaming and offline flags', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await conns.client(me, { deviceId: 'phone' });
      const desk = await conns.client(me, { deviceId: 'desk' });
      const atDesk = collect<Message>(desk, 'msg');
      const options = { custom: '{"k":1}', subType: 3, needMsgReceipt: true, isPushable: false, pushContent: 'push me', pushPayload: '{"p":2}', needPushNick: true, env: 'prod' };
      const full = await phone.sendText({ scene: 'p2p', to: bob, text: 'full', ...options });
      expect(full).toMatchObject({ ...options, isHistoryable: true, isRoamingable: true, isSyncable: true, isOfflinable: true, isUnreadable: true });
      const unhistoried = await phone.sendText({ scene: 'p2p', to: bob, text: 'no history', isHistoryable: false });
      const unsynced = await phone.sendText({ scene: 'p2p', to: bob, text: 'not to my other devices', isSyncable: false });
      const unroamed = await phone.sendText({ scene: 'p2p', to: bob, text: 'not at my logins', isRoamingable: false });
      const unoffline = await phone.sendText({ scene: 'p2p', to: bob, text: 'not kept for bob', isOfflinable: false });
      const marker = await phone.sendText({ scene: 'p2p', to: bob, text: 'last' });
      // Deliveries of one conversation come in seq order: once the last arrived, the unsynced one never will.
      await waitFor('the desk gets the last message', () => atDesk.some((m) => m.idServer === marker.idServer));
      expect(atDesk.map((m) => m.idServer)).toEqual([full, unhistoried, unroamed, unoffline, marker].map((m) => m.idServer));
      expect(atDesk[0]).toMatchObject(options);

      const ids = (ms: Message[]) => ms.map((m) => m.idServer);
      const everyOne = [full, unhistoried, unsynced, unroamed, unoffline, marker];
      expect(ids(await history(phone, bob))).toEqual(ids(everyOne.filter((m) => m !== unhistoried)).reverse());
      expect((await history(phone, bob)).find((m) => m.idServer === full.idServer)).toMatchObject(options);

      // Bob was offline: his login brings all but the one not kept for offline devices, with its options.
      const atBob: Message[] = [];
      const b = await conns.client(bob, { deviceId: 'b', on: { offlinemsgs: (o) => atBob.push(...o.msgs) } });
      await b.waitForSync(20_000);
      expect(ids(atBob)).toEqual(ids(everyOne.filter((m) => m !== unoffline)));
      expect(atBob[0]).toMatchObject({ ...options, flow: 'in' });
      expect(ids(await history(b, me))).toEqual(ids(everyOne.filter((m) => m !== unhistoried)).reverse());

      // A new device of mine: its login leaves out what was not to roam or to sync to my devices.
      const atLaptop: Message[] = [];
      const laptop = await conns.client(me, { deviceId: 'laptop', on: { offlinemsgs: (o) => atLaptop.push(...o.msgs) } });
      await laptop.waitForSync(20_000);
      expect(ids(atLaptop)).toEqual(ids(everyOne.filter((m) => m !== unsynced && m !== unroamed)));

      const err = await rejectionOf(phone.sendText({ scene: 'p2p', to: bob, text: 'x', subType: 0 }));
      expect(err).toMatchObject({ name: 'BAD_REQUEST' });
      expect(err.message).toMatch(/`subType` must be/);
    });

    it('is idempotent on idClient for every kind', async () => {
      const { bob, phone } = await pair();
      const first = await phone.sendCustomMsg({ scene: 'p2p', to: bob, content: 'x', idClient: 'same-1' });
      const again = await phone.sendCustomMsg({ scene: 'p2p', to: bob, content: 'x', idClient: 'same-1', resend: true });
      expect(again.idServer).toBe(first.idServer);
      expect(await history(phone, bob)).toHaveLength(1);
    });

    it('forwards a message into another conversation as a new message from the forwarder', async () => {
      const { me, bob, phone, peer } = await pair();
      const carol = account('carol');
      const atCarol = collect<Message>(await conns.client(carol, { deviceId: 'c' }), 'msg');
      const original = await peer.sendGeo({ scene: 'p2p', to: me, geo: { lng: 1, lat: 2, title: 'here' } });
      const fwd = await phone.forwardMsg({ scene: 'p2p', to: carol, msg: original });
      expect(fwd).toMatchObject({ type: 'geo', geo: { lng: 1, lat: 2, title: 'here' }, from: me, to: carol, seq: 1 });
      expect(fwd.idServer).not.toBe(original.idServer);
      await waitFor('carol gets the forwarded copy', () => atCarol.some((m) => m.idServer === fwd.idServer && m.from === me));
      expect(await history(phone, bob)).toHaveLength(1);
    });

    it('refuses wrong types, over-limit fields and incomplete descriptors, naming the argument', async () => {
      const { bob, phone } = await pair();
      const cases: [() => Promise<unknown>, string, RegExp][] = [
        [() => phone.sendGeo({ scene: 'p2p', to: bob, geo: { lng: 'east', lat: 0, title: 't' } as never }), 'BAD_REQUEST', /`geo.lng` must be a finite number/],
        [() => phone.sendGeo({ scene: 'p2p', to: bob, geo: { lng: 0, lat: 91, title: 't' } }), 'BAD_REQUEST', /`geo.lat` must be at most 90/],
        [() => phone.sendTipMsg({ scene: 'p2p', to: bob, tip: 't'.repeat(5001) }), 'TOO_LARGE', /`tip` must be at most 5000 characters/],
        [() => phone.sendCustomMsg({ scene: 'p2p', to: bob, content: 'c'.repeat(10_001) }), 'TOO_LARGE', /`content` must be at most 10000 characters/],
        [() => phone.sendFile({ scene: 'p2p', to: bob, type: 'image', file }), 'BAD_REQUEST', /`file.w` is required for a message of type 'image'/],
        [() => phone.sendFile({ scene: 'p2p', to: bob, type: 'file', file: { ...file, md5: 'g'.repeat(32) } }), 'BAD_REQUEST', /`file.md5` must be 32 hex digits/],
        [() => phone.sendFile({ scene: 'p2p', to: bob, type: 'file', file: { ...file, size: 104857601 } }), 'BAD_REQUEST', /`file.size` must be between 0 and 104857600/],
        [() => phone.sendFile({ scene: 'p2p', to: bob, type: 'sticker' as never, file }), 'BAD_REQUEST', /`type` must be one of/],
        [() => phone.forwardMsg({ scene: 'p2p', to: bob, msg: { type: 'text' } }), 'BAD_REQUEST', /`msg.text` is required to forward/],
        [() => phone.sendText({ scene: 'p2p', to: bob, text: 'x', env: 'e'.repeat(33) }), 'TOO_LARGE', /`env` must be at most 32 characters/],
      ];
      for (const [attempt, name, pattern] of cases) {
        const err = await rejectionOf(attempt());
        expect(err, String(pattern)).toMatchObject({ name });
        expect(err.message).toMatch(pattern);
      }
      expect(await history(phone, bob)).toEqual([]);
    });
  });

  describe('recall', () => {
    it('recalls within the window: the peer and the other device get a deleteMsg sysmsg, history and lookups drop it', async () => {
      const { me, bob, phone, desk, peer } = await pair();
      const keep = await phone.sendText({ scene: 'p2p', to: bob, text: 'keep' });
      const gone = await phone.sendText({ scene: 'p2p', to: bob, text: 'gone' });
      const atPeer = collect<SysMsg>(peer, 'sysmsg');
      const atDesk = collect<SysMsg>(desk, 'sysmsg');
      const atPhone = collect<SysMsg>(phone, 'sysmsg');
      const notice = await phone.recallMsg({ msg: gone, ps: 'typo', attach: '{"r":1}', apnsText: 'recalled', pushPayload: '{}', env: 'prod' });
      expect(notice).toMatchObject({ type: 'deleteMsg', from: me, to: bob, ps: 'typo', attach: '{"r":1}', apnsText: 'recalled', env: 'prod', msg: { idServer: gone.idServer, idClient: gone.idClient } });
      await waitFor('peer and other device are told', () => atPeer.length === 1 && atDesk.length === 1);
      expect(atPeer[0]).toEqual(notice);
      expect(atPhone).toEqual([]);
      for (const c of [phone, peer]) expect((await history(c, c === phone ? bob : me)).map((m) => m.idServer)).toEqual([keep.idServer]);
      const found = await peer.getMsgsByIdServer({ reqMsgs: [refOf(gone), refOf(keep)] });
      expect(found.msgs.map((m) => [m.idServer, m.flow])).toEqual([[keep.idServer, 'in']]);
      // Again under its legacy name: the same notice, nothing sent twice.
      expect(await phone.deleteMsg({ msg: refOf(gone) })).toEqual(notice);
    });

    it("puts the newest message left back as both sessions' lastMsg", async () => {
      const { me, bob, phone, peer } = await pair();
      const keep = await phone.sendText({ scene: 'p2p', to: bob, text: 'keep' });
      const gone = await phone.sendText({ scene: 'p2p', to: bob, text: 'gone' });
      const lastOf = async (c: typeof phone, other: string) => (await c.getServerSession({ scene: 'p2p', to: other })).session.lastMsg?.idServer;
      await waitFor('both sessions show the newest message', async () => (await lastOf(phone, bob)) === gone.idServer && (await lastOf(peer, me)) === gone.idServer);
      await phone.recallMsg({ msg: gone });
      await waitFor('both sessions show the message left', async () => (await lastOf(phone, bob)) === keep.idServer && (await lastOf(peer, me)) === keep.idServer);
    });

    it("leaves a recalled message and a peer's delete-for-self out of the login sync of a device that was offline", async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await conns.client(me, { deviceId: 'phone' });
      const kept = await phone.sendText({ scene: 'p2p', to: bob, text: 'kept' });
      const gone = await phone.sendText({ scene: 'p2p', to: bob, text: 'gone' });
      const hidden = await phone.sendText({ scene: 'p2p', to: bob, text: 'hidden by me only' });
      await phone.recallMsg({ msg: gone });
      await phone.deleteMsgSelf({ msg: hidden });
      const seen: Message[] = [];
      const b = await conns.client(bob, { deviceId: 'b', on: { offlinemsgs: (o) => seen.push(...o.msgs) } });
      await b.waitForSync(20_000);
      expect(seen.map((m) => m.idServer)).toEqual([kept.idServer, hidden.idServer]);
    });

    it("refuses someone else's message, an unknown one, and one past the window", async () => {
      const { me, bob, phone, peer } = await pair();
      const theirs = await peer.sendText({ scene: 'p2p', to: me, text: 'theirs' });
      const mine = await phone.sendText({ scene: 'p2p', to: bob, text: 'mine' });
      expect(await rejectionOf(phone.recallMsg({ msg: theirs }))).toMatchObject({ name: 'FORBIDDEN' });
      expect(await rejectionOf(phone.recallMsg({ msg: { ...refOf(mine), idServer: 'no-such-id' } }))).toMatchObject({ name: 'NOT_FOUND' });
      expect(await rejectionOf(phone.recallMsg({ msg: { ...refOf(mine), time: mine.time + 1 } }))).toMatchObject({ name: 'NOT_FOUND' });
      expect(await rejectionOf(phone.recallMsg({ msg: { ...refOf(mine), idServer: 5 as never } }))).toMatchObject({ name: 'BAD_REQUEST' });
      expect(await rejectionOf(phone.recallMsg({ msg: refOf(mine), ps: 'p'.repeat(501) }))).toMatchObject({ name: 'TOO_LARGE' });
      conversationSettings.recallWindowMs = 50;
      await waitFor('the recall window passed', () => Date.now() > mine.time + 60);
      const err = await rejectionOf(phone.recallMsg({ msg: mine }));
      expect(err).toMatchObject({ name: 'EXPIRED' });
      expect(err.message).toMatch(/recall window of 50 ms/);
      expect((await history(peer, me)).map((m) => m.idServer)).toEqual([mine.idServer, theirs.idServer]);
    });
  });

  describe('delete for self', () => {
    it("hides messages from the caller's history only, and tells the caller's other devices", async () => {
      const { me, bob, phone, desk, peer } = await pair();
      const m1 = await peer.sendText({ scene: 'p2p', to: me, text: 'one' });
      const m2 = await phone.sendText({ scene: 'p2p', to: bob, text: 'two' });
      const m3 = await peer.sendTipMsg({ scene: 'p2p', to: me, tip: 'three' });
      const atDesk = collect<DeletedMsgSelf[]>(desk, 'DeleteMsgSelf');
      const atPhone = collect<DeletedMsgSelf[]>(phone, 'DeleteMsgSelf');
      const atPeer = collect<DeletedMsgSelf[]>(peer, 'DeleteMsgSelf');
      const one = await phone.deleteMsgSelf({ msg: m1, custom: 'x' });
      expect(one).toEqual([expect.objectContaining({ idServer: m1.idServer, sessionId: `p2p-${bob}`, custom: 'x' })]);
      const batch = await phone.deleteMsgSelfBatch({ msgs: [refOf(m2), refOf(m3)] });
      expect(batch.map((d) => d.idServer)).toEqual([m2.idServer, m3.idServer]);
      await waitFor('the other device hears of both deletes', () => atDesk.length === 2);
      expect(atDesk.flat().map((d) => d.idServer)).toEqual([m1.idServer, m2.idServer, m3.idServer]);
      expect(await history(phone, bob)).toEqual([]);
      expect((await phone.getMsgsByIdServer({ reqMsgs: [refOf(m1)] })).msgs).toEqual([]);
      expect((await history(peer, me)).map((m) => m.idServer)).toEqual([m3, m2, m1].map((m) => m.idServer));
      expect(atPhone).toEqual([]);
      expect(atPeer).toEqual([]);
    });

    it('refuses, as not found, a message of a conversation the caller is not in, telling nothing of it', async () => {
      const { me, bob, phone, peer } = await pair();
      const secret = await phone.sendText({ scene: 'p2p', to: bob, text: 'between us' });
      const mallory = account('mallory');
      const outsider = await conns.client(mallory, { deviceId: 'm' });
      for (const attempt of [
        () => outsider.recallMsg({ msg: refOf(secret) }),
        () => outsider.deleteMsg({ msg: refOf(secret) }),
        () => outsider.deleteMsgSelf({ msg: refOf(secret) }),
        () => outsider.deleteMsgSelfBatch({ msgs: [refOf(secret)] }),
        () => outsider.sendText({ scene: 'p2p', to: bob, text: 'x', replyMsg: refOf(secret) }),
      ]) {
        const err = await rejectionOf(attempt());
        expect(['FORBIDDEN', 'NOT_FOUND']).toContain(err.name);
        expect(err.message).not.toContain('between us');
      }
      expect(await outsider.getMsgsByIdServer({ reqMsgs: [refOf(secret)] })).toEqual({ msgs: [] });
      // Nothing changed for the two: the message is still theirs, not recalled nor hidden.
      expect((await history(peer, me)).map((m) => m.idServer)).toEqual([secret.idServer]);
      expect((await history(phone, bob)).map((m) => m.idServer)).toEqual([secret.idServer]);
      expect((await outsider.getHistoryMsgs({ scene: 'p2p', to: bob })).msgs.map((m) => m.idServer)).toEqual([]);
    });

    it('refuses wrong types in a delete for self, naming the argument', async () => {
      const { bob, phone } = await pair();
      const m = await phone.sendText({ scene: 'p2p', to: bob, text: 'x' });
      const cases: [() => Promise<unknown>, RegExp][] = [
        [() => phone.deleteMsgSelf({ msg: 'm' as never }), /`msg` must be a map/],
        [() => phone.deleteMsgSelf({ msg: { ...refOf(m), time: 'then' as never } }), /`msg.time` must be an integer/],
        [() => phone.deleteMsgSelf({ msg: refOf(m), custom: 5 as never }), /`custom` must be a string/],
        [() => phone.deleteMsgSelfBatch({ msgs: refOf(m) as never }), /`msgs` must be a list/],
        [() => phone.deleteMsgSelfBatch({ msgs: [] }), /`msgs` must have at least 1/],
      ];
      for (const [attempt, pattern] of cases) {
        const err = await rejectionOf(attempt());
        expect(err, String(pattern)).toMatchObject({ name: 'BAD_REQUEST' });
        expect(err.message).toMatch(pattern);
      }
      expect(await history(phone, bob)).toHaveLength(1);
    });

    it('refuses a message that does not exist, and a batch that is too long', async () => {
      const { bob, phone } = await pair();
      const m = await phone.sendText({ scene: 'p2p', to: bob, text: 'x' });
      expect(await rejectionOf(phone.deleteMsgSelf({ msg: { ...refOf(m), idServer: 'nothing' } }))).toMatchObject({ name: 'NOT_FOUND' });
      const err = await rejectionOf(phone.deleteMsgSelfBatch({ msgs: Array.from({ length: 101 }, () => refOf(m)) }));
      expect(err).toMatchObject({ name: 'BAD_REQUEST' });
      expect(err.message).toMatch(/`msgs` must have at most 100 items/);
      expect(await history(phone, bob)).toHaveLength(1);
    });
  });
});
