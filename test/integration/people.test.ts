/**
 * People over the wire with the SDK, in both modes: profiles, the blocklist
 * and mutelist (and their enforcement on every kind of p2p send), and
 * friends with their requests and notifications; each change seen on the
 * account's other devices, and by a device that was offline at its next
 * login. With the refusals and repeats: over-limit fields, 151 accounts,
 * a stranger removed from the blocklist, an existing friend added, a
 * request sent or answered twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Cursors } from '../../client/options.ts';
import { friendSettings } from '../../actors/user/friends.ts';
import type { Friend, FriendAction, Message, RelationChange, RelationRecord, SysMsg, UserProfile } from '../../engine/protocol/methods.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { useConnections } from '../helpers/connections.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';

const FILE = { url: 'https://files.example/a.jpg', name: 'a.jpg', size: 1000, md5: '0123456789abcdef0123456789abcdef', ext: 'jpg', w: 10, h: 10 };

describeBothModes('people', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  function client(acct: string, deviceId: string, options: { on?: Record<string, (d: never) => void>; cursors?: Cursors } = {}): Promise<ParleyClient> {
    return conns.client(acct, { deviceId, ...options });
  }

  /** Every payload of `ev` a client hears from now on. */
  function heard<T>(c: ParleyClient, ev: string): T[] {
    const seen: T[] = [];
    c.on(ev as never, ((d: T) => seen.push(d)) as never);
    return seen;
  }

  /** A device logging in, with what its login sync sent for `events`, once `syncdone` arrived. */
  async function login(acct: string, deviceId: string, events: string[], cursors?: Cursors): Promise<{ c: ParleyClient; got: Record<string, unknown[]> }> {
    const got: Record<string, unknown[]> = {};
    let done = false;
    const on: Record<string, (d: never) => void> = { syncdone: () => (done = true) };
    for (const ev of events) {
      got[ev] = [];
      on[ev] = (d: never) => got[ev]!.push(d);
    }
    const c = await client(acct, deviceId, cursors === undefined ? { on } : { on, cursors });
    await waitFor(`${deviceId}'s login sync`, () => done);
    return { c, got };
  }

  async function refusal(p: Promise<unknown>, name: string, pattern: RegExp): Promise<void> {
    const err = await rejectionOf(p);
    expect(err).toMatchObject({ name });
    expect(err.message).toMatch(pattern);
  }

  describe('profiles', () => {
    it('an account never seen has an empty profile; updateMyInfo sets fields, syncs the other devices, and repeats change nothing', async () => {
      const [me, other] = [account('me'), account('other')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const o = await client(other, 'o');
      expect(await o.getUser(account('never'))).toMatchObject({ createTime: 0, updateTime: 0 });
      expect(await o.getUser(me)).toEqual({ account: me, createTime: 0, updateTime: 0 });
      const onDesk = heard<UserProfile>(desk, 'updatemyinfo');
      const onPhone = heard<UserProfile>(phone, 'updatemyinfo');
      const fields = { nick: 'Me', avatar: 'https://a.example/me.png', sign: 'hi', gender: 'female', email: 'me@example.com', birth: '1990-02-03', tel: '+1 555-0100', custom: '{"k":1}' } as const;
      const mine = await phone.updateMyInfo({ ...fields, antispamBusinessId: 'biz' });
      expect(mine).toMatchObject({ account: me, ...fields });
      expect(mine.updateTime).toBeGreaterThan(0);
      expect(mine).not.toHaveProperty('antispamBusinessId');
      await waitFor('the desk to hear of the profile', () => onDesk.length === 1);
      expect(onDesk[0]).toEqual(mine);
      const seen = await o.getUser(me);
      expect(seen).toEqual(mine);
      // A repeat is no change: same update time, nobody told.
      expect((await phone.updateMyInfo({ nick: 'Me' })).updateTime).toBe(mine.updateTime);
      // An empty string clears a field.
      const cleared = await desk.updateMyInfo({ sign: '' });
      expect(cleared).not.toHaveProperty('sign');
      expect(cleared.updateTime).toBeGreaterThan(mine.updateTime);
      await waitFor('the phone to hear of the change', () => onPhone.length === 1);
      expect(onDesk).toHaveLength(1);
    });

    it('refuses fields over their limits or of the wrong form, naming them', async () => {
      const c = await client(account('me'), 'phone');
      await refusal(c.updateMyInfo({ nick: 'n'.repeat(65) }), 'TOO_LARGE', /`nick` must be at most 64/);
      await refusal(c.updateMyInfo({ avatar: 'a'.repeat(1025) }), 'TOO_LARGE', /`avatar` must be at most 1024/);
      await refusal(c.updateMyInfo({ sign: 's'.repeat(257) }), 'TOO_LARGE', /`sign` must be at most 256/);
      await refusal(c.updateMyInfo({ custom: 'c'.repeat(4097) }), 'TOO_LARGE', /`custom` must be at most 4096/);
      await refusal(c.updateMyInfo({ gender: 'robot' as never }), 'BAD_REQUEST', /`gender`/);
      await refusal(c.updateMyInfo({ email: 'not-an-address' }), 'BAD_REQUEST', /`email` must be an email address/);
      await refusal(c.updateMyInfo({ birth: '1990/02/03' }), 'BAD_REQUEST', /`birth` must be a date as YYYY-MM-DD/);
      await refusal(c.updateMyInfo({ tel: 'call me' }), 'BAD_REQUEST', /`tel` must be a phone number/);
      await refusal(c.updateMyInfo({ nick: 5 as never }), 'BAD_REQUEST', /`nick` must be a string/);
    });

    it('getUsers answers up to 150 profiles in the order named, and refuses 151', async () => {
      const named = account('named');
      const n = await client(named, 'n');
      await n.updateMyInfo({ nick: 'Named' });
      const c = await client(account('me'), 'phone');
      const accounts = [named, ...Array.from({ length: 149 }, (_, i) => `${named}-${i}`)];
      const users = await c.getUsers(accounts);
      expect(users.map((u) => u.account)).toEqual(accounts);
      expect((await c.getUsers([named, named])).map((u) => u.account)).toEqual([named]);
      expect(users[0]).toMatchObject({ account: named, nick: 'Named' });
      expect(users[1]).toMatchObject({ updateTime: 0 });
      await refusal(c.getUsers([...accounts, 'one-more']), 'BAD_REQUEST', /`accounts` must have at most 150/);
    });

    it('a device logging in gets its profile as myinfo, with changes made while it was away', async () => {
      const me = account('me');
      const phone = await client(me, 'phone');
      await phone.updateMyInfo({ nick: 'Away' });
      const { got } = await login(me, 'desk', ['myinfo']);
      expect(got.myinfo).toEqual([expect.objectContaining({ account: me, nick: 'Away' })]);
    });
  });

  describe('blocklist and mutelist', () => {
    it('add and remove answer {isAdd, record}; repeats and strangers are no change; other devices and later logins learn', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const onDesk = heard<RelationChange & { account: string }>(desk, 'syncmarkinblacklist');
      const onPhone = heard(phone, 'syncmarkinblacklist');
      const added = await phone.addToBlacklist(bob);
      expect(added).toEqual({ isAdd: true, record: { account: bob, updateTime: expect.any(Number) } });
      expect(added.record.updateTime).toBeGreaterThan(0);
      await waitFor('the desk to hear of the block', () => onDesk.length === 1);
      expect(onDesk[0]).toEqual({ account: bob, isAdd: true, record: added.record });
      expect(await phone.addToBlacklist(bob)).toEqual(added);
      expect(await desk.isUserInBlackList(bob)).toBe(true);
      expect(await desk.isUserInBlackList(account('carol'))).toBe(false);
      expect(await desk.getRelations()).toEqual({ blacklist: [added.record], mutelist: [] });
      const { got } = await login(me, 'tablet', ['blacklist', 'mutelist']);
      expect(got.blacklist).toEqual([[added.record]]);
      expect(got.mutelist).toEqual([[]]);

      const stranger = account('stranger');
      expect(await phone.removeFromBlacklist(stranger)).toEqual({ isAdd: false, record: { account: stranger, updateTime: 0 } });
      const removed = await desk.removeFromBlacklist(bob);
      expect(removed).toMatchObject({ isAdd: false, record: { account: bob } });
      await waitFor('the phone to hear of the unblock', () => onPhone.length === 1);
      expect(await phone.isUserInBlackList(bob)).toBe(false);
      expect((await phone.getRelations()).blacklist).toEqual([]);
      // Only real changes were told: one block, one unblock.
      expect(onDesk).toHaveLength(1);
      await refusal(phone.addToBlacklist(me), 'BAD_REQUEST', /`account` must be another account/);
    });

    it("refuses a blocked sender's p2p messages of every kind, friend requests included, and stores none of them", async () => {
      const [me, bob] = [account('me'), account('bob')];
      const m = await client(me, 'phone');
      const b = await client(bob, 'b');
      const delivered = heard<Message>(m, 'msg');
      const original = await b.sendText({ scene: 'p2p', to: me, text: 'before' });
      // The sender's answer can come before the recipient's copy: what arrives after the block is counted apart from it.
      await waitFor('the message before the block', () => delivered.some((x) => x.idServer === original.idServer));
      await m.addToBlacklist(bob);
      const p2p = { scene: 'p2p', to: me } as const;
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['sendText', () => b.sendText({ ...p2p, text: 'hi' })],
        ['sendGeo', () => b.sendGeo({ ...p2p, geo: { lng: 1, lat: 2, title: 'here' } })],
        ['sendTipMsg', () => b.sendTipMsg({ ...p2p, tip: 'tip' })],
        ['sendCustomMsg', () => b.sendCustomMsg({ ...p2p, content: '{"a":1}' })],
        ['sendFile', () => b.sendFile({ ...p2p, type: 'image', file: FILE })],
        ['forwardMsg', () => b.forwardMsg({ ...p2p, msg: original })],
        ['addFriend', () => b.addFriend({ account: me })],
        ['applyFriend', () => b.applyFriend({ account: me })],
        ['sendCustomSysMsg', () => b.sendCustomSysMsg({ ...p2p, content: 'ping' })],
        ['sendCustomSysMsg kept', () => b.sendCustomSysMsg({ ...p2p, content: 'ping', sendToOnlineUsersOnly: false })],
      ];
      for (const [what, attempt] of attempts) {
        const err = await rejectionOf(attempt());
        expect(err, what).toMatchObject({ name: 'BLOCKED', code: 7101 });
      }
      // Nothing was stored: history, sessions and friends are as before.
      const { msgs } = await m.getHistoryMsgs({ scene: 'p2p', to: bob, limit: 100 });
      expect(msgs.map((x) => x.idServer)).toEqual([original.idServer]);
      expect((await m.getServerSession({ scene: 'p2p', to: bob })).session.lastMsg?.idServer).toBe(original.idServer);
      expect(await m.isMyFriend(bob)).toBe(false);
      // The blocker may still write; the block ends with removeFromBlacklist.
      await m.sendText({ scene: 'p2p', to: bob, text: 'from the blocker' });
      await m.removeFromBlacklist(bob);
      const after = await b.sendText({ ...p2p, text: 'after' });
      await waitFor('the message after the unblock', () => delivered.some((x) => x.idServer === after.idServer));
      expect(delivered.filter((x) => x.from === bob).map((x) => x.idServer)).toEqual([original.idServer, after.idServer]);
      expect(after.seq).toBe(3);
    });

    it("delivers a muted sender's messages, counted as unread and marked isMuted for the recipient only", async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const b = await client(bob, 'b');
      const onDesk = heard<RelationChange & { account: string }>(desk, 'syncmarkinmutelist');
      const delivered = heard<Message>(desk, 'msg');
      const muted = await phone.addToMutelist(bob);
      expect(muted).toEqual({ isAdd: true, record: { account: bob, updateTime: expect.any(Number) } });
      expect(await phone.addToMutelist(bob)).toEqual(muted);
      await waitFor('the desk to hear of the mute', () => onDesk.length === 1);
      expect(onDesk[0]).toEqual({ account: bob, ...muted });
      const sent = await b.sendText({ scene: 'p2p', to: me, text: 'quiet' });
      expect(sent).not.toHaveProperty('isMuted');
      await waitFor('the muted message to arrive', () => delivered.some((x) => x.idServer === sent.idServer));
      expect(delivered.find((x) => x.idServer === sent.idServer)).toMatchObject({ text: 'quiet', isMuted: true });
      await waitFor('the unread count', async () => (await phone.getServerSession({ scene: 'p2p', to: bob })).session.unread === 1);
      const [stored] = (await phone.getHistoryMsgs({ scene: 'p2p', to: bob, limit: 1 })).msgs;
      expect(stored).toMatchObject({ idServer: sent.idServer, isMuted: true });
      const [theirs] = (await b.getHistoryMsgs({ scene: 'p2p', to: me, limit: 1 })).msgs;
      expect(theirs).not.toHaveProperty('isMuted');
      expect((await phone.getRelations()).mutelist).toEqual([muted.record]);
      const { got } = await login(me, 'tablet', ['mutelist']);
      expect(got.mutelist).toEqual([[muted.record]]);

      expect(await desk.removeFromMutelist(bob)).toMatchObject({ isAdd: false });
      await waitFor('the phone to learn the un-mute', async () => (await phone.getRelations()).mutelist.length === 0);
      const loud = await b.sendText({ scene: 'p2p', to: me, text: 'loud' });
      await waitFor('the message after the un-mute', () => delivered.some((x) => x.idServer === loud.idServer));
      expect(delivered.find((x) => x.idServer === loud.idServer)).not.toHaveProperty('isMuted');
    });
  });

  describe('friends', () => {
    afterEach(() => {
      friendSettings.maxFriends = 10_000;
    });

    it('addFriend befriends at once, notifies the target with the ps, syncs the other devices, and refuses a repeat', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const b = await client(bob, 'b');
      const sys = heard<SysMsg>(b, 'sysmsg');
      const actions = heard<FriendAction>(desk, 'syncfriendaction');
      const onPhone = heard(phone, 'syncfriendaction');
      const r = await phone.addFriend({ account: bob, ps: '{"hello":1}' });
      expect(r).toMatchObject({ account: bob, ps: '{"hello":1}', friend: { account: bob, valid: true } });
      await waitFor('the target to be told', () => sys.length === 1);
      expect(sys[0]).toMatchObject({ type: 'addFriend', from: me, to: bob, ps: '{"hello":1}', idServer: expect.any(String) });
      await waitFor('the desk to hear of the friend', () => actions.length === 1);
      expect(actions[0]).toMatchObject({ type: 'addFriend', account: bob, ps: '{"hello":1}', friend: r.friend });
      expect(await phone.isMyFriend(bob)).toBe(true);
      await waitFor('the target to count the friendship', async () => b.isMyFriend(me));
      expect((await b.getFriends()).map((f) => f.account)).toEqual([me]);
      await refusal(phone.addFriend({ account: bob }), 'CONFLICT', /is a friend already/);
      await refusal(phone.addFriend({ account: me }), 'BAD_REQUEST', /`account` must be another account/);
      expect(onPhone).toHaveLength(0);
      expect(sys).toHaveLength(1);
    });

    it('applyFriend changes nothing until passed; a second request and a second answer are refused', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const b = await client(bob, 'b');
      const b2 = await client(bob, 'b2');
      const toBob = heard<SysMsg>(b, 'sysmsg');
      const toMe = heard<SysMsg>(phone, 'sysmsg');
      const deskActions = heard<FriendAction>(desk, 'syncfriendaction');
      const bobActions = heard<FriendAction>(b2, 'syncfriendaction');
      const req = await phone.applyFriend({ account: bob, ps: 'please' });
      expect(req).toMatchObject({ account: bob, ps: 'please', idServer: expect.any(String) });
      await waitFor('the request to arrive', () => toBob.length === 1);
      expect(toBob[0]).toMatchObject({ type: 'applyFriend', from: me, to: bob, ps: 'please', idServer: req.idServer });
      await waitFor('the desk to hear of the request', () => deskActions.length === 1);
      expect(deskActions[0]).toMatchObject({ type: 'applyFriend', account: bob, idServer: req.idServer });
      expect(await phone.isMyFriend(bob)).toBe(false);
      expect(await b.isMyFriend(me)).toBe(false);
      await refusal(phone.applyFriend({ account: bob }), 'CONFLICT', /pending already/);
      await refusal(b.passFriendApply({ idServer: 'no-such-request', account: me }), 'NOT_FOUND', /no friend request/);
      await refusal(b.passFriendApply({ idServer: req.idServer, account: account('other') }), 'NOT_FOUND', /no friend request/);

      const passed = await b.passFriendApply({ idServer: req.idServer, account: me, ps: 'welcome' });
      expect(passed).toMatchObject({ account: me, friend: { account: me, valid: true } });
      await waitFor('the requester to be told', () => toMe.length === 1);
      expect(toMe[0]).toMatchObject({ type: 'passFriendApply', from: bob, to: me, ps: 'welcome', idServer: req.idServer });
      await waitFor("the acceptor's other device to hear", () => bobActions.length === 1);
      expect(bobActions[0]).toMatchObject({ type: 'passFriendApply', account: me, idServer: req.idServer });
      await waitFor('both to be friends', async () => (await phone.isMyFriend(bob)) && (await b.isMyFriend(me)));
      await refusal(b.passFriendApply({ idServer: req.idServer, account: me }), 'CONFLICT', /was passed already/);
      await refusal(b2.rejectFriendApply({ idServer: req.idServer, account: me }), 'CONFLICT', /was passed already/);
      await refusal(phone.applyFriend({ account: bob }), 'CONFLICT', /is a friend already/);
      expect(toMe).toHaveLength(1);
    });

    it('rejectFriendApply leaves no friendship, tells the requester, and is answerable once', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const b = await client(bob, 'b');
      const b2 = await client(bob, 'b2');
      const toBob = heard<SysMsg>(b, 'sysmsg');
      const toMe = heard<SysMsg>(phone, 'sysmsg');
      const bobActions = heard<FriendAction>(b2, 'syncfriendaction');
      const req = await phone.applyFriend({ account: bob });
      await waitFor('the request to arrive', () => toBob.length === 1);
      expect(await b.rejectFriendApply({ idServer: req.idServer, account: me, ps: 'no' })).toEqual({ account: me });
      await waitFor('the requester to be told', () => toMe.length === 1);
      expect(toMe[0]).toMatchObject({ type: 'rejectFriendApply', from: bob, to: me, ps: 'no', idServer: req.idServer });
      await waitFor("the other device to hear", () => bobActions.length === 1);
      expect(bobActions[0]).toMatchObject({ type: 'rejectFriendApply', account: me });
      await refusal(b.rejectFriendApply({ idServer: req.idServer, account: me }), 'CONFLICT', /was rejected already/);
      await refusal(b.passFriendApply({ idServer: req.idServer, account: me }), 'CONFLICT', /was rejected already/);
      expect(await phone.isMyFriend(bob)).toBe(false);
      expect(await b.isMyFriend(me)).toBe(false);
      // Once answered, the requester may ask again.
      const again = await phone.applyFriend({ account: bob });
      expect(again.idServer).not.toBe(req.idServer);
    });

    it('updateFriend sets alias and custom; deleteFriend ends it on both sides, keeping the alias unless delAlias', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const b = await client(bob, 'b');
      const toBob = heard<SysMsg>(b, 'sysmsg');
      const actions = heard<FriendAction>(desk, 'syncfriendaction');
      await refusal(phone.updateFriend({ account: bob, alias: 'B' }), 'NOT_FOUND', /is not a friend/);
      await refusal(phone.deleteFriend({ account: bob }), 'NOT_FOUND', /is not a friend/);
      await phone.addFriend({ account: bob });
      const updated = await phone.updateFriend({ account: bob, alias: 'Bobby', custom: '{"tag":"x"}' });
      expect(updated).toMatchObject({ account: bob, alias: 'Bobby', custom: '{"tag":"x"}', valid: true });
      await waitFor('the desk to hear of the update', () => actions.some((a) => a.type === 'updateFriend'));
      expect(actions.find((a) => a.type === 'updateFriend')).toMatchObject({ account: bob, friend: updated });
      await refusal(phone.updateFriend({ account: bob, alias: 'a'.repeat(65) }), 'TOO_LARGE', /`alias` must be at most 64/);

      await waitFor('the friendship on both sides', async () => b.isMyFriend(me));
      expect(await phone.deleteFriend({ account: bob })).toEqual({ account: bob });
      await waitFor('the removed account to be told', () => toBob.some((m) => m.type === 'deleteFriend'));
      expect(toBob.find((m) => m.type === 'deleteFriend')).toMatchObject({ from: me, to: bob });
      await waitFor('the desk to hear of the deletion', () => actions.some((a) => a.type === 'deleteFriend'));
      await waitFor('the friendship to end on both sides', async () => !(await b.isMyFriend(me)));
      expect(await phone.isMyFriend(bob)).toBe(false);
      expect(await phone.getFriends()).toEqual([]);
      const [ended] = await phone.getFriends({ timetag: updated.updateTime });
      expect(ended).toMatchObject({ account: bob, valid: false, alias: 'Bobby' });
      await refusal(phone.deleteFriend({ account: bob }), 'NOT_FOUND', /is not a friend/);

      const readded = await phone.addFriend({ account: bob });
      expect(readded.friend).toMatchObject({ alias: 'Bobby', valid: true });
      await phone.deleteFriend({ account: bob, delAlias: true });
      const [dropped] = await phone.getFriends({ timetag: readded.friend.updateTime });
      expect(dropped).toMatchObject({ account: bob, valid: false });
      expect(dropped).not.toHaveProperty('alias');
      expect((await phone.addFriend({ account: bob })).friend).not.toHaveProperty('alias');
    });

    it('getFriends pages by timetag, ascending by update time', async () => {
      const me = account('me');
      const phone = await client(me, 'phone');
      const friends = Array.from({ length: 6 }, (_, i) => account(`f${i}`));
      // Added together: update times stay distinct, so a page boundary never splits a tie.
      await Promise.all(friends.map((f) => phone.addFriend({ account: f })));
      const all = await phone.getFriends({ timetag: 0 });
      expect(all.map((f) => f.account).sort()).toEqual([...friends].sort());
      const times = all.map((f) => f.updateTime);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(new Set(times).size).toBe(6);
      const rest = await phone.getFriends({ timetag: all[2]!.updateTime });
      expect(rest).toEqual(all.slice(3));
      expect(await phone.getFriends({ timetag: all[5]!.updateTime })).toEqual([]);
      await refusal(phone.getFriends({ timetag: -1 }), 'BAD_REQUEST', /`timetag`/);
    });

    it('refuses a friend past the limit with CONFLICT, on addFriend, applyFriend and passFriendApply', async () => {
      friendSettings.maxFriends = 2;
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const b = await client(bob, 'b');
      const toMe = heard<SysMsg>(phone, 'sysmsg');
      await phone.addFriend({ account: account('f') });
      const asked = await b.applyFriend({ account: me });
      await waitFor('the request to arrive', () => toMe.some((m) => m.idServer === asked.idServer));
      await phone.addFriend({ account: account('g') });
      await refusal(phone.addFriend({ account: account('h') }), 'CONFLICT', /has 2 friends already/);
      await refusal(phone.applyFriend({ account: account('h') }), 'CONFLICT', /has 2 friends already/);
      await refusal(phone.passFriendApply({ idServer: asked.idServer, account: bob }), 'CONFLICT', /has 2 friends already/);
      expect((await phone.getFriends()).length).toBe(2);
      // Below the limit again, the request can still be accepted.
      friendSettings.maxFriends = 3;
      expect((await phone.passFriendApply({ idServer: asked.idServer, account: bob })).friend).toMatchObject({ account: bob, valid: true });
    });

    it('a device logging in gets the friends changed since its cursor; a fresh one gets every current friend', async () => {
      const me = account('me');
      const [x, y, z] = [account('x'), account('y'), account('z')];
      const first = await login(me, 'phone', ['friends']);
      expect(first.got.friends).toEqual([[]]);
      const desk = await client(me, 'desk');
      const heardOnPhone = heard<FriendAction>(first.c, 'syncfriendaction');
      await desk.addFriend({ account: x });
      await desk.addFriend({ account: y });
      await waitFor('the phone to hear of both', () => heardOnPhone.length === 2);
      const cursors = first.c.cursors;
      expect(cursors.friends).toBe(heardOnPhone[1]!.friend!.updateTime);
      await first.c.disconnect();
      // While the phone is away: one more friend, one fewer.
      await desk.addFriend({ account: z });
      await desk.deleteFriend({ account: x });
      const back = await login(me, 'phone', ['friends'], cursors);
      const sent = back.got.friends!.flat() as Friend[];
      expect(sent.map((f) => [f.account, f.valid])).toEqual([
        [z, true],
        [x, false],
      ]);
      const fresh = await login(me, 'tablet', ['friends']);
      expect((fresh.got.friends!.flat() as Friend[]).map((f) => f.account)).toEqual([y, z]);
    });

    it("another account's friend action reaches a device that was offline, at its next login", async () => {
      const [me, bob] = [account('me'), account('bob')];
      const first = await login(me, 'phone', ['friends']);
      const cursors = first.c.cursors;
      await first.c.disconnect();
      const b = await client(bob, 'b');
      await b.addFriend({ account: me });
      const desk = await client(me, 'desk');
      await waitFor('the friendship to reach the account', () => desk.isMyFriend(bob));
      await desk.disconnect();
      const { got } = await login(me, 'phone', ['friends'], cursors);
      expect((got.friends!.flat() as Friend[]).map((f) => [f.account, f.valid])).toEqual([[bob, true]]);
    });
  });

  it('the blocklist holds against records of earlier relations: block, unblock and block again', async () => {
    const [me, bob] = [account('me'), account('bob')];
    const m = await client(me, 'phone');
    const b = await client(bob, 'b');
    await m.addToBlacklist(bob);
    await m.removeFromBlacklist(bob);
    await m.addToBlacklist(bob);
    await refusal(b.sendText({ scene: 'p2p', to: me, text: 'x' }), 'BLOCKED', /has blocked the sender/);
    const r = (await m.getRelations()).blacklist as RelationRecord[];
    expect(r.map((x) => x.account)).toEqual([bob]);
  });
});
