/**
 * Team read receipts across a crash: kill -9 the engine right after a
 * receipt is acknowledged, restart it on the same data (and the same NATS
 * server), and the read sets are as they were: the counts and accounts
 * answer the same, a repeated receipt changes nothing, a new one counts.
 */
import { expect, it } from 'vitest';
import type { TeamMsgReads } from '../../engine/protocol/methods/team-receipts.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useCrashableEngines } from '../helpers/crashable-engines.ts';

describeBothModes('team receipts across kill -9', ({ name, engineOptions }) => {
  const { start, client, dataDir } = useCrashableEngines(engineOptions);

  it('keeps who read each message', async () => {
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
