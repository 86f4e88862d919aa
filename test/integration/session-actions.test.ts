/**
 * What an account does to its server sessions, over the wire with the SDK in
 * both modes, seen on two devices of the account: `ext` (also as
 * `SyncUpdateServerSession` to the other devices), unread for all
 * sessions, deletion, pins, `isUnreadable: false` messages, and p2p read
 * receipts reaching the sender live and at login; with the failure cases
 * (unknown session, over-limit fields, wrong types).
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Message, Session } from '../../engine/protocol/methods.ts';
import { waitFor, rejectionOf } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';

let accountSeq = 0;
function account(name: string): string {
  return `${name}${++accountSeq}x${Date.now().toString(36)}`;
}

describeBothModes('session actions', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  function client(acct: string, deviceId: string, on?: Record<string, (d: never) => void>): Promise<ParleyClient> {
    return conns.client(acct, on === undefined ? { deviceId } : { deviceId, on });
  }

  /** Every `updatesessions` a client hears, in order. */
  function updates(c: ParleyClient): Session[] {
    const seen: Session[] = [];
    c.on('updatesessions', (list) => seen.push(...list));
    return seen;
  }

  async function sessionOf(c: ParleyClient, peer: string): Promise<Session | undefined> {
    const { sessionList } = await c.getServerSessions();
    return sessionList.find((s) => s.id === `p2p-${peer}`);
  }

  /** `n` messages from `from` to `to`, once `to`'s session counts them. */
  async function sendAndCount(from: ParleyClient, fromAccount: string, to: ParleyClient, toAccount: string, n: number): Promise<Message> {
    let last: Message | undefined;
    for (let i = 0; i < n; i++) last = await from.sendText({ scene: 'p2p', to: toAccount, text: `t${i}` });
    await waitFor(`the session to reach seq ${last!.seq}`, async () => (await sessionOf(to, fromAccount))?.lastMsg?.seq === last!.seq);
    return last!;
  }

  async function refusal(p: Promise<unknown>, name: string, pattern: RegExp): Promise<void> {
    const err = await rejectionOf(p);
    expect(err).toMatchObject({ name });
    expect(err.message).toMatch(pattern);
  }

  describe('updateServerSession', () => {
    it("sets ext on every device of the owner, not on the peer's session", async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const b = await client(bob, 'b');
      await sendAndCount(b, bob, phone, me, 1);
      const onDesk = updates(desk);
      const synced: Session[] = [];
      const syncedAtPhone: Session[] = [];
      desk.on('SyncUpdateServerSession', (d) => synced.push(d));
      phone.on('SyncUpdateServerSession', (d) => syncedAtPhone.push(d));
      const { session } = await phone.updateServerSession({ scene: 'p2p', to: bob, ext: '{"draft":"hi"}' });
      expect(session).toMatchObject({ id: `p2p-${bob}`, ext: '{"draft":"hi"}' });
      await waitFor('the desk to hear of the ext', () => onDesk.some((s) => s.id === `p2p-${bob}` && s.ext === '{"draft":"hi"}'));
      // Also by name, to the other devices only.
      await waitFor('the desk to hear SyncUpdateServerSession', () => synced.length === 1);
      expect(synced[0]).toMatchObject({ id: `p2p-${bob}`, ext: '{"draft":"hi"}' });
      expect(syncedAtPhone).toEqual([]);
      expect((await desk.getServerSession({ scene: 'p2p', to: bob })).session.ext).toBe('{"draft":"hi"}');
      expect((await sessionOf(b, me))?.ext).toBeUndefined();
    });

    it('refuses an unknown session, an ext over the limit, and a wrong type', async () => {
      const phone = await client(account('me'), 'phone');
      await refusal(phone.updateServerSession({ scene: 'p2p', to: 'nobody', ext: 'x' }), 'NOT_FOUND', /no session `p2p-nobody`/);
      await refusal(phone.updateServerSession({ scene: 'p2p', to: 'nobody', ext: 'x'.repeat(4097) }), 'TOO_LARGE', /`ext` must be at most 4096/);
      await refusal(phone.updateServerSession({ scene: 'p2p', to: 'nobody', ext: 7 as never }), 'BAD_REQUEST', /`ext` must be a string/);
      await refusal(phone.updateServerSession({ scene: 'room' as never, to: 'nobody', ext: '' }), 'BAD_REQUEST', /`scene`/);
    });
  });

  describe('resetAllSessionUnread', () => {
    it('zeroes every session on every device, counting those that had any', async () => {
      const [me, bob, carol] = [account('me'), account('bob'), account('carol')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const [b, c] = await Promise.all([client(bob, 'b'), client(carol, 'c')]);
      await sendAndCount(b, bob, phone, me, 2);
      await sendAndCount(c, carol, phone, me, 1);
      await phone.sendText({ scene: 'p2p', to: account('dave'), text: 'mine only' });
      const onDesk = updates(desk);
      expect(await phone.resetAllSessionUnread()).toEqual({ count: 2 });
      const { sessionList } = await phone.getServerSessions();
      expect(sessionList.every((s) => s.unread === 0)).toBe(true);
      await waitFor('the desk to hear of both', () => [bob, carol].every((p) => onDesk.some((s) => s.id === `p2p-${p}` && s.unread === 0)));
      expect(await phone.resetAllSessionUnread()).toEqual({ count: 0 });
    });
  });

  describe('deleteServerSessions', () => {
    it('removes sessions on every device; a later message brings one back with only itself unread', async () => {
      const [me, bob, carol] = [account('me'), account('bob'), account('carol')];
      const phone = await client(me, 'phone');
      const deleted: string[][] = [];
      const desk = await client(me, 'desk', { sessionsdeleted: ((ids: string[]) => deleted.push(ids)) as never });
      const [b, c] = await Promise.all([client(bob, 'b'), client(carol, 'c')]);
      await sendAndCount(b, bob, phone, me, 3);
      await sendAndCount(c, carol, phone, me, 1);
      await phone.addStickTopSession({ id: `p2p-${bob}`, topCustom: 'pin' });

      expect(await phone.deleteServerSessions([`p2p-${bob}`, 'p2p-nobody'])).toEqual({ sessionIds: [`p2p-${bob}`] });
      await waitFor('the desk to hear of the deletion', () => deleted.some((ids) => ids.includes(`p2p-${bob}`)));
      expect((await desk.getServerSessions()).sessionList.map((s) => s.id)).toEqual([`p2p-${carol}`]);
      await refusal(desk.getServerSession({ scene: 'p2p', to: bob }), 'NOT_FOUND', /no session/);
      expect((await desk.getStickTopSessions()).sessionList).toEqual([]);
      // Deleting again changes nothing; bob still has his session.
      expect(await phone.deleteServerSessions([`p2p-${bob}`])).toEqual({ sessionIds: [] });
      expect((await sessionOf(b, me))?.lastMsg?.seq).toBe(3);

      const onDesk = updates(desk);
      await b.sendText({ scene: 'p2p', to: me, text: 'again' });
      await waitFor('the session to come back on the desk', () => onDesk.some((s) => s.id === `p2p-${bob}`));
      expect(await sessionOf(phone, bob)).toMatchObject({ unread: 1, isTop: false, lastMsg: { seq: 4, text: 'again' } });
    });

    it('refuses an empty list, a malformed id and a list that is not one', async () => {
      const phone = await client(account('me'), 'phone');
      await refusal(phone.deleteServerSessions([]), 'BAD_REQUEST', /`sessions` must have at least 1/);
      await refusal(phone.deleteServerSessions(['p2p-ok', 'room-x']), 'BAD_REQUEST', /`sessions\[1\]` must be a session id/);
      await refusal(phone.deleteServerSessions('p2p-x' as never), 'BAD_REQUEST', /`sessions` must be a list/);
    });
  });

  describe('stick-top sessions', () => {
    it('pins, updates and unpins on every device, and a device logging in gets the pin with its sessions', async () => {
      const [me, bob, carol] = [account('me'), account('bob'), account('carol')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const [b, c] = await Promise.all([client(bob, 'b'), client(carol, 'c')]);
      await sendAndCount(b, bob, phone, me, 1);
      await sendAndCount(c, carol, phone, me, 1);
      const onDesk = updates(desk);

      const added = await phone.addStickTopSession({ id: `p2p-${bob}`, topCustom: 'a' });
      expect(added.session).toMatchObject({ id: `p2p-${bob}`, isTop: true, topCustom: 'a' });
      await waitFor('the desk to hear of the pin', () => onDesk.some((s) => s.id === `p2p-${bob}` && s.isTop && s.topCustom === 'a'));
      // The same pin again is harmless; another topCustom is for updateStickTopSession.
      expect((await phone.addStickTopSession({ id: `p2p-${bob}`, topCustom: 'a' })).session.topCustom).toBe('a');
      await refusal(phone.addStickTopSession({ id: `p2p-${bob}`, topCustom: 'b' }), 'CONFLICT', /pinned already/);
      expect((await desk.getStickTopSessions()).sessionList).toEqual([expect.objectContaining({ id: `p2p-${bob}`, isTop: true, topCustom: 'a' })]);

      // A new device logging in gets the pin on the session in its login sync.
      const synced: Session[] = [];
      const laptop = await client(me, 'laptop', { sessions: ((list: Session[]) => synced.push(...list)) as never });
      await laptop.waitForSync();
      expect(synced.find((s) => s.id === `p2p-${bob}`)).toMatchObject({ isTop: true, topCustom: 'a' });
      expect(synced.find((s) => s.id === `p2p-${carol}`)).toMatchObject({ isTop: false });

      expect((await phone.updateStickTopSession({ id: `p2p-${bob}`, topCustom: 'b' })).session.topCustom).toBe('b');
      await waitFor('the desk to hear of the update', () => onDesk.some((s) => s.id === `p2p-${bob}` && s.topCustom === 'b'));
      const removed = await phone.deleteStickTopSession(`p2p-${bob}`);
      expect(removed.session).toMatchObject({ isTop: false });
      expect(removed.session.topCustom).toBeUndefined();
      await waitFor('the desk to hear of the unpin', () => onDesk.at(-1)?.id === `p2p-${bob}` && onDesk.at(-1)?.isTop === false);
      expect((await desk.getStickTopSessions()).sessionList).toEqual([]);
      expect((await phone.deleteStickTopSession(`p2p-${bob}`)).session.isTop).toBe(false);
      await refusal(phone.updateStickTopSession({ id: `p2p-${bob}`, topCustom: 'c' }), 'NOT_FOUND', /not pinned/);
    });

    it('refuses an unknown session, a topCustom over the limit and wrong types', async () => {
      const phone = await client(account('me'), 'phone');
      await refusal(phone.addStickTopSession({ id: 'p2p-nobody' }), 'NOT_FOUND', /no session `p2p-nobody`/);
      await refusal(phone.deleteStickTopSession('p2p-nobody'), 'NOT_FOUND', /no session/);
      await refusal(phone.addStickTopSession({ id: 'p2p-nobody', topCustom: 'x'.repeat(4097) }), 'TOO_LARGE', /`topCustom` must be at most 4096/);
      await refusal(phone.addStickTopSession({ id: 'nobody' }), 'BAD_REQUEST', /`id` must be a session id/);
      await refusal(phone.updateStickTopSession({ id: 'p2p-nobody', topCustom: 1 as never }), 'BAD_REQUEST', /`topCustom` must be a string/);
    });
  });

  describe('isUnreadable', () => {
    it('a message sent with isUnreadable: false never counts as unread', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const b = await client(bob, 'b');
      await b.sendText({ scene: 'p2p', to: me, text: 'counted' });
      const quiet = await b.sendText({ scene: 'p2p', to: me, text: 'not counted', isUnreadable: false });
      await waitFor('the quiet message to reach the session', async () => (await sessionOf(phone, bob))?.lastMsg?.seq === quiet.seq);
      expect((await sessionOf(phone, bob))?.unread).toBe(1);
    });
  });

  describe('sendMsgReceipt', () => {
    it("moves the reader's read pointer and shows the sender msgReceiptTime on every device, live and at login", async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const desk = await client(me, 'desk');
      const b = await client(bob, 'b');
      const bobDesk = await client(bob, 'bdesk');
      const first = await sendAndCount(b, bob, phone, me, 1);
      const last = await sendAndCount(b, bob, phone, me, 1);
      const onBob = updates(bobDesk);
      const onDesk = updates(desk);

      const view = (await phone.getHistoryMsgs({ scene: 'p2p', to: bob, limit: 1 })).msgs[0]!;
      const { session } = await phone.sendMsgReceipt({ msg: view });
      expect(session).toMatchObject({ id: `p2p-${bob}`, unread: 0 });
      await waitFor("bob's other device to see the receipt", () => onBob.some((s) => s.id === `p2p-${me}` && s.msgReceiptTime === last.time));
      await waitFor('the reader\'s other device to see its unread count fall', () => onDesk.some((s) => s.id === `p2p-${bob}` && s.unread === 0));
      expect((await b.getServerSession({ scene: 'p2p', to: me })).session.msgReceiptTime).toBe(last.time);
      // An older receipt moves nothing back.
      await phone.sendMsgReceipt({ msg: { ...view, seq: first.seq, time: first.time } });
      expect((await b.getServerSession({ scene: 'p2p', to: me })).session.msgReceiptTime).toBe(last.time);

      // Bob on a new device: the receipt time is on the session of its login sync.
      const synced: Session[] = [];
      const laptop = await client(bob, 'laptop', { sessions: ((list: Session[]) => synced.push(...list)) as never });
      await laptop.waitForSync();
      expect(synced.find((s) => s.id === `p2p-${me}`)).toMatchObject({ msgReceiptTime: last.time });
    });

    it('refuses a message of a session the reader does not have, its own message and wrong types', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await client(me, 'phone');
      const b = await client(bob, 'b');
      const m = await sendAndCount(b, bob, phone, me, 1);
      const mine = await phone.sendText({ scene: 'p2p', to: bob, text: 'mine' });
      await refusal(phone.sendMsgReceipt({ msg: { ...m, from: 'nobody' } }), 'NOT_FOUND', /no session `p2p-nobody`/);
      await refusal(phone.sendMsgReceipt({ msg: mine }), 'FORBIDDEN', /received/);
      await refusal(phone.sendMsgReceipt({ msg: 'm' as never }), 'BAD_REQUEST', /`msg` must be a map/);
      await refusal(phone.sendMsgReceipt({ msg: { ...m, seq: 'one' as never } }), 'BAD_REQUEST', /`msg.seq` must be an integer/);
      await refusal(phone.sendMsgReceipt({ msg: { ...m, scene: 'team' } }), 'NOT_FOUND', /team receipts/);
      await refusal(phone.sendMsgReceipt({ msg: { ...m, scene: 'room' as never } }), 'BAD_REQUEST', /`msg.scene` must be one of/);
    });
  });
});
