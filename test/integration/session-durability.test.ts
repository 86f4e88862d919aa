/**
 * Session state across a crash: kill -9 the engine right after the
 * acknowledgements of ext, pin, deletion, reset-all and read-receipt
 * changes, restart it on the same data (and the same NATS server), and
 * every acknowledged change is still there.
 */
import { afterEach, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { Session } from '../../engine/protocol/methods.ts';
import { spawnEngine, tempDir, tokenFor, type SpawnedEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';

describeBothModes('session state across kill -9', ({ name, engineOptions }) => {
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

  async function client(engine: SpawnedEngine, account: string): Promise<ParleyClient> {
    const c = await connect({ url: engine.url, token: await tokenFor(account), WebSocket, reconnect: false });
    clients.push(c);
    return c;
  }

  const byId = async (c: ParleyClient): Promise<Map<string, Session>> => new Map((await c.getServerSessions()).sessionList.map((s) => [s.id, s]));

  it('keeps ext, pins, deletions, read pointers and receipts', async () => {
    dataDir = tempDir();
    const [me, bob, carol, dave] = [`me-${name}`, `bob-${name}`, `carol-${name}`, `dave-${name}`];
    let engine = await start();
    const m = await client(engine, me);
    const [b, c, d] = [await client(engine, bob), await client(engine, carol), await client(engine, dave)];
    await b.sendText({ scene: 'p2p', to: me, text: 'b1' });
    const last = await b.sendText({ scene: 'p2p', to: me, text: 'b2' });
    await c.sendText({ scene: 'p2p', to: me, text: 'c1' });
    await d.sendText({ scene: 'p2p', to: me, text: 'd1' });
    await waitFor('three sessions', async () => (await byId(m)).size === 3);
    await waitFor("bob's last message in the session", async () => (await byId(m)).get(`p2p-${bob}`)?.lastMsg?.seq === last.seq);

    await m.updateServerSession({ scene: 'p2p', to: bob, ext: 'e' });
    await m.addStickTopSession({ id: `p2p-${bob}`, topCustom: 'pin' });
    await m.deleteServerSessions([`p2p-${dave}`]);
    await m.sendMsgReceipt({ msg: (await m.getHistoryMsgs({ scene: 'p2p', to: bob, limit: 1 })).msgs[0]! });
    await waitFor('the receipt on bob\'s session', async () => (await byId(b)).get(`p2p-${me}`)?.msgReceiptTime === last.time);
    expect(await m.resetAllSessionUnread()).toEqual({ count: 1 });
    engine.process.kill('SIGKILL');
    await engine.exited;

    engine = await start();
    const again = await client(engine, me);
    const mine = await byId(again);
    expect([...mine.keys()].sort()).toEqual([`p2p-${bob}`, `p2p-${carol}`].sort());
    expect(mine.get(`p2p-${bob}`)).toMatchObject({ ext: 'e', isTop: true, topCustom: 'pin', unread: 0 });
    expect(mine.get(`p2p-${carol}`)).toMatchObject({ unread: 0, isTop: false });
    expect((await again.getStickTopSessions()).sessionList.map((s) => s.id)).toEqual([`p2p-${bob}`]);
    const bobAgain = await client(engine, bob);
    expect((await bobAgain.getServerSession({ scene: 'p2p', to: me })).session.msgReceiptTime).toBe(last.time);
    // The deleted session comes back with the next message only.
    const dAgain = await client(engine, dave);
    await dAgain.sendText({ scene: 'p2p', to: me, text: 'd2' });
    await waitFor("dave's session back", async () => (await byId(again)).get(`p2p-${dave}`)?.unread === 1);
  });
});
