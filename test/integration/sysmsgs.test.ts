/**
 * System notifications over the wire with the SDK, in both modes: the
 * account's store (a recall's `deleteMsg`, and a notification another part
 * of the engine posts with `postSysMsg`) delivered live and at login until
 * `markSysMsgRead`, with per-type unread counts on every device; and
 * `sendCustomSysMsg`, online-only or stored, which never touches history,
 * sessions or unread counts; and the refusals.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import { startEngine, tempDir, tokenFor } from '../helpers/engine.ts';
import type { ActorClient } from '../../engine/actor/call.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { PostSysMsgArgs } from '../../actors/user/calls.ts';
import { sysMsgSettings } from '../../actors/user/sysmsgs.ts';
import type { CustomSysMsg, SysMsg, SysMsgUnread } from '../../engine/protocol/methods.ts';
import { userAddress } from '../../engine/subjects.ts';
import { waitFor, rejectionOf } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';

let accountSeq = 0;
function account(name: string): string {
  return `${name}${++accountSeq}n${Date.now().toString(36)}`;
}

const DEFAULT_MAX_STORED = sysMsgSettings.maxStored;

/** Everything a client receives of the notification events, in order. */
function recorder(c: ParleyClient) {
  const got = {
    sysmsg: [] as SysMsg[],
    custom: [] as CustomSysMsg[],
    unread: [] as SysMsgUnread[],
  };
  c.on('sysmsg', (d) => got.sysmsg.push(d));
  c.on('customsysmsg', (d) => got.custom.push(d));
  c.on('updatesysmsgunread', (d) => got.unread.push(d));
  return got;
}

/** What a login sync delivered, registered before the login. */
function syncRecorder() {
  const got = {
    offline: [] as SysMsg[],
    offlineCustom: [] as CustomSysMsg[],
    unread: [] as SysMsgUnread[],
    order: [] as string[],
  };
  const on = {
    offlinesysmsgs: (d: SysMsg[]) => {
      got.offline.push(...d);
      got.order.push('offlinesysmsgs');
    },
    offlinecustomsysmsgs: (d: CustomSysMsg[]) => {
      got.offlineCustom.push(...d);
      got.order.push('offlinecustomsysmsgs');
    },
    sysmsgunread: (d: SysMsgUnread) => {
      got.unread.push(d);
      got.order.push('sysmsgunread');
    },
    sessions: () => got.order.push('sessions'),
    syncdone: () => got.order.push('syncdone'),
  };
  return { got, on };
}

describeBothModes('system notifications', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);
  afterEach(() => {
    sysMsgSettings.maxStored = DEFAULT_MAX_STORED;
  });

  /** Posts into an account's store as another actor does (friends, teams): the engine's own actor client. */
  function post(to: string, msg: PostSysMsgArgs['msg']): Promise<unknown> {
    const actors = Reflect.get(engine.edge!, 'actors') as ActorClient;
    return actors.call(userAddress(to), 'postSysMsg', { msg } satisfies PostSysMsgArgs, undefined);
  }

  async function login(acct: string, deviceId: string, cursors?: ParleyClient['cursors']) {
    const { got, on } = syncRecorder();
    const c = await conns.client(acct, { deviceId, on: on as never, ...(cursors === undefined ? {} : { cursors }) });
    await c.waitForSync(20_000);
    return { c, got };
  }

  describe('the store', () => {
    it('delivers a recall live, keeps it for an offline device until markSysMsgRead, and counts it unread per type', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await conns.client(me, { deviceId: 'phone' });
      const peer = await conns.client(bob, { deviceId: 'b1' });
      const atPeer = recorder(peer);
      const gone = await phone.sendText({ scene: 'p2p', to: bob, text: 'oops' });
      const notice = await phone.recallMsg({ msg: gone, ps: 'typo' });
      await waitFor('the peer gets the recall and its unread count', () => atPeer.sysmsg.length === 1 && atPeer.unread.length === 1);
      expect(atPeer.sysmsg[0]).toEqual(notice);
      expect(atPeer.unread[0]).toMatchObject({ deleteMsg: 1, total: 1, addFriend: 0 });
      await conns.disconnectClients();

      // The peer's other device, offline meanwhile, learns it at login, before syncdone, with the counts.
      const first = await login(bob, 'b2');
      expect(first.got.offline).toEqual([notice]);
      expect(first.got.unread).toEqual([expect.objectContaining({ deleteMsg: 1, total: 1 })]);
      expect(first.got.order.indexOf('offlinesysmsgs')).toBeLessThan(first.got.order.indexOf('sysmsgunread'));
      expect(first.got.order.at(-1)).toBe('syncdone');
      // The recaller's own devices keep it too, but it does not count for the one who caused it.
      const mine = await login(me, 'desk');
      expect(mine.got.offline.map((m) => m.idServer)).toEqual([notice.idServer]);
      // Nothing counts, and a device that never synced is not sent zero counts.
      expect(mine.got.unread).toEqual([]);

      // Acknowledged on one device: every device hears the counts, and no login sends it again.
      const other = await conns.client(bob, { deviceId: 'b3' });
      const atOther = recorder(other);
      const marked = await first.c.markSysMsgRead([notice, { idServer: 'no-such-notification' }]);
      expect(marked).toEqual({ idServers: [notice.idServer], unread: expect.objectContaining({ deleteMsg: 0, total: 0 }) });
      await waitFor('the other device hears the new counts', () => atOther.unread.length === 1);
      expect(atOther.unread[0]).toMatchObject({ total: 0 });
      expect(await first.c.markSysMsgRead([notice])).toEqual({ idServers: [], unread: expect.objectContaining({ total: 0 }) });
      const cursors = first.c.cursors;
      await conns.disconnectClients();
      // A device that synced before is sent the counts even when they are zero: it may hold older ones.
      const again = await login(bob, 'b2', cursors);
      expect(again.got.offline).toEqual([]);
      expect(again.got.unread).toEqual([expect.objectContaining({ total: 0 })]);
    });

    it('takes notifications other parts of the engine post, once per idServer, counted by type, the oldest dropped past the bound', async () => {
      const [bob, carol] = [account('bob'), account('carol')];
      const live = await conns.client(bob, { deviceId: 'live' });
      const atLive = recorder(live);
      const apply: PostSysMsgArgs['msg'] = { type: 'applyFriend', scene: 'p2p', from: carol, to: bob, idServer: 'n-1', time: 1000, ps: 'hi' };
      const kept = await post(bob, apply);
      expect(kept).toEqual({ ...apply });
      // A repeat (an at-least-once call made again) is no change.
      expect(await post(bob, { ...apply, ps: 'changed' })).toEqual(kept);
      await post(bob, { type: 'teamInvite', scene: 'team', from: carol, to: 'team-1', idServer: 'n-2', time: 1001, attach: { team: { teamId: 'team-1', name: 'T' } } });
      await waitFor('both arrive live', () => atLive.sysmsg.length === 2 && atLive.unread.length === 2);
      expect(atLive.sysmsg.map((m) => m.type)).toEqual(['applyFriend', 'teamInvite']);
      expect(atLive.sysmsg[1]!.attach).toEqual({ team: { teamId: 'team-1', name: 'T' } });
      expect(atLive.unread[1]).toMatchObject({ applyFriend: 1, teamInvite: 1, total: 2 });

      sysMsgSettings.maxStored = 2;
      await post(bob, { type: 'addFriend', scene: 'p2p', from: carol, to: bob, idServer: 'n-3', time: 1002 });
      await conns.disconnectClients();
      const { got } = await login(bob, 'later');
      expect(got.offline.map((m) => m.idServer)).toEqual(['n-2', 'n-3']);
      expect(got.unread[0]).toMatchObject({ applyFriend: 0, teamInvite: 1, addFriend: 1, total: 2 });
    });

    it('refuses markSysMsgRead without notifications, with too many, or with a bad idServer', async () => {
      const me = account('me');
      const c = await conns.client(me);
      const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
        [() => c.markSysMsgRead([]), 'BAD_REQUEST', /`sysMsgs` must have at least 1/],
        [() => c.markSysMsgRead(Array.from({ length: 101 }, (_, i) => ({ idServer: `x${i}` }))), 'BAD_REQUEST', /`sysMsgs` must have at most 100/],
        [() => c.markSysMsgRead([{ idServer: 7 as never }]), 'BAD_REQUEST', /`sysMsgs\[0\].idServer` must be a string/],
        [() => c.markSysMsgRead([{} as never]), 'BAD_REQUEST', /`sysMsgs\[0\].idServer` is required/],
      ];
      for (const [attempt, name, pattern] of cases) {
        const err = await rejectionOf(attempt());
        expect(err, String(pattern)).toMatchObject({ name });
        expect(err.message).toMatch(pattern);
      }
    });
  });

  describe('sendCustomSysMsg', () => {
    it('online only (the default): online devices get it, offline ones never; no history, session or unread', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await conns.client(me, { deviceId: 'phone' });
      const desk = await conns.client(me, { deviceId: 'desk' });
      const peer = await conns.client(bob, { deviceId: 'b1' });
      const [atPeer, atDesk, atPhone] = [recorder(peer), recorder(desk), recorder(phone)];
      const sent = await phone.sendCustomSysMsg({ scene: 'p2p', to: bob, content: '{"typing":true}', apnsText: 'typing', pushPayload: '{"p":1}', env: 'prod' });
      expect(sent).toMatchObject({
        type: 'custom', scene: 'p2p', from: me, to: bob, content: '{"typing":true}', sendToOnlineUsersOnly: true,
        isPushable: true, needPushNick: false, cc: true, apnsText: 'typing', pushPayload: '{"p":1}', env: 'prod', fromDeviceId: 'phone',
      });
      expect(typeof sent.idServer).toBe('string');
      await waitFor('the online peer gets it', () => atPeer.custom.length === 1);
      expect(atPeer.custom[0]).toEqual(sent);
      expect([atPeer.sysmsg, atPeer.unread, atDesk.custom, atPhone.custom]).toEqual([[], [], [], []]);
      await conns.disconnectClients();

      const { c, got } = await login(bob, 'b2');
      expect([got.offline, got.offlineCustom, got.unread]).toEqual([[], [], []]);
      expect((await c.getServerSessions()).sessionList).toEqual([]);
      expect((await c.getHistoryMsgs({ scene: 'p2p', to: me })).msgs).toEqual([]);
    });

    it('stored (sendToOnlineUsersOnly: false): online devices get it now, each offline device once at its next login', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const phone = await conns.client(me, { deviceId: 'phone' });
      const online = await conns.client(bob, { deviceId: 'online' });
      const atOnline = recorder(online);
      const first = await phone.sendCustomSysMsg({ scene: 'p2p', to: bob, content: 'one', sendToOnlineUsersOnly: false, isPushable: false, needPushNick: true });
      expect(first).toMatchObject({ content: 'one', sendToOnlineUsersOnly: false, isPushable: false, needPushNick: true });
      await waitFor('the online device gets it', () => atOnline.custom.length === 1);
      expect(atOnline.custom[0]).toEqual(first);
      const onlineCursors = online.cursors;
      expect(onlineCursors.sysmsgs).toBe(first.time);
      await conns.disconnectClients();

      // A device that was offline gets it at login; the one that was online does not, from its cursor.
      const offline = await login(bob, 'offline');
      expect(offline.got.offlineCustom).toEqual([first]);
      expect(offline.got.offline).toEqual([]);
      expect(offline.got.unread).toEqual([]);
      const back = await login(bob, 'online', onlineCursors);
      expect(back.got.offlineCustom).toEqual([]);
      const cursors = offline.c.cursors;
      await conns.disconnectClients();

      const sender = await conns.client(me, { deviceId: 'phone' });
      const second = await sender.sendCustomSysMsg({ scene: 'p2p', to: bob, content: 'two', sendToOnlineUsersOnly: false });
      const resumed = await login(bob, 'offline', cursors);
      expect(resumed.got.offlineCustom.map((m) => m.content)).toEqual(['two']);
      expect(resumed.got.offlineCustom[0]).toEqual(second);
      expect((await resumed.c.getServerSessions()).sessionList).toEqual([]);
    });

    it('refuses a missing or over-long content, wrong types and a team that does not exist', async () => {
      const [me, bob] = [account('me'), account('bob')];
      const c = await conns.client(me);
      const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
        [() => c.sendCustomSysMsg({ scene: 'p2p', to: bob } as never), 'BAD_REQUEST', /`content` is required/],
        [() => c.sendCustomSysMsg({ scene: 'p2p', to: bob, content: 'x'.repeat(4097) }), 'TOO_LARGE', /`content` must be at most 4096 characters/],
        [() => c.sendCustomSysMsg({ scene: 'p2p', to: bob, content: 'x', sendToOnlineUsersOnly: 'no' as never }), 'BAD_REQUEST', /`sendToOnlineUsersOnly` must be true or false/],
        [() => c.sendCustomSysMsg({ scene: 'p2p', to: bob, content: 'x', apnsText: 'a'.repeat(501) }), 'TOO_LARGE', /`apnsText` must be at most 500/],
        [() => c.sendCustomSysMsg({ scene: 'p2p', to: '', content: 'x' }), 'BAD_REQUEST', /`to`/],
        [() => c.sendCustomSysMsg({ scene: 'team', to: `no-such-team-${Date.now()}`, content: 'x' }), 'NOT_FOUND', /no team/],
      ];
      for (const [attempt, name, pattern] of cases) {
        const err = await rejectionOf(attempt());
        expect(err, String(pattern)).toMatchObject({ name });
        expect(err.message).toMatch(pattern);
      }
    });
  });
});

describe('system notifications after a restart', () => {
  it('keeps the store, its numbering and its counts across an engine restart', async () => {
    const dataDir = tempDir();
    const [me, bob] = [account('me'), account('bob')];
    let engine: Awaited<ReturnType<typeof startEngine>> | undefined;
    try {
      engine = await startEngine({ dataDir });
      const sender = await connect({ url: engine.url, token: await tokenFor(me), WebSocket });
      const gone = await sender.sendText({ scene: 'p2p', to: bob, text: 'x' });
      const notice = await sender.recallMsg({ msg: gone });
      const custom = await sender.sendCustomSysMsg({ scene: 'p2p', to: bob, content: 'kept', sendToOnlineUsersOnly: false });
      await sender.disconnect();
      await engine.stop();

      engine = await startEngine({ dataDir });
      const offline: Array<SysMsg | CustomSysMsg> = [];
      const unread: SysMsgUnread[] = [];
      const c = await connect({
        url: engine.url,
        token: await tokenFor(bob),
        WebSocket,
        on: { offlinesysmsgs: (d) => offline.push(...d), offlinecustomsysmsgs: (d) => offline.push(...d), sysmsgunread: (d) => unread.push(d) },
      });
      await c.waitForSync(20_000);
      expect(offline).toEqual([notice, custom]);
      expect(unread).toEqual([expect.objectContaining({ deleteMsg: 1, total: 1 })]);
      expect(await c.markSysMsgRead([notice])).toMatchObject({ idServers: [notice.idServer], unread: { total: 0 } });
      await c.disconnect();
    } finally {
      await engine?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
