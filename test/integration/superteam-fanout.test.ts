/**
 * Supergroup fan-out's subscription rules over the wire, in both modes: a
 * removed member stops receiving at once on every device, a new member
 * starts at its join notice on every device (each message once, in seq
 * order), the sender's other devices get its messages as `flow: out`, and
 * an edge with no member online receives nothing of the group (its Bus
 * deliveries on group subjects counted). In NATS mode a second edge holds
 * some of the devices, so "every device" spans two edges.
 */
import { afterAll, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import { startEngine, tokenFor, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { setupOrFail } from '../helpers/setup-or-fail.ts';

const ADMIN_KEY = 'superteam-fanout-admin-key-0123456789';
// The login sync's supergroup limit above the 40 sends of the login-window case: a slow login must not
// turn its check (nothing lost between the sync and the subscription) into a check of the limit.
const ENV = { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true', PARLEY_ADMIN_API_KEY: ADMIN_KEY, PARLEY_SYNC_SUPERTEAM_MSGS_PER_SESSION: '100' };

describeBothModes('supergroup fan-out', (mode) => {
  const engine = mode.useEngine({ env: ENV });
  // NATS mode: a second edge on the same cluster; embedded mode has one edge.
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

  /** A logged-in client whose login sync is done: from then on it gets its supergroups' messages. */
  async function online(who: string, options: { deviceId?: string; url?: string } = {}): Promise<ParleyClient> {
    const c = await conns.client(who, options);
    await c.synced;
    return c;
  }

  function msgs(c: ParleyClient, teamId: string): Message[] {
    const seen: Message[] = [];
    c.on('msg', (m: Message) => {
      if (m.scene === 'superTeam' && m.to === teamId) seen.push(m);
    });
    return seen;
  }

  function expectOnceInOrder(seen: readonly Message[]): void {
    const seqs = seen.map((m) => m.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
  }

  async function adminSend(from: string, teamId: string, text: string): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${engine.port}/v1/admin/sendMsg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ from, type: 'text', scene: 'superTeam', to: teamId, text }),
    });
    expect(res.status).toBe(200);
  }

  it('a removed member stops receiving at once, on every device and edge', async () => {
    const [o, a, b, r] = ['owner', 'ann', 'ben', 'rob'].map((n) => account(n));
    const oc = await online(o!);
    const ac = await online(a!);
    const bc = await online(b!, { url: other().url });
    const phone = await online(r!, { deviceId: 'phone' });
    const desk = await online(r!, { deviceId: 'desk', url: other().url });
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a!, b!, r!] });
    const [annGot, benGot, phoneGot, deskGot] = [ac, bc, phone, desk].map((c) => msgs(c, team.teamId)) as [Message[], Message[], Message[], Message[]];
    const before = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'before' });
    await waitFor('every device to get the first message', () => [annGot, benGot, phoneGot, deskGot].every((s) => s.some((m) => m.idServer === before.idServer)));

    await oc.removeSuperTeamMembers({ teamId: team.teamId, accounts: [r!] });
    const after = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'after' });
    // Ann shares an edge with the phone, Ben with the desk: once they have it, the removed devices would have too.
    await waitFor('the members on both edges to get the message after', () => annGot.some((m) => m.idServer === after.idServer) && benGot.some((m) => m.idServer === after.idServer));
    for (const seen of [phoneGot, deskGot]) {
      expect(seen.some((m) => m.text === 'after')).toBe(false);
      expectOnceInOrder(seen);
    }
    for (const seen of [annGot, benGot]) expectOnceInOrder(seen);
  });

  it('a new member starts receiving at its join notice, on every device, each message once and in order', async () => {
    const [o, a, n] = ['owner', 'ann', 'nia'].map((x) => account(x));
    const oc = await online(o!);
    const ac = await online(a!);
    const phone = await online(n!, { deviceId: 'phone' });
    // Alone on its edge in NATS mode: that edge subscribes to the group only when Nia joins.
    const desk = await online(n!, { deviceId: 'desk', url: other().url });
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a!] });
    await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'before nia' });
    const [annGot, phoneGot, deskGot] = [ac, phone, desk].map((c) => msgs(c, team.teamId)) as [Message[], Message[], Message[]];

    await oc.addSuperTeamMembers({ teamId: team.teamId, accounts: [n!] });
    const sent: Message[] = [];
    for (let i = 0; i < 5; i++) sent.push(await oc.sendText({ scene: 'superTeam', to: team.teamId, text: `m${i}` }));
    const last = sent[sent.length - 1]!;
    await waitFor("both of Nia's devices to get every message", () => [phoneGot, deskGot].every((s) => s.some((m) => m.idServer === last.idServer)));
    for (const seen of [phoneGot, deskGot]) {
      expectOnceInOrder(seen);
      expect(seen.some((m) => m.text === 'before nia')).toBe(false);
      // From the join notice on: the notice, then the five texts.
      expect(seen[0]).toMatchObject({ type: 'notification', flow: 'in' });
      expect(seen.filter((m) => m.type === 'text').map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    }
    await waitFor('ann to get the last one', () => annGot.some((m) => m.idServer === last.idServer));
    expectOnceInOrder(annGot);

    // The new member's own send: its other device gets it as flow out, the sending one only the reply.
    const own = await phone.sendText({ scene: 'superTeam', to: team.teamId, text: 'from nia' });
    await waitFor("the desk to get Nia's message", () => deskGot.some((m) => m.idServer === own.idServer));
    expect(deskGot.find((m) => m.idServer === own.idServer)).toMatchObject({ flow: 'out', from: n });
    await waitFor("ann to get Nia's message", () => annGot.some((m) => m.idServer === own.idServer));
    expect(annGot.find((m) => m.idServer === own.idServer)).toMatchObject({ flow: 'in' });
    expect(phoneGot.some((m) => m.idServer === own.idServer)).toBe(false);
  });

  it('an edge with no member online receives nothing of the group', async () => {
    const [o, a, stranger] = ['owner', 'ann', 'stranger'].map((x) => account(x));
    const oc = await online(o!);
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a!] });
    // A socket that is no member, on the other edge.
    await online(stranger!, { url: other().url });
    if (edge2 !== undefined) {
      const start = edge2.edge!.groupStats().received;
      const seenOne = engine.edge!.groupStats().received;
      await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'one' });
      await waitFor("the owner's edge to receive the first message", () => engine.edge!.groupStats().received > seenOne);
      expect(edge2.edge!.groupStats().received).toBe(start);
      const ac = await online(a!, { url: edge2.url });
      const annGot = msgs(ac, team.teamId);
      const two = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'two' });
      await waitFor('ann on the second edge to get the second message', () => annGot.some((x) => x.idServer === two.idServer));
      expect(edge2.edge!.groupStats().received - start).toBe(1);
      expect(edge2.edge!.groupStats().groups).toBe(1);
      expect(annGot.some((x) => x.text === 'one')).toBe(false);
      await ac.disconnect();
      await waitFor('the second edge to drop the group', () => edge2!.edge!.groupStats().groups === 0);
      const mark = edge2.edge!.groupStats().received;
      const seen = engine.edge!.groupStats().received;
      await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'three' });
      // The owner's edge holds the group: once it has the message, the Bus has delivered it to every subscriber.
      await waitFor("the owner's edge to receive it", () => engine.edge!.groupStats().received > seen);
      expect(edge2.edge!.groupStats().received).toBe(mark);
    } else {
      const stats = () => engine.edge!.groupStats();
      const start = stats().received;
      await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'with the owner online' });
      await waitFor('the edge to receive it once', () => stats().received === start + 1);
      await conns.disconnectClients();
      await waitFor('the edge to drop the group', () => stats().groups === 0);
      const mark = stats().received;
      // Sent by the host's backend with no member online: the edge is not subscribed and receives nothing.
      await adminSend(o!, team.teamId, 'nobody online');
      const ac = await online(a!);
      const annGot = msgs(ac, team.teamId);
      await adminSend(o!, team.teamId, 'ann online');
      await waitFor('ann to get the message sent once she is online', () => annGot.some((m) => m.text === 'ann online'));
      expect(stats().received - mark).toBe(1);
      expect(annGot.some((m) => m.text === 'nobody online')).toBe(false);
    }
  });

  it("a supergroup session's unread comes from the read pointer: at login, and live before a read or a reset", async () => {
    const [o, a] = ['owner', 'ann'].map((x) => account(x));
    const oc = await online(o!);
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a!] });
    const sid = `superTeam-${team.teamId}`;
    await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'one' });
    const two = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'two' });
    // Ann was never online: her login sync shows the group's newest message and two unread.
    type Listed = Array<{ id: string; unread: number; lastMsg?: { idServer: string } }>;
    const ac = await online(a!, { url: other().url });
    const atLogin = (await ac.getServerSessions()).sessionList.find((x) => x.id === sid);
    expect(atLogin).toMatchObject({ unread: 2, lastMsg: { idServer: two.idServer } });
    expect((await ac.resetSuperTeamSessionsUnread([sid])).sessionList).toMatchObject([{ id: sid, unread: 0 }]);
    const three = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'three' });
    await waitFor('the session to count the message after the reset', async () => (await ac.getServerSessions()).sessionList.find((x) => x.id === sid)?.unread === 1);
    expect((await ac.getServerSessions()).sessionList.find((x) => x.id === sid)?.lastMsg).toMatchObject({ idServer: three.idServer });
    await ac.disconnect();
    // The next login's sync has it too.
    const raw = await conns.raw();
    const login = raw.request('login', { token: await tokenFor(a!), deviceId: 'raw' });
    const sessions = raw.event('sessions');
    expect((await login).e).toBeUndefined();
    const listed = ((await sessions).d as Listed).find((x) => x.id === sid);
    expect(listed).toMatchObject({ unread: 1, lastMsg: { idServer: three.idServer } });
  });

  it('a message sent while a device is between its login sync and its group subscription reaches it, live or in the sync', async () => {
    const [o, n] = ['owner', 'nia'].map((x) => account(x));
    const oc = await online(o!);
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [n!] });
    await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'before' });
    // A device that synced once, so its next login asks only for what came after its cursors.
    const first = await online(n!, { deviceId: 'desk', url: other().url });
    await waitFor('the desk to have the first message', async () => (await first.getServerSessions()).sessionList.some((x) => x.id === `superTeam-${team.teamId}`));
    const cursors = first.cursors;
    await first.disconnect();

    // The owner keeps sending while the desk logs in again (alone on its edge in NATS mode: that edge subscribes anew).
    const sent: Message[] = [];
    let sending = true;
    const sender = (async () => {
      for (let i = 0; i < 40 && sending; i++) sent.push(await oc.sendText({ scene: 'superTeam', to: team.teamId, text: `w${i}` }));
    })();
    await waitFor('a few sends before the login', () => sent.length >= 3);
    const raw = await conns.raw(other().url);
    const login = raw.request('login', { token: await tokenFor(n!), deviceId: 'desk', cursors });
    expect((await login).e).toBeUndefined();
    await raw.event('syncdone');
    await waitFor('a few sends after the sync', () => sent.length >= 20);
    sending = false;
    await sender;
    const last = sent[sent.length - 1]!;
    const seqsOf = (f: { ev?: string; d?: any }): number[] => {
      const mine = (m: any) => m?.scene === 'superTeam' && m?.to === team.teamId && m?.type === 'text';
      if (f.ev === 'msg') return mine(f.d) ? [f.d.seq] : [];
      if (f.ev === 'offlinemsgs' || f.ev === 'roamingmsgs') return (f.d?.msgs ?? []).filter(mine).map((m: any) => m.seq);
      return [];
    };
    await waitFor('the desk to have the last send', () => raw.received.some((f) => seqsOf(f).includes(last.seq)));
    const got = raw.received.flatMap(seqsOf);
    // Every send after the cursor: none lost in the window between the sync's reads and the group subscription.
    expect([...new Set(got.filter((seq) => seq >= sent[0]!.seq))].sort((x, y) => x - y)).toEqual(sent.map((m) => m.seq));
  });
});
