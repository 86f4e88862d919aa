/**
 * Crash durability: kill -9 the engine right after its acknowledgements,
 * restart it on the same data (and the same NATS server), and every
 * acknowledged message is in history exactly once, with `seq` continuing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import { freePort, spawnEngine, tempDir, tokenFor, type SpawnedEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';

async function allHistory(c: ParleyClient, to: string): Promise<Message[]> {
  const out: Message[] = [];
  let page = (await c.getHistoryMsgs({ scene: 'p2p', to, limit: 100, reverse: true, asc: true })).msgs;
  while (page.length > 0) {
    out.push(...page);
    const last = page[page.length - 1]!;
    page = (await c.getHistoryMsgs({ scene: 'p2p', to, limit: 100, reverse: true, asc: true, beginTime: last.time, lastMsgId: last.idServer })).msgs;
  }
  return out;
}

describeBothModes('kill -9 durability', ({ name, engineOptions }) => {
  let dataDir: string;
  const engines: SpawnedEngine[] = [];
  const clients: ParleyClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.destroy().catch(() => {})));
    await Promise.all(engines.splice(0).map((e) => e.kill('SIGKILL')));
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(port?: number): Promise<SpawnedEngine> {
    const e = await spawnEngine(engineOptions({ dataDir, ...(port ? { port } : {}) }));
    engines.push(e);
    return e;
  }

  it('keeps every acknowledged message exactly once and continues seq', async () => {
    dataDir = tempDir();
    const alice = `alice-${name}`;
    const bob = `bob-${name}`;
    let engine = await start();
    const a = await connect({ url: engine.url, token: await tokenFor(alice), WebSocket, reconnect: false });
    clients.push(a);

    // Keep sends in flight continuously and kill the engine mid-stream.
    const acked: Message[] = [];
    const inFlight = new Set<Promise<unknown>>();
    let i = 0;
    while (acked.length < 300) {
      while (inFlight.size < 32) {
        const p: Promise<unknown> = a
          .sendText({ scene: 'p2p', to: bob, text: `m${i}`, idClient: `c${i}` })
          .then((m) => acked.push(m))
          .catch(() => {})
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        i++;
      }
      await Promise.race(inFlight);
    }
    engine.process.kill('SIGKILL');
    await engine.exited;
    await Promise.allSettled([...inFlight]);
    const ackedIds = new Set(acked.map((m) => m.idServer));
    expect(ackedIds.size).toBe(acked.length);

    engine = await start();
    const again = await connect({ url: engine.url, token: await tokenFor(alice), WebSocket, reconnect: false });
    clients.push(again);
    const history = await allHistory(again, bob);
    const seqs = history.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: history.length }, (_, k) => k + 1));
    const ids = history.map((m) => m.idServer);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ackedIds) expect(ids).toContain(id);
    // Each idClient appears once: nothing was written twice.
    const idClients = history.map((m) => m.idClient);
    expect(new Set(idClients).size).toBe(idClients.length);

    const next = await again.sendText({ scene: 'p2p', to: bob, text: 'after the crash' });
    expect(next.seq).toBe(history.length + 1);
    // A resend of an acknowledged message after the crash returns the original.
    const resent = await again.sendText({ scene: 'p2p', to: bob, text: 'm0', idClient: acked[0]!.idClient });
    expect(resent.idServer).toBe(acked[0]!.idServer);
  });

  it('the SDK reconnects after a crash, re-sends unacknowledged sends once, and gets what it missed', async () => {
    dataDir = tempDir();
    const alice = `ra-${name}`;
    const bob = `rb-${name}`;
    const port = await freePort();
    let engine = await start(port);
    const a = await connect({ url: engine.url, token: () => tokenFor(alice), WebSocket, backoff: { initialMs: 50, maxMs: 500 } });
    clients.push(a);
    const seen: Message[] = [];
    a.on('msg', (m) => seen.push(m));
    a.on('offlinemsgs', (o) => seen.push(...o.msgs));

    const sends: Promise<Message>[] = [];
    for (let i = 0; i < 200; i++) sends.push(a.sendText({ scene: 'p2p', to: bob, text: `a${i}`, idClient: `a${i}` }));
    await sends[20];
    engine.process.kill('SIGKILL');
    await engine.exited;

    engine = await start(port);
    // While alice is away, bob writes to her.
    const b = await connect({ url: engine.url, token: await tokenFor(bob), WebSocket, reconnect: false });
    clients.push(b);
    for (let i = 0; i < 5; i++) await b.sendText({ scene: 'p2p', to: alice, text: `b${i}` });

    const acked = await Promise.all(sends);
    await a.waitForSync(20_000);
    await waitFor('the messages alice missed', () => seen.filter((m) => m.from === bob).length >= 5, 10_000);
    expect(seen.filter((m) => m.from === bob).map((m) => m.text)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);

    const history = await allHistory(b, alice);
    expect(history.map((m) => m.seq)).toEqual(history.map((_, k) => k + 1));
    const texts = history.filter((m) => m.from === alice).map((m) => m.text);
    expect(texts).toHaveLength(200);
    expect(new Set(texts).size).toBe(200);
    expect(new Set(acked.map((m) => m.idServer)).size).toBe(200);
  });
});
