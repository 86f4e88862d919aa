/**
 * People across a crash: kill -9 the engine right after a profile change,
 * a block, a mute, a friendship and a pending friend request were
 * acknowledged, restart it on the same data (and the same NATS server), and
 * every one of them still holds, the block and the mute in the pair's
 * conversation too.
 */
import { afterEach, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { Message, SysMsg } from '../../engine/protocol/methods.ts';
import { spawnEngine, tempDir, tokenFor, type SpawnedEngine } from '../helpers/engine.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';

describeBothModes('people across kill -9', ({ name, engineOptions }) => {
  let dataDir: string;
  const engines: SpawnedEngine[] = [];
  const clients: ParleyClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.destroy().catch(() => {})));
    await Promise.all(engines.splice(0).map((e) => e.kill('SIGKILL')));
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<SpawnedEngine> {
    const e = await spawnEngine(engineOptions({ dataDir }));
    engines.push(e);
    return e;
  }

  async function client(engine: SpawnedEngine, account: string, on: Record<string, (d: never) => void> = {}): Promise<ParleyClient> {
    const c = await connect({ url: engine.url, token: await tokenFor(account), WebSocket, reconnect: false, on });
    clients.push(c);
    return c;
  }

  it('keeps the profile, both lists, friends and pending requests, and the conversation still enforces them', { timeout: 60_000 }, async () => {
    dataDir = tempDir();
    const [me, bob, carol, dave] = [`me-${name}`, `bob-${name}`, `carol-${name}`, `dave-${name}`];
    let engine = await start();
    const m = await client(engine, me);
    const [b, c, d] = [await client(engine, bob), await client(engine, carol), await client(engine, dave)];
    const toMe: SysMsg[] = [];
    m.on('sysmsg', (x) => toMe.push(x));
    await m.updateMyInfo({ nick: 'Kept' });
    await m.addToBlacklist(bob);
    await m.addToMutelist(carol);
    await m.addFriend({ account: carol });
    const req = await d.applyFriend({ account: me, ps: 'later' });
    await waitFor('the request to arrive', () => toMe.some((x) => x.idServer === req.idServer));
    await waitFor('the friendship on both sides', () => c.isMyFriend(me));
    await Promise.all(clients.splice(0).map((x) => x.destroy()));
    await engines.splice(0)[0]!.kill('SIGKILL');

    engine = await start();
    const got: Record<string, unknown[]> = { myinfo: [], blacklist: [], mutelist: [], friends: [] };
    let done = false;
    const on: Record<string, (x: never) => void> = { syncdone: () => (done = true) };
    for (const ev of Object.keys(got)) on[ev] = (x: never) => got[ev]!.push(x);
    const m2 = await client(engine, me, on);
    await waitFor('the login sync', () => done);
    expect(got.myinfo).toEqual([expect.objectContaining({ nick: 'Kept' })]);
    expect(got.blacklist).toEqual([[expect.objectContaining({ account: bob })]]);
    expect(got.mutelist).toEqual([[expect.objectContaining({ account: carol })]]);
    expect(got.friends).toEqual([[expect.objectContaining({ account: carol, valid: true })]]);

    const b2 = await client(engine, bob);
    expect(await rejectionOf(b2.sendText({ scene: 'p2p', to: me, text: 'still blocked' }))).toMatchObject({ name: 'BLOCKED' });
    expect(await rejectionOf(b2.applyFriend({ account: me }))).toMatchObject({ name: 'BLOCKED' });
    const c2 = await client(engine, carol);
    const seen: Message[] = [];
    m2.on('msg', (x) => seen.push(x));
    const quiet = await c2.sendText({ scene: 'p2p', to: me, text: 'still muted' });
    await waitFor('the muted message', () => seen.some((x) => x.idServer === quiet.idServer));
    expect(seen.find((x) => x.idServer === quiet.idServer)).toMatchObject({ isMuted: true });

    // The pending request survived: it can be answered once, now.
    expect((await m2.passFriendApply({ idServer: req.idServer, account: dave })).friend).toMatchObject({ account: dave, valid: true });
    expect(await rejectionOf(m2.passFriendApply({ idServer: req.idServer, account: dave }))).toMatchObject({ name: 'CONFLICT' });
    expect((await m2.getFriends()).map((f) => f.account)).toEqual([carol, dave]);
  });
});
