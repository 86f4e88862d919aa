/**
 * What a device that was offline learns at its next login, over the wire
 * with the SDK, in both modes: sessions removed on another device
 * (`sessionsdeleted`), a recall (`offlinesysmsgs` and the corrected
 * `lastMsg`), deletes-for-self (`DeleteMsgSelf`), pinned sessions
 * (`StickTopSessions`), stored notifications with their unread counts, all
 * before `syncdone`; and that logging in again with the cursors it then
 * holds sends none of it again.
 */
import { expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { CustomSysMsg, DeletedMsgSelf, Message, Session, SysMsg, SysMsgUnread } from '../../engine/protocol/methods.ts';
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
  const names = ['sessions', 'sessionsdeleted', 'offlinemsgs', 'StickTopSessions', 'DeleteMsgSelf', 'offlinesysmsgs', 'offlinecustomsysmsgs', 'sysmsgunread', 'syncdone'];
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

  it('brings removed sessions, recalls, deletes-for-self, pins and notifications, then syncdone; nothing twice', async () => {
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
});
