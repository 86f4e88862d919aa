/**
 * A supergroup's part of the login sync over the wire, in both modes: a
 * fresh device gets the newest `syncSuperTeamMsgsPerSession` messages of a
 * supergroup (an advanced group's are not cut), and a message sent while a
 * device logs in reaches it once — live or in `offlinemsgs`, never both —
 * counted in the raw frames, not in what the SDK keeps. In NATS mode the
 * device logs in both beside another member's socket (its edge already
 * holds the group's subscription) and alone on a second edge (which
 * subscribes anew).
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
import type { Frame } from '../helpers/raw-client.ts';

const SUPER_LIMIT = 5;
const ENV = { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true', PARLEY_SYNC_SUPERTEAM_MSGS_PER_SESSION: String(SUPER_LIMIT) };

describeBothModes('supergroup login sync', (mode) => {
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
  const conns = useConnections(() => engine.url);

  async function online(who: string, url = engine.url): Promise<ParleyClient> {
    const c = await conns.client(who, { url });
    await c.synced;
    return c;
  }

  /** The seqs of group `to`'s texts in one frame, live (`msg`) or synced (`offlinemsgs`, `roamingmsgs`). */
  function seqsIn(f: Frame, scene: string, to: string): number[] {
    const mine = (m: any) => m?.scene === scene && m?.to === to && m?.type === 'text';
    if (f.ev === 'msg') return mine(f.d) ? [f.d.seq] : [];
    if (f.ev === 'offlinemsgs' || f.ev === 'roamingmsgs') return (f.d?.msgs ?? []).filter(mine).map((m: any) => m.seq);
    return [];
  }

  it("a fresh device gets a supergroup's newest messages up to the supergroup bound, an advanced group's all", async () => {
    const [o, a] = ['owner', 'ann'].map((x) => account(x));
    const oc = await online(o!);
    const { team: big } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a!] });
    const { team: small } = await oc.createTeam({ name: 'small', beInviteMode: 'noVerify', accounts: [a!] });
    const bigSent: Message[] = [];
    const smallSent: Message[] = [];
    for (let i = 0; i < 12; i++) {
      bigSent.push(await oc.sendText({ scene: 'superTeam', to: big.teamId, text: `b${i}` }));
      smallSent.push(await oc.sendText({ scene: 'team', to: small.teamId, text: `s${i}` }));
    }
    const raw = await conns.raw();
    expect((await raw.request('login', { token: await tokenFor(a!), deviceId: 'fresh' })).e).toBeUndefined();
    await raw.event('syncdone');
    const bigGot = raw.received.filter((f) => f.ev === 'offlinemsgs').flatMap((f) => seqsIn(f, 'superTeam', big.teamId));
    const smallGot = raw.received.filter((f) => f.ev === 'offlinemsgs').flatMap((f) => seqsIn(f, 'team', small.teamId));
    expect(bigGot).toEqual(bigSent.slice(-SUPER_LIMIT).map((m) => m.seq));
    expect(smallGot).toEqual(smallSent.map((m) => m.seq));
    // The session still counts every unread message, and history has the rest.
    const sessions = raw.received.filter((f) => f.ev === 'sessions').flatMap((f) => f.d as Array<{ id: string; unread: number }>);
    expect(sessions.find((s) => s.id === `superTeam-${big.teamId}`)?.unread).toBe(12);
  });

  const places = mode.name === 'nats' ? (['beside a member', 'alone on its edge'] as const) : (['beside a member'] as const);
  for (const place of places) {
    it(`a message sent while a device logs in (${place}) reaches it once, live or in the sync`, async () => {
      const [o, a, n] = ['owner', 'ann', 'nia'].map((x) => account(x));
      const oc = await online(o!);
      const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a!, n!] });
      // Ann keeps the group's subscription on the first edge.
      await online(a!);
      const url = place === 'beside a member' ? engine.url : edge2!.url;
      // The owner sends without pause, a few in flight, through every login below.
      const sent: Message[] = [];
      let sending = true;
      const sender = Promise.all(
        Array.from({ length: 3 }, async (_, w) => {
          for (let i = 0; sending && i < 400; i++) sent.push(await oc.sendText({ scene: 'superTeam', to: team.teamId, text: `w${w}-${i}` }));
        }),
      );
      const doubled: string[] = [];
      try {
        for (let login = 0; login < 4; login++) {
          await waitFor('sends before the login', () => sent.length >= 5 * (login + 1));
          const raw = await conns.raw(url);
          expect((await raw.request('login', { token: await tokenFor(n!), deviceId: `d${login}` })).e).toBeUndefined();
          await raw.event('syncdone');
          // Past the sync, a few sends more: every one after the first seen reaches the device, none twice.
          const after = sent.length + 5;
          await waitFor('sends after the sync', () => sent.length >= after);
          const last = Math.max(...sent.map((m) => m.seq));
          await waitFor('the device to have the newest send', () => raw.received.some((f) => seqsIn(f, 'superTeam', team.teamId).includes(last)));
          const got = raw.received.flatMap((f) => seqsIn(f, 'superTeam', team.teamId));
          const counts = new Map<number, number>();
          for (const seq of got) counts.set(seq, (counts.get(seq) ?? 0) + 1);
          for (const [seq, k] of counts) if (k > 1) doubled.push(`login ${login}: seq ${seq} ${k} times`);
          // Nothing lost in the window: from the first seq the device got to the newest, each one.
          const first = Math.min(...got);
          const texts = new Set(sent.filter((m) => m.seq >= first && m.seq <= last).map((m) => m.seq));
          expect([...counts.keys()].filter((seq) => seq <= last).sort((x, y) => x - y)).toEqual([...texts].sort((x, y) => x - y));
          raw.terminate();
        }
      } finally {
        sending = false;
        await sender;
      }
      expect(doubled).toEqual([]);
    });
  }
});
