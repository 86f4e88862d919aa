/**
 * An identifier holding a NUL, 64 characters or longer, must not reach into
 * another account's LMDB rows: after the victim's user actor reloads (here by
 * restarting the engine on the same data), his sessions, unread counts and
 * login sync are exactly what his real conversations say. Both modes: the
 * actor state lives in LMDB in each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { ParleyClient } from '../../client/index.ts';
import type { Message, Session } from '../../engine/protocol/methods.ts';
import { startEngine, tempDir, tokenFor, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';

describeBothModes('forged identifiers and LMDB keys', ({ name, engineOptions }) => {
  let dataDir: string;
  let engine: TestEngine | undefined;
  const conns = useConnections(() => engine!.url);

  beforeAll(async () => {
    dataDir = tempDir();
  });

  afterAll(async () => {
    await engine?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<TestEngine> {
    engine = await startEngine(engineOptions({ dataDir }));
    return engine;
  }

  function client(url: string, account: string): Promise<ParleyClient> {
    return conns.client(account, { url, reconnect: false });
  }

  async function sessionWith(c: ParleyClient, id: string, text: string): Promise<void> {
    await waitFor(`session ${id} with last message '${text}'`, async () => {
      const { sessionList } = await c.getServerSessions();
      return sessionList.some((s) => s.id === id && s.lastMsg?.text === text);
    });
  }

  it("a NUL inside a long identifier cannot replace or add to another account's sessions", async () => {
    const alice = `alice-${name}`;
    const bob = `bob-${name}`;
    const mallory = `mallory-${name}`;
    // Once written raw, the NUL separates "bob" from the rest: the rows would sort inside bob's own.
    const forged = `${bob}\u0000${'x'.repeat(70)}`;
    let e = await start();

    const a = await client(e.url, alice);
    const m = await client(e.url, mallory);
    const b = await client(e.url, bob);
    await a.sendText({ scene: 'p2p', to: bob, text: 'hello' });
    await sessionWith(b, `p2p-${alice}`, 'hello');
    await b.disconnect();

    // Whether the forged names are refused or stored, they must not touch bob's rows.
    const attempts: [ParleyClient, string][] = [
      [a, 'forged by alice'],
      [m, 'forged by mallory'],
    ];
    for (const [sender, text] of attempts) {
      const accepted = await sender.sendText({ scene: 'p2p', to: forged, text }).then(
        () => true,
        (err: { name?: string }) => {
          expect(err.name).toBe('BAD_REQUEST');
          return false;
        },
      );
      if (accepted) await sessionWith(sender, `p2p-${forged}`, text);
    }

    // Bob's user actor reloads from LMDB after a restart on the same data.
    await conns.disconnectClients();
    await e.stop();
    e = await start();

    const r = await conns.raw(e.url);
    const login = await r.request('login', { token: await tokenFor(bob), deviceId: 'b1' });
    expect(login.e).toBeUndefined();
    const sessions = (await r.event('sessions')).d as Session[];
    expect(sessions.map((s) => s.id)).toEqual([`p2p-${alice}`]);
    expect(sessions[0]).toMatchObject({ to: alice, unread: 1 });
    expect(sessions[0]!.lastMsg).toMatchObject({ text: 'hello', from: alice, to: bob });
    const offline = await r.event('offlinemsgs');
    expect(offline.d).toMatchObject({ sessionId: `p2p-${alice}`, to: alice });
    expect((offline.d.msgs as Message[]).map((msg) => msg.text)).toEqual(['hello']);
    await r.event('syncdone');
    expect(r.received.filter((f) => f.ev === 'offlinemsgs')).toHaveLength(1);

    const listed = await r.request('getServerSessions', {});
    expect((listed.r.sessionList as Session[]).map((s) => [s.id, s.unread, s.lastMsg?.text])).toEqual([[`p2p-${alice}`, 1, 'hello']]);
    const history = await r.request('getHistoryMsgs', { scene: 'p2p', to: alice });
    expect((history.r.msgs as Message[]).map((msg) => msg.text)).toEqual(['hello']);
  });
});
