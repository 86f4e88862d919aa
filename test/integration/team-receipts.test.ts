/**
 * Team read receipts over the wire with the SDK, in both modes: receipts in
 * batches, the sender's `TeamMsgReceipt` once per changed message per batch,
 * repeats that change nothing, exact counts and accounts as membership
 * changes, and every refusal.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import type { TeamMsgReads } from '../../engine/protocol/methods/team-receipts.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { heard, refusal } from '../helpers/groups.ts';

describeBothModes('team receipts', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  /** A group of fresh accounts owned by the first, the others joined at once. */
  async function group(...names: string[]): Promise<{ teamId: string; accounts: string[]; clients: ParleyClient[] }> {
    const accounts = names.map((n) => account(n));
    const clients = await Promise.all(accounts.map((a) => conns.client(a)));
    const { team } = await clients[0]!.createTeam({ name: 'g', beInviteMode: 'noVerify', joinMode: 'noVerify', accounts: accounts.slice(1) });
    return { teamId: team.teamId, accounts, clients };
  }

  const ref = (teamId: string, m: Message) => ({ teamId, idServer: m.idServer, idClient: m.idClient });
  const counts = (teamId: string, m: Message, read: number, unread: number): TeamMsgReads => ({ teamId, idServer: m.idServer, read, unread });

  it('aggregates a batch into one TeamMsgReceipt per changed message; repeats change nothing; counts and accounts are exact', async () => {
    const { teamId, accounts: [o, a, b, c], clients: [oc, ac, bc, cc] } = await group('owner', 'ann', 'ben', 'cat');
    const receipts = heard<TeamMsgReads>(oc!, 'TeamMsgReceipt');
    const m1 = await oc!.sendText({ scene: 'team', to: teamId, text: 'one', needMsgReceipt: true });
    const m2 = await oc!.sendText({ scene: 'team', to: teamId, text: 'two', needMsgReceipt: true });
    expect(m1.needMsgReceipt).toBe(true);

    // A batch naming m1 twice counts ann once per message.
    const r = await ac!.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, m1), ref(teamId, m2), ref(teamId, m1)] });
    expect(r.teamMsgReceipts).toHaveLength(3);
    await waitFor('the owner to hear both counts', () => receipts.length >= 2);
    expect(receipts).toEqual([counts(teamId, m1, 1, 2), counts(teamId, m2, 1, 2)]);

    // Repeats, and the sender's own receipt, change nothing: the next event heard is ben's.
    await ac!.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, m1), ref(teamId, m2)] });
    await oc!.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, m1)] });
    await bc!.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, m1)] });
    await waitFor("the owner to hear ben's receipt", () => receipts.length >= 3);
    expect(receipts).toEqual([counts(teamId, m1, 1, 2), counts(teamId, m2, 1, 2), counts(teamId, m1, 2, 1)]);

    // Any member may ask; the answers are in the order asked.
    expect((await cc!.getTeamMsgReads({ teamMsgReceipts: [ref(teamId, m2), ref(teamId, m1)] })).teamMsgReceipts).toEqual([counts(teamId, m2, 1, 2), counts(teamId, m1, 2, 1)]);
    const who = await oc!.getTeamMsgReadAccounts({ teamMsgReceipt: ref(teamId, m1) });
    expect(who).toEqual({ teamId, idServer: m1.idServer, readAccounts: expect.any(Array), unreadAccounts: [c] });
    expect([...who.readAccounts].sort()).toEqual([a, b].sort());
    const who2 = await ac!.getTeamMsgReadAccounts({ teamMsgReceipt: ref(teamId, m2) });
    expect(who2.readAccounts).toEqual([a]);
    expect([...who2.unreadAccounts].sort()).toEqual([b, c].sort());
    expect(who2.readAccounts).not.toContain(o);
    expect(who2.unreadAccounts).not.toContain(o);
  });

  it('counts the members at send time who are still members: later joiners change nothing, those who leave drop out', async () => {
    const { teamId, accounts: [, a, b, c], clients: [oc, ac, bc] } = await group('owner', 'ann', 'ben', 'cat');
    const receipts = heard<TeamMsgReads>(oc!, 'TeamMsgReceipt');
    const m = await oc!.sendText({ scene: 'team', to: teamId, text: 'hello', needMsgReceipt: true });
    const d = account('dan');
    const dc = await conns.client(d);
    await dc.applyTeam({ teamId });
    // Dan joined after the send: his receipt is taken and counts for nothing.
    await dc.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, m)] });
    await ac!.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, m)] });
    await waitFor("the owner to hear ann's receipt", () => receipts.length >= 1);
    expect(receipts).toEqual([counts(teamId, m, 1, 2)]);
    expect((await dc.getTeamMsgReadAccounts({ teamMsgReceipt: ref(teamId, m) })).readAccounts).toEqual([a]);

    // Ann (a reader) leaves and cat (unread) is removed: neither counts any more.
    await ac!.leaveTeam({ teamId });
    await oc!.removeTeamMembers({ teamId, accounts: [c!] });
    expect((await oc!.getTeamMsgReads({ teamMsgReceipts: [ref(teamId, m)] })).teamMsgReceipts).toEqual([counts(teamId, m, 0, 1)]);
    expect(await bc!.getTeamMsgReadAccounts({ teamMsgReceipt: ref(teamId, m) })).toEqual({ teamId, idServer: m.idServer, readAccounts: [], unreadAccounts: [b] });
    await bc!.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, m)] });
    await waitFor("the owner to hear ben's receipt", () => receipts.length >= 2);
    expect(receipts[1]).toEqual(counts(teamId, m, 1, 0));
  });

  it("tells the reader's other devices what it read, with the counts; the device that sent it has its reply", async () => {
    const { teamId, accounts: [, a], clients: [oc] } = await group('owner', 'ann', 'ben');
    const phone = await conns.client(a!, { deviceId: 'phone' });
    const desk = await conns.client(a!, { deviceId: 'desk' });
    await Promise.all([phone.synced, desk.synced]);
    const [atPhone, atDesk, atOwner] = [heard<TeamMsgReads>(phone, 'TeamMsgReceipt'), heard<TeamMsgReads>(desk, 'TeamMsgReceipt'), heard<TeamMsgReads>(oc!, 'TeamMsgReceipt')];
    const m1 = await oc!.sendText({ scene: 'team', to: teamId, text: 'one', needMsgReceipt: true });
    const m2 = await oc!.sendText({ scene: 'team', to: teamId, text: 'two', needMsgReceipt: true });
    await phone.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, m1), ref(teamId, m2)] });
    await waitFor('the desk to hear both', () => atDesk.length === 2);
    expect(atDesk).toEqual([counts(teamId, m1, 1, 1), counts(teamId, m2, 1, 1)]);
    // A repeat counts nothing new: the desk hears nothing more; the owner hears the first counts only.
    await desk.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, m1)] });
    await waitFor('the owner to hear both', () => atOwner.length === 2);
    const marker = await oc!.sendText({ scene: 'team', to: teamId, text: 'marker', needMsgReceipt: true });
    await desk.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, marker)] });
    await waitFor('the phone to hear the marker', () => atPhone.some((r) => r.idServer === marker.idServer));
    expect(atPhone).toEqual([counts(teamId, marker, 1, 1)]);
    expect(atDesk).toHaveLength(2);
  });

  it('refuses receipts for messages without needMsgReceipt (naming the message), unknown messages, other groups and non-members', async () => {
    const { teamId, clients: [oc, ac] } = await group('owner', 'ann');
    const other = await group('owner2', 'bob');
    const plain = await oc!.sendText({ scene: 'team', to: teamId, text: 'no receipts' });
    const asked = await oc!.sendText({ scene: 'team', to: teamId, text: 'receipts', needMsgReceipt: true });
    const receipts = heard<TeamMsgReads>(oc!, 'TeamMsgReceipt');

    await refusal(ac!.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, plain)] }), 'BAD_REQUEST', new RegExp(`${plain.idServer}.*not sent with needMsgReceipt`));
    // A batch with one such message is refused whole, naming it by position.
    await refusal(ac!.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, asked), ref(teamId, plain)] }), 'BAD_REQUEST', new RegExp(`teamMsgReceipts\\[1\\] \\(${plain.idServer}\\)`));
    await refusal(ac!.getTeamMsgReads({ teamMsgReceipts: [ref(teamId, plain)] }), 'BAD_REQUEST', /not sent with needMsgReceipt/);
    await refusal(ac!.getTeamMsgReadAccounts({ teamMsgReceipt: ref(teamId, plain) }), 'BAD_REQUEST', /not sent with needMsgReceipt/);
    await refusal(ac!.sendTeamMsgReceipt({ teamMsgReceipts: [{ teamId, idServer: '12345' }] }), 'NOT_FOUND', /12345.*is not a message of group/);
    await refusal(ac!.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, asked), { teamId: other.teamId, idServer: asked.idServer }] }), 'BAD_REQUEST', /every message of one call must be in group/);
    await refusal(ac!.sendTeamMsgReceipt({ teamMsgReceipts: [] }), 'BAD_REQUEST', /teamMsgReceipts/);
    await refusal(ac!.sendTeamMsgReceipt({ teamMsgReceipts: [{ teamId, idServer: '' }] }), 'BAD_REQUEST', /idServer/);
    await refusal(ac!.sendTeamMsgReceipt({ teamMsgReceipts: Array.from({ length: 101 }, () => ref(teamId, asked)) }), 'BAD_REQUEST', /teamMsgReceipts/);

    // Not a member: NOT_MEMBER for each method.
    const bob = other.clients[1]!;
    await refusal(bob.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, asked)] }), 'NOT_MEMBER', /is not a member/);
    await refusal(bob.getTeamMsgReads({ teamMsgReceipts: [ref(teamId, asked)] }), 'NOT_MEMBER', /is not a member/);
    await refusal(bob.getTeamMsgReadAccounts({ teamMsgReceipt: ref(teamId, asked) }), 'NOT_MEMBER', /is not a member/);

    // None of the refused receipts counted.
    expect((await ac!.getTeamMsgReads({ teamMsgReceipts: [ref(teamId, asked)] })).teamMsgReceipts).toEqual([counts(teamId, asked, 0, 1)]);
    await ac!.sendTeamMsgReceipt({ teamMsgReceipts: [ref(teamId, asked)] });
    await waitFor('the owner to hear the accepted receipt', () => receipts.length >= 1);
    expect(receipts).toEqual([counts(teamId, asked, 1, 0)]);
  });
});
