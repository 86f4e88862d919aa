/**
 * Team read receipts across a crash: kill -9 the engine right after a
 * receipt is acknowledged, restart it on the same data (and the same NATS
 * server), and the read sets are as they were: the counts and accounts
 * answer the same, a repeated receipt changes nothing, a new one counts.
 */
import { afterEach, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { TeamMsgReads } from '../../engine/protocol/methods/team-receipts.ts';
import { spawnEngine, tempDir, tokenFor, type SpawnedEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';

describeBothModes('team receipts across kill -9', ({ name, engineOptions }) => {
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

  it('keeps who read each message', async () => {
    dataDir = tempDir();
    const [o, a, b] = ['owner', 'ann', 'ben'].map((x) => `rcpt-${x}-${name}`);
    let engine = await start();
    const oc = await client(engine, o!);
    const ac = await client(engine, a!);
    const { team } = await oc.createTeam({ name: 'keep', beInviteMode: 'noVerify', accounts: [a!, b!] });
    const m = await oc.sendText({ scene: 'team', to: team.teamId, text: 'read me', needMsgReceipt: true });
    const ref = { teamId: team.teamId, idServer: m.idServer, idClient: m.idClient };
    await ac.sendTeamMsgReceipt({ teamMsgReceipts: [ref] });
    engine.process.kill('SIGKILL');
    await engine.exited;

    engine = await start();
    const o2 = await client(engine, o!);
    const a2 = await client(engine, a!);
    const b2 = await client(engine, b!);
    const heard: TeamMsgReads[] = [];
    o2.on('TeamMsgReceipt', ((d: TeamMsgReads) => heard.push(d)) as never);
    expect((await o2.getTeamMsgReads({ teamMsgReceipts: [ref] })).teamMsgReceipts).toEqual([{ teamId: team.teamId, idServer: m.idServer, read: 1, unread: 1 }]);
    expect(await b2.getTeamMsgReadAccounts({ teamMsgReceipt: ref })).toEqual({ teamId: team.teamId, idServer: m.idServer, readAccounts: [a], unreadAccounts: [b] });
    // Ann's repeat changes nothing: the one event the owner hears is ben's.
    await a2.sendTeamMsgReceipt({ teamMsgReceipts: [ref] });
    await b2.sendTeamMsgReceipt({ teamMsgReceipts: [ref] });
    await waitFor("the owner to hear ben's receipt", () => heard.length >= 1);
    expect(heard).toEqual([{ teamId: team.teamId, idServer: m.idServer, read: 2, unread: 0 }]);
  });
});
