/**
 * Live supergroup sessions over the wire, in both modes: each message gives
 * every online member's devices `updatesessions` with the message as
 * `lastMsg` and the unread count from the member's read pointer (carried
 * forward by the edge, no write per member), the sender's own devices the
 * message as `flow: out` with nothing more unread; a reset on one device
 * starts the count again on every device, on every edge, and a device whose
 * login sync did not list the session (nothing new since its cursor) counts
 * right too.
 */
import { afterAll, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import { startEngine, tokenFor, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { setupOrFail } from '../helpers/setup-or-fail.ts';
import type { RawClient } from '../helpers/raw-client.ts';

const ENV = { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' };

interface Listed {
  id: string;
  unread: number;
  updateTime: number;
  lastMsg?: { idServer: string; flow: string; seq: number };
}

describeBothModes('supergroup sessions, live', (mode) => {
  const engine = mode.useEngine({ env: ENV });
  let edge2: TestEngine | undefined;
  if (mode.name === 'nats') {
    setupOrFail(async () => {
      edge2 = await startEngine(mode.engineOptions({ role: 'edge', env: ENV }));
    });
    afterAll(async () => {
      await edge2?.stop();
    });
  }
  const other = (): TestEngine => edge2 ?? engine;
  const conns = useConnections(() => engine.url);

  async function device(who: string, deviceId: string, url: string, cursors?: unknown): Promise<RawClient> {
    const raw = await conns.raw(url);
    const a: Record<string, unknown> = { token: await tokenFor(who), deviceId };
    if (cursors !== undefined) a.cursors = cursors;
    expect((await raw.request('login', a)).e).toBeUndefined();
    await raw.event('syncdone');
    return raw;
  }

  /** The live session updates of `sid` a device got after its login sync. */
  function updates(raw: RawClient, sid: string): Listed[] {
    const done = raw.received.findIndex((f) => f.ev === 'syncdone');
    return raw.received
      .slice(done + 1)
      .filter((f) => f.ev === 'updatesessions')
      .flatMap((f) => (f.d as Listed[]).filter((s) => s.id === sid));
  }

  async function updated(raw: RawClient, sid: string, idServer: string): Promise<Listed> {
    await waitFor(`the session update for ${idServer}`, () => updates(raw, sid).some((s) => s.lastMsg?.idServer === idServer));
    return updates(raw, sid).find((s) => s.lastMsg?.idServer === idServer)!;
  }

  it('each message updates every member device’s session: newest message and unread from the read pointer', async () => {
    const [o, a] = ['owner', 'ann'].map((x) => account(x)) as [string, string];
    const oc: ParleyClient = await conns.client(o, { deviceId: 'phone' });
    await oc.synced;
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a] });
    const sid = `superTeam-${team.teamId}`;
    const annPhone = await device(a, 'phone', engine.url);
    const annDesk = await device(a, 'desk', other().url);
    const ownerDesk = await device(o, 'desk', other().url);

    const one = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'one' });
    const two = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'two' });
    for (const d of [annPhone, annDesk]) {
      expect(await updated(d, sid, one.idServer)).toMatchObject({ unread: 1, updateTime: one.time, lastMsg: { flow: 'in' } });
      expect(await updated(d, sid, two.idServer)).toMatchObject({ unread: 2, lastMsg: { flow: 'in' } });
    }
    // The sender's other device: its own message, nothing unread.
    expect(await updated(ownerDesk, sid, two.idServer)).toMatchObject({ unread: 0, lastMsg: { flow: 'out' } });
    // The sending device got the reply instead.
    expect(oc.cursors).toBeDefined();

    // A reset on another device of Ann's: the next message counts one, on both edges.
    const annTablet: ParleyClient = await conns.client(a, { deviceId: 'tablet', url: other().url });
    await annTablet.synced;
    await annTablet.resetSuperTeamSessionsUnread([sid]);
    await waitFor('the reset to reach both devices', () => [annPhone, annDesk].every((d) => updates(d, sid).some((s) => s.unread === 0)));
    const three = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'three' });
    for (const d of [annPhone, annDesk]) expect(await updated(d, sid, three.idServer)).toMatchObject({ unread: 1 });

    // Alone on its edge, a device logging in with cursors past everything: its sync lists no session, the next message still counts right.
    // (The tablet's read brings the account's session up to date, so the laptop's login has nothing to bring.)
    expect((await annTablet.getServerSessions()).sessionList.find((x) => x.id === sid)).toMatchObject({ unread: 1, lastMsg: { idServer: three.idServer } });
    await waitFor('the tablet to have the third message', () => annTablet.cursors.sessions >= three.time);
    const cursors = annTablet.cursors;
    await annTablet.disconnect();
    annPhone.terminate();
    annDesk.terminate();
    const annLaptop = await device(a, 'laptop', other().url, cursors);
    const four = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'four' });
    expect(await updated(annLaptop, sid, four.idServer)).toMatchObject({ unread: 2 });
    // And what the devices show is what the account's sessions say.
    const listed = (await oc.getServerSessions()).sessionList.find((x) => x.id === sid);
    expect(listed).toMatchObject({ unread: 0 });
    const annSessions = await conns.client(a, { deviceId: 'check' });
    await annSessions.synced;
    expect((await annSessions.getServerSessions()).sessionList.find((x) => x.id === sid)).toMatchObject({ unread: 2, lastMsg: { idServer: four.idServer } });
  });

  it('a member who joins while online counts from its join, on an edge that held the group and on one that subscribes anew', async () => {
    const [o, a, n] = ['owner', 'ann', 'nia'].map((x) => account(x)) as [string, string, string];
    const oc: ParleyClient = await conns.client(o);
    await oc.synced;
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a] });
    const sid = `superTeam-${team.teamId}`;
    await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'before nia' });
    // The owner's edge holds the group; in NATS mode the other edge has no member until Nia joins.
    const near = await device(n, 'phone', engine.url);
    const far = await device(n, 'desk', other().url);
    await oc.addSuperTeamMembers({ teamId: team.teamId, accounts: [n] });
    const one = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'one' });
    const two = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'two' });
    for (const d of [near, far]) {
      await waitFor('the device to have both messages', () => d.received.some((f) => f.ev === 'msg' && f.d?.idServer === two.idServer));
      // A device whose edge caught it up may have taken the first message from the group's history: the count goes on the same.
      expect(await updated(d, sid, two.idServer)).toMatchObject({ unread: 2 });
      const first = updates(d, sid).find((x) => x.lastMsg?.idServer === one.idServer);
      if (first !== undefined) expect(first.unread).toBe(1);
    }
    const nc = await conns.client(n, { deviceId: 'check' });
    await nc.synced;
    expect((await nc.getServerSessions()).sessionList.find((x) => x.id === sid)).toMatchObject({ unread: 2 });
  });
});
