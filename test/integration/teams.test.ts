/**
 * Advanced groups over the wire with the SDK, in both modes: creation and
 * invitations (with and without consent), join requests under each
 * `joinMode`, roles and who may do what, transfer, leaving, dismissal, the
 * member limit, and the group's conversation (delivery to every member's
 * devices in seq order, sessions and unread, history, recall by a manager,
 * notification messages), with every refusal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Message, Session } from '../../engine/protocol/methods.ts';
import type { Team, TeamSysMsg } from '../../engine/protocol/methods/teams.ts';
import { DEFAULT_TEAM_MAX_MEMBERS } from '../../engine/protocol/methods/teams.ts';
import { teamSettings } from '../../actors/team/behavior.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { heard, refusal, people } from '../helpers/groups.ts';

describeBothModes('teams', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);
  afterEach(() => {
    teamSettings.maxMembers = DEFAULT_TEAM_MAX_MEMBERS;
  });

  /** A group owned by clients[0] with the others joined at once. */
  async function group(clients: ParleyClient[], accounts: string[], extra: Record<string, unknown> = {}): Promise<Team> {
    const { team } = await clients[0]!.createTeam({ name: 'g', beInviteMode: 'noVerify', accounts: accounts.slice(1), ...extra });
    return team;
  }

  describe('createTeam', () => {
    it('makes the creator owner; invitees without consent join at once and everyone sees the group', async () => {
      const { accounts: [o, a, b], clients: [oc, ac, bc] } = await people(conns, 'owner', 'ann', 'ben');
      const added = heard<{ accounts: string[] }>(ac!, 'AddTeamMembers');
      const profile = { avatar: 'https://img.example/a.png', announcement: 'rules', antispamBusinessId: 'biz-1' };
      const r = await oc!.createTeam({ name: 'crew', intro: 'hi', custom: '{"k":1}', ...profile, beInviteMode: 'noVerify', accounts: [a!, b!], ps: 'join us' });
      expect(r.owner).toMatchObject({ account: o, type: 'owner' });
      expect([r.accounts, r.ps, r.antispamTag]).toEqual([[a, b], 'join us', '']);
      expect(r.team).toMatchObject({ name: 'crew', intro: 'hi', custom: '{"k":1}', ...profile, owner: o, memberNum: 3, type: 'advanced', joinMode: 'needVerify', inviteMode: 'manager', valid: true });
      await waitFor('ann to hear she joined', () => added.some((d) => d.accounts.includes(a!)));
      const { members } = await bc!.getTeamMembers({ teamId: r.team.teamId });
      expect(members.map((m) => [m.account, m.type]).sort()).toEqual([[o, 'owner'], [a, 'normal'], [b, 'normal']].sort());
      expect(await ac!.getTeam({ teamId: r.team.teamId })).toMatchObject({ teamId: r.team.teamId, memberNum: 3 });
      await waitFor("the group in ben's list", async () => (await bc!.getTeams()).some((t) => t.teamId === r.team.teamId && t.memberNum === 3));
      // A new device of ben's hears his groups in the login sync, before syncdone.
      const synced: Team[][] = [];
      const tablet = await conns.client(b!, { deviceId: 'tablet', on: { teams: ((list: Team[]) => synced.push(list)) as never } });
      await tablet.synced;
      expect(synced.flat().map((t) => t.teamId)).toContain(r.team.teamId);
      const byId = await oc!.getTeamsById({ teamIds: [r.team.teamId, 'nope'] });
      expect(byId.teams.map((t) => t.teamId)).toEqual([r.team.teamId]);
      expect(byId.tids).toEqual(['nope']);
    });

    it('refuses a ps over 5000 characters and an unknown mode; a supergroup with the same id is another group', async () => {
      const { accounts: [, a], clients: [oc, ac] } = await people(conns, 'owner', 'ann');
      await refusal(oc!.createTeam({ name: 'x', ps: 'p'.repeat(5001) }), 'TOO_LARGE', /`ps`/);
      await refusal(oc!.createTeam({ name: 'x', joinMode: 'sometimes' as never }), 'BAD_REQUEST', /`joinMode`/);
      const team = await group([oc!, ac!], ['', a!]);
      await oc!.sendText({ scene: 'team', to: team.teamId, text: 'in the team' });
      await refusal(oc!.sendText({ scene: 'superTeam', to: team.teamId, text: 'x' }), 'NOT_FOUND', /no supergroup/);
      await refusal(oc!.getHistoryMsgs({ scene: 'superTeam', to: team.teamId }), 'NOT_FOUND', /no supergroup/);
      // Supergroups are the host backend's to create unless configured otherwise.
      await refusal(oc!.createSuperTeam({ name: 'big' }), 'FORBIDDEN', /PARLEY_SUPERTEAM_CLIENT_CREATE/);
    });
  });

  describe('invitations', () => {
    it('under needVerify sends teamInvite; accepting joins, once; rejecting tells the inviter, once', async () => {
      const { accounts: [o, a, b], clients: [oc, ac, bc] } = await people(conns, 'owner', 'ann', 'ben');
      const { team } = await oc!.createTeam({ name: 'club' });
      const annInvites = heard<TeamSysMsg>(ac!, 'sysmsg');
      const benInvites = heard<TeamSysMsg>(bc!, 'sysmsg');
      const ownerSys = heard<TeamSysMsg>(oc!, 'sysmsg');
      const r = await oc!.addTeamMembers({ teamId: team.teamId, accounts: [a!, b!], ps: 'come' });
      expect(r).toMatchObject({ invited: [a, b], joined: [] });
      await waitFor('both invitations', () => annInvites.length === 1 && benInvites.length === 1);
      const inv = annInvites[0]!;
      expect(inv).toMatchObject({ type: 'teamInvite', from: o, to: team.teamId, ps: 'come', attach: { team: { teamId: team.teamId } } });
      await refusal(ac!.getTeamMembers({ teamId: team.teamId }), 'NOT_MEMBER', /is not a member/);

      await refusal(ac!.acceptTeamInvite({ teamId: team.teamId, from: o!, idServer: 'wrong' }), 'NOT_FOUND', /no invitation/);
      const { member } = await ac!.acceptTeamInvite({ teamId: team.teamId, from: o!, idServer: inv.idServer });
      expect(member).toMatchObject({ account: a, type: 'normal', invitorAccid: o });
      await refusal(ac!.acceptTeamInvite({ teamId: team.teamId, from: o!, idServer: inv.idServer }), 'CONFLICT', /already answered/);

      await bc!.rejectTeamInvite({ teamId: team.teamId, from: o!, idServer: benInvites[0]!.idServer, ps: 'no thanks' });
      await waitFor('the owner to hear of the rejection', () => ownerSys.some((s) => s.type === 'rejectTeamInvite'));
      expect(ownerSys.find((s) => s.type === 'rejectTeamInvite')).toMatchObject({ from: b, to: team.teamId, ps: 'no thanks' });
      await refusal(bc!.rejectTeamInvite({ teamId: team.teamId, from: o!, idServer: benInvites[0]!.idServer }), 'CONFLICT', /already answered/);
      await refusal(bc!.acceptTeamInvite({ teamId: team.teamId, from: o!, idServer: benInvites[0]!.idServer }), 'CONFLICT', /already answered/);
      expect((await oc!.getTeam({ teamId: team.teamId })).memberNum).toBe(2);
    });

    it('follows inviteMode, refuses non-members and members already in', async () => {
      const { accounts: [, a, b, c], clients: [oc, ac, , cc] } = await people(conns, 'owner', 'ann', 'ben', 'cat');
      const team = await group([oc!, ac!], ['', a!]);
      await refusal(ac!.addTeamMembers({ teamId: team.teamId, accounts: [b!] }), 'FORBIDDEN', /inviteMode is manager/);
      await refusal(cc!.addTeamMembers({ teamId: team.teamId, accounts: [b!] }), 'NOT_MEMBER', /is not a member/);
      await refusal(oc!.addTeamMembers({ teamId: team.teamId, accounts: [a!] }), 'CONFLICT', /already a member/);
      await refusal(oc!.addTeamMembers({ teamId: team.teamId, accounts: [b!], ps: 'p'.repeat(5001) }), 'TOO_LARGE', /`ps`/);
      await oc!.updateTeam({ teamId: team.teamId, inviteMode: 'all' });
      expect(await ac!.addTeamMembers({ teamId: team.teamId, accounts: [c!] })).toMatchObject({ joined: [c] });
      await refusal(oc!.addTeamMembers({ teamId: 'no-such-team', accounts: [b!] }), 'NOT_FOUND', /no team/);
    });

    it('refuses joins past the member limit with TEAM_FULL', async () => {
      const { accounts: [, a, b, c], clients: [oc, , bc, cc] } = await people(conns, 'owner', 'ann', 'ben', 'cat');
      teamSettings.maxMembers = 2;
      await refusal(oc!.createTeam({ name: 'x', beInviteMode: 'noVerify', accounts: [a!, b!] }), 'TEAM_FULL', /at most 2 members/);
      const { team } = await oc!.createTeam({ name: 'x', beInviteMode: 'noVerify', joinMode: 'noVerify', accounts: [a!] });
      await refusal(oc!.addTeamMembers({ teamId: team.teamId, accounts: [b!] }), 'TEAM_FULL', /full/);
      await refusal(cc!.applyTeam({ teamId: team.teamId }), 'TEAM_FULL', /full/);
      expect((await bc!.getTeam({ teamId: team.teamId })).memberNum).toBe(2);
      void c;
    });
  });

  describe('join requests', () => {
    it('follow joinMode: noVerify joins, rejectAll refuses, needVerify asks the managers, answered once', async () => {
      const { accounts: [o, a, b, c], clients: [oc, ac, bc, cc] } = await people(conns, 'owner', 'ann', 'ben', 'cat');
      const open = await group([oc!, ac!], ['', a!], { joinMode: 'noVerify' });
      expect(await bc!.applyTeam({ teamId: open.teamId })).toMatchObject({ joined: true });
      await refusal(bc!.applyTeam({ teamId: open.teamId }), 'CONFLICT', /already a member/);
      const closed = await group([oc!, ac!], ['', a!], { joinMode: 'rejectAll' });
      await refusal(bc!.applyTeam({ teamId: closed.teamId }), 'FORBIDDEN', /rejectAll/);

      const guarded = await group([oc!, ac!], ['', a!]);
      const ownerSys = heard<TeamSysMsg>(oc!, 'sysmsg');
      const benSys = heard<TeamSysMsg>(bc!, 'sysmsg');
      const asked = await bc!.applyTeam({ teamId: guarded.teamId, ps: 'let me in' });
      expect(asked.joined).toBe(false);
      await waitFor('the owner to get the request', () => ownerSys.some((s) => s.type === 'applyTeam'));
      expect(ownerSys.find((s) => s.type === 'applyTeam')).toMatchObject({ from: b, to: guarded.teamId, ps: 'let me in', idServer: asked.idServer });
      await refusal(ac!.passTeamApply({ teamId: guarded.teamId, from: b!, idServer: asked.idServer! }), 'FORBIDDEN', /owner and managers/);
      await oc!.passTeamApply({ teamId: guarded.teamId, from: b!, idServer: asked.idServer! });
      await refusal(oc!.passTeamApply({ teamId: guarded.teamId, from: b!, idServer: asked.idServer! }), 'CONFLICT', /already answered/);
      expect((await bc!.getTeamMembers({ teamId: guarded.teamId })).members.some((m) => m.account === b)).toBe(true);

      const catAsk = await cc!.applyTeam({ teamId: guarded.teamId });
      const catSys = heard<TeamSysMsg>(cc!, 'sysmsg');
      await refusal(bc!.rejectTeamApply({ teamId: guarded.teamId, from: c!, idServer: catAsk.idServer! }), 'FORBIDDEN', /owner and managers/);
      await oc!.rejectTeamApply({ teamId: guarded.teamId, from: c!, idServer: catAsk.idServer!, ps: 'sorry' });
      await waitFor('cat to hear the rejection', () => catSys.some((s) => s.type === 'rejectTeamApply'));
      expect(catSys.find((s) => s.type === 'rejectTeamApply')).toMatchObject({ from: o, to: guarded.teamId, ps: 'sorry' });
      await refusal(oc!.rejectTeamApply({ teamId: guarded.teamId, from: c!, idServer: catAsk.idServer! }), 'CONFLICT', /already answered/);
      await refusal(oc!.passTeamApply({ teamId: guarded.teamId, from: c!, idServer: catAsk.idServer! }), 'CONFLICT', /already answered/);
      void benSys;
    });
  });

  describe('roles', () => {
    it('owner removes anyone, managers only normal members, normal members nobody; managers are the owner\'s to name', async () => {
      const { accounts: [o, a, b, c], clients: [oc, ac, bc, cc] } = await people(conns, 'owner', 'ann', 'ben', 'cat');
      const team = await group([oc!, ac!, bc!, cc!], [o!, a!, b!, c!]);
      await refusal(ac!.addTeamManagers({ teamId: team.teamId, accounts: [b!] }), 'FORBIDDEN', /only the owner/);
      const managersHeard = heard<{ accounts: string[]; isManager: boolean }>(cc!, 'UpdateTeamManagers');
      const r = await oc!.addTeamManagers({ teamId: team.teamId, accounts: [a!, b!] });
      expect(r.members.map((m) => m.type)).toEqual(['manager', 'manager']);
      await waitFor('cat to hear of the managers', () => managersHeard.some((d) => d.isManager && d.accounts.length === 2));
      await refusal(oc!.addTeamManagers({ teamId: team.teamId, accounts: ['stranger'] }), 'NOT_MEMBER', /stranger is not a member/);
      await refusal(ac!.removeTeamMembers({ teamId: team.teamId, accounts: [b!] }), 'FORBIDDEN', /managers may remove normal members only/);
      await refusal(ac!.removeTeamMembers({ teamId: team.teamId, accounts: [o!] }), 'FORBIDDEN', /the owner/);
      await refusal(bc!.removeTeamManagers({ teamId: team.teamId, accounts: [a!] }), 'FORBIDDEN', /only the owner/);
      await oc!.removeTeamManagers({ teamId: team.teamId, accounts: [b!] });
      await refusal(bc!.removeTeamMembers({ teamId: team.teamId, accounts: [c!] }), 'FORBIDDEN', /owner and managers/);

      const removedHeard = heard<{ accounts: string[] }>(cc!, 'RemoveTeamMembers');
      await ac!.removeTeamMembers({ teamId: team.teamId, accounts: [c!] });
      await waitFor('cat to hear she was removed', () => removedHeard.some((d) => d.accounts.includes(c!)));
      await refusal(cc!.sendText({ scene: 'team', to: team.teamId, text: 'still here?' }), 'NOT_MEMBER', /is not a member/);
      await refusal(cc!.getHistoryMsgs({ scene: 'team', to: team.teamId }), 'NOT_MEMBER', /is not a member/);
      await oc!.removeTeamMembers({ teamId: team.teamId, accounts: [a!] });
      await waitFor("the group to leave cat's list", async () => !(await cc!.getTeams()).some((t) => t.teamId === team.teamId));
    });

    it('transfer is the owner\'s, the owner leaves only after it, leave: true leaves at once', async () => {
      const { accounts: [o, a, b], clients: [oc, ac, bc] } = await people(conns, 'owner', 'ann', 'ben');
      const team = await group([oc!, ac!, bc!], [o!, a!, b!]);
      await refusal(ac!.transferTeam({ teamId: team.teamId, account: b! }), 'FORBIDDEN', /only the owner/);
      await refusal(oc!.leaveTeam({ teamId: team.teamId }), 'FORBIDDEN', /must transfer/);
      await refusal(oc!.transferTeam({ teamId: team.teamId, account: 'stranger' }), 'NOT_MEMBER', /not a member/);
      const transfers = heard<{ to: { account: string } }>(bc!, 'TransferTeam');
      const r = await oc!.transferTeam({ teamId: team.teamId, account: a! });
      expect(r).toMatchObject({ team: { owner: a }, from: { account: o, type: 'normal' }, to: { account: a, type: 'owner' } });
      await waitFor('ben to hear of the transfer', () => transfers.some((d) => d.to.account === a));
      await oc!.leaveTeam({ teamId: team.teamId });
      await refusal(oc!.leaveTeam({ teamId: team.teamId }), 'NOT_MEMBER', /not a member/);
      await ac!.transferTeam({ teamId: team.teamId, account: b!, leave: true });
      const { members } = await bc!.getTeamMembers({ teamId: team.teamId });
      expect(members.map((m) => [m.account, m.type])).toEqual([[b, 'owner']]);
    });

    it('dismissal is the owner\'s; members hear it and the group is gone', async () => {
      const { accounts: [o, a], clients: [oc, ac] } = await people(conns, 'owner', 'ann');
      const team = await group([oc!, ac!], [o!, a!]);
      await refusal(ac!.dismissTeam({ teamId: team.teamId }), 'FORBIDDEN', /only the owner/);
      const dismissed = heard<{ teamId: string }>(ac!, 'DismissTeam');
      await oc!.dismissTeam({ teamId: team.teamId });
      await waitFor('ann to hear of the dismissal', () => dismissed.some((d) => d.teamId === team.teamId));
      await refusal(ac!.getTeam({ teamId: team.teamId }), 'NOT_FOUND', /no team/);
      await refusal(ac!.sendText({ scene: 'team', to: team.teamId, text: 'x' }), 'NOT_FOUND', /no team/);
      await waitFor("the group to leave ann's list", async () => !(await ac!.getTeams()).some((t) => t.teamId === team.teamId));
    });

    it('updateTeam follows updateTeamMode and updateCustomMode; members hear UpdateTeam and a notification', async () => {
      const { accounts: [o, a], clients: [oc, ac] } = await people(conns, 'owner', 'ann');
      const team = await group([oc!, ac!], [o!, a!]);
      await refusal(ac!.updateTeam({ teamId: team.teamId, name: 'mine' }), 'FORBIDDEN', /updateTeamMode is manager/);
      await refusal(ac!.updateTeam({ teamId: team.teamId, custom: 'c' }), 'FORBIDDEN', /updateCustomMode is manager/);
      const updates = heard<{ name?: string }>(ac!, 'UpdateTeam');
      const msgs = heard<Message>(ac!, 'msg');
      await oc!.updateTeam({ teamId: team.teamId, updateTeamMode: 'all', updateCustomMode: 'all' });
      expect((await ac!.updateTeam({ teamId: team.teamId, name: 'ours', custom: 'c' })).team).toMatchObject({ name: 'ours', custom: 'c' });
      await refusal(ac!.updateTeam({ teamId: team.teamId, joinMode: 'noVerify' }), 'FORBIDDEN', /policies/);
      await waitFor('the owner\'s edit reaching ann', () => updates.some((u) => u.name === 'ours'));
      await waitFor('the notification messages', () => msgs.filter((m) => m.type === 'notification').length >= 2);
      const note = msgs.find((m) => m.type === 'notification' && (m.attach as { team: Team }).team.name === 'ours')!;
      expect(note).toMatchObject({ scene: 'team', to: team.teamId, sessionId: `team-${team.teamId}`, attach: { type: 'updateTeam' } });
    });
  });

  describe('mutes and member settings', () => {
    it('a muted member gets MUTED; under muteTeamAll only the owner and managers post', async () => {
      const { accounts: [o, a, b], clients: [oc, ac, bc] } = await people(conns, 'owner', 'ann', 'ben');
      const team = await group([oc!, ac!, bc!], [o!, a!, b!]);
      await oc!.addTeamManagers({ teamId: team.teamId, accounts: [a!] });
      await refusal(bc!.updateMuteStateInTeam({ teamId: team.teamId, account: a!, mute: true }), 'FORBIDDEN', /owner and managers/);
      await refusal(ac!.updateMuteStateInTeam({ teamId: team.teamId, account: o!, mute: true }), 'FORBIDDEN', /owner cannot be muted/);
      const muteHeard = heard<{ accounts: string[]; mute: boolean }>(bc!, 'UpdateTeamMembersMute');
      await ac!.updateMuteStateInTeam({ teamId: team.teamId, account: b!, mute: true });
      await waitFor('ben to hear he is muted', () => muteHeard.some((d) => d.mute && d.accounts.includes(b!)));
      await refusal(bc!.sendText({ scene: 'team', to: team.teamId, text: 'x' }), 'MUTED', /is muted/);
      expect((await oc!.getMutedTeamMembers({ teamId: team.teamId })).members.map((m) => m.account)).toEqual([b]);
      await oc!.updateMuteStateInTeam({ teamId: team.teamId, account: b!, mute: false });
      await bc!.sendText({ scene: 'team', to: team.teamId, text: 'free' });

      await refusal(bc!.muteTeamAll({ teamId: team.teamId, mute: true }), 'FORBIDDEN', /owner and managers/);
      expect((await oc!.muteTeamAll({ teamId: team.teamId, mute: true })).team).toMatchObject({ mute: true, muteType: 'all' });
      await refusal(bc!.sendText({ scene: 'team', to: team.teamId, text: 'x' }), 'MUTED', /only its owner and managers may post/);
      await oc!.sendText({ scene: 'team', to: team.teamId, text: 'owner' });
      await ac!.sendText({ scene: 'team', to: team.teamId, text: 'manager' });
      await oc!.muteTeamAll({ teamId: team.teamId, mute: false });
      await bc!.sendText({ scene: 'team', to: team.teamId, text: 'again' });
      expect((await oc!.getMutedTeamMembers({ teamId: team.teamId })).members).toEqual([]);
    });

    it('updateInfoInTeam sets the own record and tells the others; updateNickInTeam is for the owner and managers', async () => {
      const { accounts: [o, a, b], clients: [oc, ac, bc] } = await people(conns, 'owner', 'ann', 'ben');
      const team = await group([oc!, ac!, bc!], [o!, a!, b!]);
      const onOwner = heard<{ account: string; nickInTeam?: string }>(oc!, 'updateteammember');
      const { member } = await ac!.updateInfoInTeam({ teamId: team.teamId, nickInTeam: 'annie', muteNotiType: '2', custom: 'c' });
      expect(member).toMatchObject({ account: a, nickInTeam: 'annie', muteNotiType: '2', custom: 'c' });
      await waitFor('the owner to hear of the nickname', () => onOwner.some((m) => m.account === a && m.nickInTeam === 'annie'));
      await refusal(ac!.updateInfoInTeam({ teamId: team.teamId, muteNotiType: '3' as never }), 'BAD_REQUEST', /`muteNotiType`/);
      await refusal(bc!.updateNickInTeam({ teamId: team.teamId, account: a!, nickInTeam: 'x' }), 'FORBIDDEN', /owner and managers/);
      await oc!.updateNickInTeam({ teamId: team.teamId, account: b!, nickInTeam: 'benny' });
      expect(await ac!.getTeamMemberByTeamIdAndAccount({ teamId: team.teamId, account: b! })).toMatchObject({ [b!]: { nickInTeam: 'benny' } });
      expect(await ac!.getTeamMemberInvitorAccid({ teamId: team.teamId, accounts: [a!, b!, 'stranger'] })).toEqual({ [a!]: o, [b!]: o });
      await refusal(conns.client(account('out')).then((c) => c.getTeamMemberInvitorAccid({ teamId: team.teamId, accounts: [a!] })), 'NOT_MEMBER', /not a member/);
    });
  });

  describe('messages', () => {
    it('reach every device of every member in seq order, count unread for the others, and page as history', async () => {
      const [o, a, b] = [account('owner'), account('ann'), account('ben')];
      const oc = await conns.client(o);
      const phone = await conns.client(a, { deviceId: 'phone' });
      const desk = await conns.client(a, { deviceId: 'desk' });
      const bc = await conns.client(b);
      const team = await group([oc, phone, bc], [o, a, b]);
      const onPhone = heard<Message>(phone, 'msg');
      const onDesk = heard<Message>(desk, 'msg');
      const sent: Message[] = [];
      for (let i = 0; i < 5; i++) sent.push(await (i % 2 === 0 ? oc : bc).sendText({ scene: 'team', to: team.teamId, text: `m${i}` }));
      expect(sent.map((m) => m.seq)).toEqual([...sent.map((m) => m.seq)].sort((x, y) => x - y));
      expect(sent[0]).toMatchObject({ scene: 'team', to: team.teamId, target: team.teamId, sessionId: `team-${team.teamId}`, flow: 'out' });
      for (const list of [onPhone, onDesk]) {
        await waitFor('all five on a device of ann', () => list.filter((m) => m.type === 'text').length === 5);
        const texts = list.filter((m) => m.type === 'text');
        expect(texts.map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
        expect(texts.every((m) => m.flow === 'in')).toBe(true);
      }
      const seqs = onPhone.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      const sessionOf = async (c: ParleyClient): Promise<Session | undefined> => (await c.getServerSessions()).sessionList.find((s) => s.id === `team-${team.teamId}`);
      await waitFor("ann's session to count five", async () => (await sessionOf(phone))?.unread === 5);
      await waitFor("ben's session to count three", async () => (await sessionOf(bc))?.unread === 3);
      const { msgs } = await desk.getHistoryMsgs({ scene: 'team', to: team.teamId, msgTypes: ['text'] });
      expect(msgs.map((m) => m.text)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);

      // The owner recalls ben's message; everyone hears it and history leaves it out.
      const recalls = heard<{ type: string; msg: { idServer: string } }>(desk, 'sysmsg');
      await oc.recallMsg({ msg: sent[1]! });
      await waitFor('the recall to reach the desk', () => recalls.some((r) => r.type === 'deleteMsg' && r.msg.idServer === sent[1]!.idServer));
      await refusal(bc.recallMsg({ msg: sent[0]! }), 'FORBIDDEN', /only the sender, the owner and managers/);
      const after = await phone.getHistoryMsgs({ scene: 'team', to: team.teamId, msgTypes: ['text'] });
      expect(after.msgs.map((m) => m.text)).toEqual(['m4', 'm3', 'm2', 'm0']);
    });

    it('a removed member gets nothing more, live or at login', async () => {
      const { accounts: [o, a, b], clients: [oc, ac, bc] } = await people(conns, 'owner', 'ann', 'ben');
      const team = await group([oc!, ac!, bc!], [o!, a!, b!]);
      await oc!.sendText({ scene: 'team', to: team.teamId, text: 'before' });
      const benMsgs = heard<Message>(bc!, 'msg');
      const annMsgs = heard<Message>(ac!, 'msg');
      await oc!.removeTeamMembers({ teamId: team.teamId, accounts: [b!] });
      await oc!.sendText({ scene: 'team', to: team.teamId, text: 'after' });
      await waitFor('ann to get the message after', () => annMsgs.some((m) => m.text === 'after'));
      expect(benMsgs.some((m) => m.text === 'after')).toBe(false);
      // A fresh device of ben's, without cursors, is sent nothing of the group past his removal.
      const offline: Message[] = [];
      const fresh = await conns.client(b!, { deviceId: 'fresh', on: { offlinemsgs: ((d: { msgs: Message[] }) => offline.push(...d.msgs)) as never } });
      await fresh.synced;
      expect(offline.some((m) => m.text === 'after')).toBe(false);
    });
  });
});
