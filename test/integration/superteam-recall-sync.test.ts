/**
 * A supergroup's recall at a device that was offline, over the wire with the
 * SDK, in both modes. A supergroup writes no member's notification store,
 * so the group itself brings its recall notices to the device's next login
 * sync: in `offlinesysmsgs`, before `syncdone`, each once and as an online
 * device heard it live, only those after the device's `sysmsgs` cursor;
 * the recalled message is not among the login's offline messages and its
 * session's unread count leaves it out. A device online at the recall does
 * not get it again at its next login (nor the recalling device, which had
 * it as its reply), and a member who joined after the recall never gets it.
 */
import { expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Message, Session, SysMsg } from '../../engine/protocol/methods.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { heard } from '../helpers/groups.ts';

/** The login sync's events, in the order they came. */
function syncLog() {
  const log: Array<{ ev: string; d: unknown }> = [];
  const names = ['sessions', 'offlinemsgs', 'offlinesysmsgs', 'sysmsg', 'syncdone'];
  const on = Object.fromEntries(names.map((ev) => [ev, (d: unknown) => log.push({ ev, d })]));
  const of = <T>(ev: string): T[] => log.filter((e) => e.ev === ev).map((e) => e.d as T);
  return { log, on, of };
}

const recallsIn = (notices: SysMsg[][]) => notices.flat().filter((x) => x.type === 'deleteMsg');

describeBothModes('supergroup recalls at a device offline at the time', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);

  async function login(who: string, deviceId: string, cursors?: ParleyClient['cursors']) {
    const sync = syncLog();
    const c = await conns.client(who, { deviceId, on: sync.on as never, ...(cursors === undefined ? {} : { cursors }) });
    await c.waitForSync(20_000);
    return { c, ...sync };
  }

  it('reaches the offline device once at its next login, not the device that heard it live, nor a later joiner', async () => {
    const [o, a, late] = [account('owner'), account('ann'), account('late')];
    const oc = await conns.client(o, { deviceId: 'o' });
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a] });
    const to = { scene: 'superTeam' as const, to: team.teamId };
    const sid = `superTeam-${team.teamId}`;

    const desk = await login(a, 'desk');
    const phone = await login(a, 'phone');
    const atDesk: Message[] = [];
    desk.c.on('msg', (m) => atDesk.push(m));
    const m1 = await oc.sendText({ ...to, text: 'one' });
    const gone = await oc.sendText({ ...to, text: 'gone' });
    await waitFor('the desk saw both', () => atDesk.length === 2);
    const deskCursors = desk.c.cursors;
    expect(deskCursors.seqs[sid]).toBe(gone.seq);
    await desk.c.disconnect();

    // While the desk is away: a message it never saw is sent and recalled, one it saw is recalled, one more stays.
    const live = heard<SysMsg>(phone.c, 'sysmsg');
    const quiet = await oc.sendText({ ...to, text: 'quiet, then gone', isUnreadable: false });
    const recallSeen = await oc.recallMsg({ msg: gone });
    const recallUnseen = await oc.recallMsg({ msg: quiet });
    const m4 = await oc.sendText({ ...to, text: 'stays' });
    await waitFor('the phone to hear both recalls', () => live.filter((x) => x.type === 'deleteMsg').length === 2);
    expect(live.filter((x) => x.type === 'deleteMsg')).toEqual([recallSeen, recallUnseen]);
    await waitFor('the phone to see the last message', async () => (await phone.c.getServerSessions()).sessionList.find((s) => s.id === sid)?.lastMsg?.idServer === m4.idServer);
    const phoneCursors = phone.c.cursors;
    await phone.c.disconnect();

    // The desk: both notices, once, as the phone heard them, before syncdone; the recalled messages are not offline messages.
    const back = await login(a, 'desk', deskCursors);
    expect(back.log.at(-1)!.ev).toBe('syncdone');
    const notices = recallsIn(back.of<SysMsg[]>('offlinesysmsgs'));
    expect(notices).toEqual([recallSeen, recallUnseen]);
    expect(notices.every((x) => x.scene === 'superTeam' && x.to === team.teamId)).toBe(true);
    expect(back.of<SysMsg>('sysmsg')).toEqual([]);
    const offline = back.of<{ sessionId: string; msgs: Message[] }>('offlinemsgs').filter((p) => p.sessionId === sid).flatMap((p) => p.msgs);
    expect(offline.map((m) => m.idServer)).toEqual([m4.idServer]);
    // Unread: one, gone (recalled), quiet (never counted, and recalled), stays.
    const session = back.of<Session[]>('sessions').flat().find((s) => s.id === sid);
    expect(session).toMatchObject({ unread: 2, lastMsg: { idServer: m4.idServer } });
    expect((await back.c.getServerSessions()).sessionList.find((s) => s.id === sid)?.unread).toBe(2);
    void m1;

    // With the cursors it now holds, the desk gets neither again.
    const deskNow = back.c.cursors;
    expect(deskNow.sysmsgs).toBe(recallUnseen.time);
    await back.c.disconnect();
    const again = await login(a, 'desk', deskNow);
    expect(recallsIn(again.of<SysMsg[]>('offlinesysmsgs'))).toEqual([]);
    await again.c.disconnect();

    // The phone heard both live: its next login brings neither.
    const phoneBack = await login(a, 'phone', phoneCursors);
    expect(recallsIn(phoneBack.of<SysMsg[]>('offlinesysmsgs'))).toEqual([]);
    expect((await phoneBack.c.getServerSessions()).sessionList.find((s) => s.id === sid)?.unread).toBe(2);

    // The recalling device had each notice as its reply: its next login brings neither.
    const ownerCursors = oc.cursors;
    expect(ownerCursors.sysmsgs).toBe(recallUnseen.time);
    await oc.disconnect();
    const ownerBack = await login(o, 'o', ownerCursors);
    expect(recallsIn(ownerBack.of<SysMsg[]>('offlinesysmsgs'))).toEqual([]);

    // A member who joined after the recalls was never told of them.
    await ownerBack.c.addSuperTeamMembers({ teamId: team.teamId, accounts: [late] });
    const lc = await login(late, 'l');
    expect(recallsIn(lc.of<SysMsg[]>('offlinesysmsgs'))).toEqual([]);
  });

  it('gives a fresh device of a member the kept recall notices of its time as a member', async () => {
    const [o, a] = [account('owner'), account('ann')];
    const oc = await conns.client(o, { deviceId: 'o' });
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a] });
    const to = { scene: 'superTeam' as const, to: team.teamId };
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await oc.sendText({ ...to, text: `m${i}` }));
    const recalls = [];
    for (const m of sent) recalls.push(await oc.recallMsg({ msg: m }));
    const fresh = await login(a, 'new');
    expect(recallsIn(fresh.of<SysMsg[]>('offlinesysmsgs'))).toEqual(recalls);
    expect(fresh.of<Session[]>('sessions').flat().find((s) => s.id === `superTeam-${team.teamId}`)?.unread ?? 0).toBe(0);
  });
});

describeBothModes('supergroup recall notices in pages', (mode) => {
  // A small socket bound makes small login-sync pages: the notices take several.
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true', PARLEY_MAX_BACKPRESSURE_BYTES: '8192' } });
  const conns = useConnections(() => engine.url);

  it('sends every notice once, oldest recall first, over several pages', async () => {
    const [o, a] = [account('owner'), account('ann')];
    const oc = await conns.client(o, { deviceId: 'o' });
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a] });
    const to = { scene: 'superTeam' as const, to: team.teamId };
    const recalls: SysMsg[] = [];
    for (let i = 0; i < 20; i++) recalls.push(await oc.recallMsg({ msg: await oc.sendText({ ...to, text: `m${i}` }) }));
    const frames: SysMsg[][] = [];
    const c = await conns.client(a, { deviceId: 'new', on: { offlinesysmsgs: ((d: SysMsg[]) => frames.push(d)) as never } });
    await c.waitForSync(20_000);
    const pages = frames.filter((f) => f.some((x) => x.type === 'deleteMsg'));
    expect(pages.length).toBeGreaterThan(1);
    expect(recallsIn(pages)).toEqual(recalls);
  });
});
