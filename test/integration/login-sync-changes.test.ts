/**
 * What a device that was offline learns at its next login, over the wire
 * with the SDK, in both modes: sessions removed on another device
 * (`sessionsdeleted`), a recall (`offlinesysmsgs` and the corrected
 * `lastMsg`), deletes-for-self (`DeleteMsgSelf`), pinned sessions
 * (`StickTopSessions`), pins, quick comments and synced clears
 * (`PinMsgChange`, `QuickComment`, `DeleteQuickComment`,
 * `ClearServerHistoryMsgs`), stored notifications with their unread counts,
 * all before `syncdone`; and that logging in again with the cursors it then
 * holds sends none of it again.
 */
import { expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { ClearedHistory, CustomSysMsg, DeletedMsgSelf, Message, PinMsgChange, QuickCommentChange, Session, SysMsg, SysMsgUnread } from '../../engine/protocol/methods.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';

let accountSeq = 0;
function account(name: string): string {
  return `${name}${++accountSeq}l${Date.now().toString(36)}`;
}

/** The login sync's events, in the order they came. */
function syncLog() {
  const log: Array<{ ev: string; d: unknown }> = [];
  const names = ['sessions', 'sessionsdeleted', 'offlinemsgs', 'StickTopSessions', 'DeleteMsgSelf', 'PinMsgChange', 'QuickComment', 'DeleteQuickComment', 'ClearServerHistoryMsgs', 'offlinesysmsgs', 'offlinecustomsysmsgs', 'sysmsgunread', 'syncdone'];
  const on = Object.fromEntries(names.map((ev) => [ev, (d: unknown) => log.push({ ev, d })]));
  const of = <T>(ev: string): T[] => log.filter((e) => e.ev === ev).map((e) => e.d as T);
  return { log, on, of };
}

describeBothModes('login sync of what changed while a device was offline', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  async function login(acct: string, deviceId: string, cursors?: ParleyClient['cursors']) {
    const sync = syncLog();
    const c = await conns.client(acct, { deviceId, on: sync.on as never, ...(cursors === undefined ? {} : { cursors }) });
    await c.waitForSync(20_000);
    return { c, ...sync };
  }

  /** `me` logged in on the desk, which has seen two texts from `bob` (`m1`, `m2`) and then one from `carol`. */
  async function deskWithThree() {
    const [me, bob, carol] = [account('me'), account('bob'), account('carol')];
    const b = await conns.client(bob, { deviceId: 'b' });
    const cl = await conns.client(carol, { deviceId: 'c' });
    const desk = await login(me, 'desk');
    const got: Message[] = [];
    desk.c.on('msg', (m) => got.push(m));
    const m1 = await b.sendText({ scene: 'p2p', to: me, text: 'one' });
    const m2 = await b.sendText({ scene: 'p2p', to: me, text: 'two' });
    await cl.sendText({ scene: 'p2p', to: me, text: 'from carol' });
    await waitFor('the desk saw all three', () => got.length === 3);
    return { me, bob, carol, b, desk, m1, m2 };
  }

  it('brings removed sessions, recalls, deletes-for-self, pins and notifications, then syncdone; nothing twice', async () => {
    const { me, bob, carol, b, desk, m1, m2 } = await deskWithThree();
    const cursors = desk.c.cursors;
    await desk.c.disconnect();

    // Meanwhile, on the phone and at the peers:
    const phone = await conns.client(me, { deviceId: 'phone' });
    expect(await phone.deleteServerSessions([`p2p-${carol}`])).toEqual({ sessionIds: [`p2p-${carol}`] });
    const [hidden] = await phone.deleteMsgSelf({ msg: m1 });
    const m3 = await b.sendText({ scene: 'p2p', to: me, text: 'three' });
    const recall = await b.recallMsg({ msg: m3 });
    await waitFor('the phone sees the recall in its session', async () => (await phone.getServerSession({ scene: 'p2p', to: bob })).session.lastMsg?.idServer === m2.idServer);
    await phone.addStickTopSession({ id: `p2p-${bob}`, topCustom: 'top' });
    const custom = await b.sendCustomSysMsg({ scene: 'p2p', to: me, content: 'stored', sendToOnlineUsersOnly: false });
    await b.sendCustomSysMsg({ scene: 'p2p', to: me, content: 'typing' });
    await phone.disconnect();

    const back = await login(me, 'desk', cursors);
    expect(back.log.at(-1)!.ev).toBe('syncdone');
    expect(back.of<string[]>('sessionsdeleted').flat()).toEqual([`p2p-${carol}`]);
    const sessions = back.of<Session[]>('sessions').flat();
    expect(sessions.map((s) => s.id)).toEqual([`p2p-${bob}`]);
    expect(sessions[0]).toMatchObject({ isTop: true, topCustom: 'top', lastMsg: { idServer: m2.idServer } });
    expect(back.of<unknown>('offlinemsgs')).toEqual([]);
    expect(back.of<Session[]>('StickTopSessions')).toEqual([[expect.objectContaining({ id: `p2p-${bob}`, isTop: true, topCustom: 'top' })]]);
    const deletes = back.of<DeletedMsgSelf[]>('DeleteMsgSelf').flat();
    expect(deletes).toEqual([hidden]);
    expect(deletes[0]).toMatchObject({ idServer: m1.idServer, sessionId: `p2p-${bob}` });
    expect(back.of<SysMsg[]>('offlinesysmsgs').flat()).toEqual([recall]);
    expect(back.of<CustomSysMsg[]>('offlinecustomsysmsgs').flat()).toEqual([custom]);
    expect(back.of<SysMsgUnread>('sysmsgunread')).toEqual([expect.objectContaining({ deleteMsg: 1, total: 1 })]);
    // Sessions first (their pages and removals), then pins, deletes-for-self and notifications, then syncdone.
    const order = back.log.map((e) => e.ev).filter((ev, i, all) => all.indexOf(ev) === i);
    expect(order).toEqual(['sessions', 'sessionsdeleted', 'StickTopSessions', 'DeleteMsgSelf', 'offlinesysmsgs', 'offlinecustomsysmsgs', 'sysmsgunread', 'syncdone']);

    // Acknowledged, then again with the cursors the device holds now: nothing of it comes back.
    await back.c.markSysMsgRead([recall]);
    const now = back.c.cursors;
    expect(now.sysmsgs).toBe(custom.time);
    await back.c.disconnect();
    const again = await login(me, 'desk', now);
    expect(again.of<DeletedMsgSelf[]>('DeleteMsgSelf')).toEqual([]);
    expect(again.of<SysMsg[]>('offlinesysmsgs')).toEqual([]);
    expect(again.of<CustomSysMsg[]>('offlinecustomsysmsgs')).toEqual([]);
    expect(again.of<unknown>('offlinemsgs')).toEqual([]);
    expect(again.of<SysMsgUnread>('sysmsgunread')).toEqual([expect.objectContaining({ total: 0 })]);
  });

  it("brings a recall of a message the device had seen: the notice and the session's corrected lastMsg", async () => {
    const [me, bob] = [account('me'), account('bob')];
    const b = await conns.client(bob, { deviceId: 'b' });
    const desk = await login(me, 'desk');
    const got: Message[] = [];
    desk.c.on('msg', (m) => got.push(m));
    const m1 = await b.sendText({ scene: 'p2p', to: me, text: 'one' });
    const m2 = await b.sendText({ scene: 'p2p', to: me, text: 'two' });
    await waitFor('the desk saw both', () => got.length === 2);
    await waitFor('the desk holds the session with its newest message', () => desk.c.cursors.sessions >= m2.time);
    const cursors = desk.c.cursors;
    await desk.c.disconnect();
    const recall = await b.recallMsg({ msg: m2 });
    const phone = await conns.client(me, { deviceId: 'phone' });
    await waitFor('the recall reached the session', async () => (await phone.getServerSession({ scene: 'p2p', to: bob })).session.lastMsg?.idServer === m1.idServer);
    await phone.disconnect();
    const back = await login(me, 'desk', cursors);
    expect(back.of<SysMsg[]>('offlinesysmsgs').flat()).toEqual([recall]);
    expect(back.of<Session[]>('sessions').flat()).toEqual([expect.objectContaining({ id: `p2p-${bob}`, lastMsg: expect.objectContaining({ idServer: m1.idServer }) })]);
  });

  it('gives a fresh device (no cursors) the notifications and pins but no removals or deletes-for-self to replay', async () => {
    const [me, bob] = [account('me'), account('bob')];
    const phone = await conns.client(me, { deviceId: 'phone' });
    const b = await conns.client(bob, { deviceId: 'b' });
    const m1 = await b.sendText({ scene: 'p2p', to: me, text: 'one' });
    const m2 = await b.sendText({ scene: 'p2p', to: me, text: 'two' });
    await waitFor('the session exists', async () => (await phone.getServerSessions()).sessionList.length === 1);
    await phone.deleteMsgSelf({ msg: m1 });
    await phone.addStickTopSession({ id: `p2p-${bob}` });
    const recall = await b.recallMsg({ msg: m2 });
    await waitFor('the phone got the recall', async () => (await phone.getServerSession({ scene: 'p2p', to: bob })).session.lastMsg?.idServer !== m2.idServer);
    const fresh = await login(me, 'new');
    expect(fresh.of<DeletedMsgSelf[]>('DeleteMsgSelf')).toEqual([]);
    expect(fresh.of<string[]>('sessionsdeleted')).toEqual([]);
    expect(fresh.of<SysMsg[]>('offlinesysmsgs').flat()).toEqual([recall]);
    expect(fresh.of<Session[]>('StickTopSessions').flat().map((s) => s.id)).toEqual([`p2p-${bob}`]);
    // Its history already leaves both out: one hidden for self, one recalled.
    expect(fresh.of<{ msgs: Message[] }>('offlinemsgs').flatMap((p) => p.msgs)).toEqual([]);
  });

  it('replays pins, quick comments and synced clears made while the device was offline, oldest first, then none of them again', async () => {
    const { me, bob, carol, b, desk, m1, m2 } = await deskWithThree();
    // Pinned while the desk was online: it heard that live and must not hear it again.
    await b.addMsgPin({ msg: m2 });
    await waitFor('the desk heard the pin', () => desk.of<PinMsgChange>('PinMsgChange').length === 1);
    const cursors = desk.c.cursors;
    await desk.c.disconnect();

    // Meanwhile, on the phone and at the peer:
    const phone = await conns.client(me, { deviceId: 'phone' });
    const heard: PinMsgChange[] = [];
    phone.on('PinMsgChange', (d) => heard.push(d));
    await b.addMsgPin({ msg: m1, pinCustom: 'first' });
    await phone.updateMsgPin({ msg: m1, pinCustom: 'second' });
    await phone.deleteMsgPin({ msg: m2 });
    await b.addQuickComment({ msg: m1, body: 7, custom: 'wow' });
    await phone.addQuickComment({ msg: m2, body: 1 });
    await phone.deleteQuickComment({ msg: m2, body: 1 });
    const cleared = await phone.clearServerHistoryMsgs({ scene: 'p2p', to: carol, isSyncSelf: true });
    await phone.clearServerHistoryMsgs({ scene: 'p2p', to: bob, isSyncSelf: false });
    await waitFor('the phone heard the peer\'s pin', () => heard.some((c) => c.type === 'add' && c.pin.msg.idServer === m1.idServer));
    await phone.disconnect();
    // The journal is written after the changes are answered: wait until a device logging in with the old cursors gets all seven.
    const CHANGE_EVS = ['PinMsgChange', 'QuickComment', 'DeleteQuickComment', 'ClearServerHistoryMsgs'];
    await waitFor('the journal holds every change', async () => {
      const probe = await login(me, 'probe', cursors);
      const n = probe.log.filter((e) => CHANGE_EVS.includes(e.ev)).length;
      await probe.c.disconnect();
      return n === 7;
    });

    const back = await login(me, 'desk', cursors);
    expect(back.log.at(-1)!.ev).toBe('syncdone');
    const replayed = back.log.filter((e) => CHANGE_EVS.includes(e.ev));
    expect(replayed.map((e) => e.ev)).toEqual(['PinMsgChange', 'PinMsgChange', 'PinMsgChange', 'QuickComment', 'QuickComment', 'DeleteQuickComment', 'ClearServerHistoryMsgs']);
    const pins = back.of<PinMsgChange>('PinMsgChange');
    expect(pins.map((c) => [c.type, c.sessionId, c.pin.msg.idServer, c.pin.pinCustom])).toEqual([
      ['add', `p2p-${bob}`, m1.idServer, 'first'],
      ['update', `p2p-${bob}`, m1.idServer, 'second'],
      ['delete', `p2p-${bob}`, m2.idServer, undefined],
    ]);
    expect(pins[0]!.pin).toMatchObject({ pinFrom: bob, msg: { flow: 'in', from: bob, to: me } });
    const added = back.of<QuickCommentChange>('QuickComment');
    expect(added.map((c) => [c.msg.idServer, c.msg.sessionId, c.comment.from, c.comment.body, c.comment.custom])).toEqual([
      [m1.idServer, `p2p-${bob}`, bob, 7, 'wow'],
      [m2.idServer, `p2p-${bob}`, me, 1, undefined],
    ]);
    expect(back.of<QuickCommentChange>('DeleteQuickComment').map((c) => [c.msg.idServer, c.comment.body])).toEqual([[m2.idServer, 1]]);
    // Only the clear the phone asked its devices to follow.
    expect(back.of<ClearedHistory[]>('ClearServerHistoryMsgs')).toEqual([[cleared]]);
    // After the deletes-for-self and before the notifications.
    const order = back.log.map((e) => e.ev).filter((ev, i, all) => all.indexOf(ev) === i);
    expect(order.indexOf('PinMsgChange')).toBeLessThan(order.indexOf('syncdone'));
    expect(order.indexOf('PinMsgChange')).toBeGreaterThan(order.indexOf('sessions'));

    // With the cursors it holds now, nothing comes back; nor to a device without cursors.
    const now = back.c.cursors;
    expect(now.sessions).toBeGreaterThanOrEqual(cleared.time);
    await back.c.disconnect();
    const again = await login(me, 'desk', now);
    for (const ev of CHANGE_EVS) expect(again.of(ev)).toEqual([]);
    const fresh = await login(me, 'new');
    for (const ev of CHANGE_EVS) expect(fresh.of(ev)).toEqual([]);
  });
});
