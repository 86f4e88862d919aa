/**
 * The advanced group's rules under the SuperTeam names, over the wire with
 * the SDK, in both modes, each with its refusal: `inviteMode`,
 * `updateTeamMode` / `updateCustomMode`, `joinMode` with pass / reject
 * answered once, rejected invitations answered once, roles (managers are
 * the owner's to name; managers remove normal members only), the member
 * limit (TEAM_FULL), nicknames, the whole-group mute (owner and managers
 * still post), transfer with `leave`, and non-members (NOT_MEMBER for
 * history, posts and members; a removed member gets nothing more).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import type { Team, TeamSysMsg } from '../../engine/protocol/methods/teams.ts';
import { DEFAULT_SUPER_TEAM_MAX_MEMBERS } from '../../engine/protocol/methods/teams.ts';
import { teamSettings } from '../../actors/team/behavior.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { heard, refusal, people } from '../helpers/groups.ts';

describeBothModes('supergroup rules', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);
  afterEach(() => {
    teamSettings.superTeamMaxMembers = DEFAULT_SUPER_TEAM_MAX_MEMBERS;
  });

  /** A supergroup owned by the first account with the others joined at once. */
  async function group(owner: ParleyClient, members: string[], extra: Record<string, unknown> = {}): Promise<Team> {
    return (await owner.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: members, ...extra })).team;
  }

  describe('policies', () => {
    it('inviteMode, updateTeamMode and updateCustomMode decide who may invite and edit; members hear UpdateSuperTeam', async () => {
      const { accounts: [, a, b, c], clients: [oc, ac, , cc] } = await people(conns, 'owner', 'ann', 'ben', 'cat');
      const team = await group(oc!, [a!]);
      await refusal(ac!.addSuperTeamMembers({ teamId: team.teamId, accounts: [b!] }), 'FORBIDDEN', /inviteMode is manager/);
      await refusal(cc!.addSuperTeamMembers({ teamId: team.teamId, accounts: [b!] }), 'NOT_MEMBER', /is not a member/);
      await refusal(oc!.addSuperTeamMembers({ teamId: team.teamId, accounts: [a!] }), 'CONFLICT', /already a member/);
      await refusal(oc!.addSuperTeamMembers({ teamId: team.teamId, accounts: [b!], ps: 'p'.repeat(5001) }), 'TOO_LARGE', /`ps`/);
      await refusal(ac!.updateSuperTeam({ teamId: team.teamId, name: 'mine' }), 'FORBIDDEN', /updateTeamMode is manager/);
      await refusal(ac!.updateSuperTeam({ teamId: team.teamId, custom: 'c' }), 'FORBIDDEN', /updateCustomMode is manager/);
      const updates = heard<{ name?: string }>(ac!, 'UpdateSuperTeam');
      await oc!.updateSuperTeam({ teamId: team.teamId, inviteMode: 'all', updateTeamMode: 'all', updateCustomMode: 'all' });
      await waitFor('ann to hear the update', () => updates.length >= 1);
      expect((await ac!.updateSuperTeam({ teamId: team.teamId, name: 'ours', custom: 'c' })).team).toMatchObject({ name: 'ours', custom: 'c' });
      await refusal(ac!.updateSuperTeam({ teamId: team.teamId, joinMode: 'noVerify' }), 'FORBIDDEN', /policies/);
      expect(await ac!.addSuperTeamMembers({ teamId: team.teamId, accounts: [c!] })).toMatchObject({ joined: [c] });
    });

    it('the member limit refuses joins with TEAM_FULL', async () => {
      const { accounts: [, a, b, c], clients: [oc, , , cc] } = await people(conns, 'owner', 'ann', 'ben', 'cat');
      teamSettings.superTeamMaxMembers = 2;
      await refusal(oc!.createSuperTeam({ name: 'x', beInviteMode: 'noVerify', accounts: [a!, b!] }), 'TEAM_FULL', /at most 2 members/);
      const team = await group(oc!, [a!], { joinMode: 'noVerify' });
      await refusal(oc!.addSuperTeamMembers({ teamId: team.teamId, accounts: [b!] }), 'TEAM_FULL', /full/);
      await refusal(cc!.applySuperTeam({ teamId: team.teamId }), 'TEAM_FULL', /full/);
      void c;
    });
  });

  describe('answers', () => {
    it('joinMode decides a request; pass and reject are the owner\'s and managers\', each answered once', async () => {
      const { accounts: [, a, b, c], clients: [oc, ac, bc, cc] } = await people(conns, 'owner', 'ann', 'ben', 'cat');
      const open = await group(oc!, [a!], { joinMode: 'noVerify' });
      expect(await bc!.applySuperTeam({ teamId: open.teamId })).toMatchObject({ joined: true });
      await refusal(bc!.applySuperTeam({ teamId: open.teamId }), 'CONFLICT', /already a member/);
      const closed = await group(oc!, [a!], { joinMode: 'rejectAll' });
      await refusal(bc!.applySuperTeam({ teamId: closed.teamId }), 'FORBIDDEN', /rejectAll/);

      const guarded = await group(oc!, [a!]);
      const ownerSys = heard<TeamSysMsg>(oc!, 'sysmsg');
      const catSys = heard<TeamSysMsg>(cc!, 'sysmsg');
      const asked = await bc!.applySuperTeam({ teamId: guarded.teamId, ps: 'let me in' });
      expect(asked.joined).toBe(false);
      await waitFor('the owner to get the request', () => ownerSys.some((s) => s.type === 'applySuperTeam'));
      await refusal(ac!.passSuperTeamApply({ teamId: guarded.teamId, from: b!, idServer: asked.idServer! }), 'FORBIDDEN', /owner and managers/);
      await oc!.passSuperTeamApply({ teamId: guarded.teamId, from: b!, idServer: asked.idServer! });
      await refusal(oc!.passSuperTeamApply({ teamId: guarded.teamId, from: b!, idServer: asked.idServer! }), 'CONFLICT', /already answered/);
      const catAsk = await cc!.applySuperTeam({ teamId: guarded.teamId });
      await oc!.rejectSuperTeamApply({ teamId: guarded.teamId, from: c!, idServer: catAsk.idServer!, ps: 'sorry' });
      await waitFor('cat to hear the rejection', () => catSys.some((s) => s.type === 'rejectSuperTeamApply'));
      await refusal(oc!.passSuperTeamApply({ teamId: guarded.teamId, from: c!, idServer: catAsk.idServer! }), 'CONFLICT', /already answered/);
    });

    it('a rejected invitation tells the inviter, and cannot be answered again', async () => {
      const { accounts: [o, a], clients: [oc, ac] } = await people(conns, 'owner', 'ann');
      const { team } = await oc!.createSuperTeam({ name: 'club' });
      const invites = heard<TeamSysMsg>(ac!, 'sysmsg');
      const ownerSys = heard<TeamSysMsg>(oc!, 'sysmsg');
      await oc!.addSuperTeamMembers({ teamId: team.teamId, accounts: [a!] });
      await waitFor('the invitation', () => invites.length === 1);
      await ac!.rejectSuperTeamInvite({ teamId: team.teamId, from: o!, idServer: invites[0]!.idServer, ps: 'no' });
      await waitFor('the owner to hear it', () => ownerSys.some((s) => s.type === 'rejectSuperTeamInvite'));
      expect(ownerSys.find((s) => s.type === 'rejectSuperTeamInvite')).toMatchObject({ from: a, to: team.teamId, ps: 'no' });
      await refusal(ac!.acceptSuperTeamInvite({ teamId: team.teamId, from: o!, idServer: invites[0]!.idServer }), 'CONFLICT', /already answered/);
      await refusal(ac!.rejectSuperTeamInvite({ teamId: team.teamId, from: o!, idServer: invites[0]!.idServer }), 'CONFLICT', /already answered/);
    });
  });

  describe('roles and members', () => {
    it('managers are the owner\'s to name; managers remove normal members only; a removed member is NOT_MEMBER and gets nothing more', async () => {
      const { accounts: [o, a, b, c], clients: [oc, ac, bc, cc] } = await people(conns, 'owner', 'ann', 'ben', 'cat');
      const team = await group(oc!, [a!, b!, c!]);
      await refusal(ac!.addSuperTeamManagers({ teamId: team.teamId, accounts: [b!] }), 'FORBIDDEN', /only the owner/);
      const managers = heard<{ isManager: boolean; accounts: string[] }>(cc!, 'UpdateSuperTeamManagers');
      await oc!.addSuperTeamManagers({ teamId: team.teamId, accounts: [a!, b!] });
      await waitFor('cat to hear of the managers', () => managers.some((d) => d.isManager && d.accounts.length === 2));
      await refusal(ac!.removeSuperTeamMembers({ teamId: team.teamId, accounts: [b!] }), 'FORBIDDEN', /managers may remove normal members only/);
      await refusal(ac!.removeSuperTeamMembers({ teamId: team.teamId, accounts: [o!] }), 'FORBIDDEN', /the owner/);
      await refusal(bc!.removeSuperTeamManagers({ teamId: team.teamId, accounts: [a!] }), 'FORBIDDEN', /only the owner/);
      await oc!.removeSuperTeamManagers({ teamId: team.teamId, accounts: [b!] });
      await refusal(bc!.removeSuperTeamMembers({ teamId: team.teamId, accounts: [c!] }), 'FORBIDDEN', /owner and managers/);
      await refusal(bc!.updateNickInSuperTeam({ teamId: team.teamId, account: c!, nickInTeam: 'x' }), 'FORBIDDEN', /owner and managers/);
      const nicks = heard<{ account: string; nickInTeam?: string }>(cc!, 'UpdateSuperTeamMember');
      await ac!.updateNickInSuperTeam({ teamId: team.teamId, account: b!, nickInTeam: 'benny' });
      await waitFor('cat to hear the nickname', () => nicks.some((m) => m.account === b && m.nickInTeam === 'benny'));

      const removed = heard<{ accounts: string[] }>(cc!, 'RemoveSuperTeamMembers');
      const catMsgs = heard<Message>(cc!, 'msg');
      await ac!.removeSuperTeamMembers({ teamId: team.teamId, accounts: [c!] });
      await waitFor('cat to hear she was removed', () => removed.some((d) => d.accounts.includes(c!)));
      const after = await oc!.sendText({ scene: 'superTeam', to: team.teamId, text: 'after' });
      await refusal(cc!.sendText({ scene: 'superTeam', to: team.teamId, text: 'x' }), 'NOT_MEMBER', /is not a member/);
      await refusal(cc!.getHistoryMsgs({ scene: 'superTeam', to: team.teamId }), 'NOT_MEMBER', /is not a member/);
      await refusal(cc!.getSuperTeamMembersByAccounts({ teamId: team.teamId, accounts: [o!] }), 'NOT_MEMBER', /is not a member/);
      // Ben gets the message after cat's removal: had cat been sent it, it would have reached her first.
      const benMsgs = heard<Message>(bc!, 'msg');
      await oc!.sendText({ scene: 'superTeam', to: team.teamId, text: 'later' });
      await waitFor('ben to get a later message', () => benMsgs.some((m) => m.text === 'later'));
      expect(catMsgs.some((m) => m.idServer === after.idServer || m.text === 'later')).toBe(false);
    });

    it('under updateSuperTeamMute only the owner and managers post; a normal member cannot mute; transfer with leave leaves at once', async () => {
      const { accounts: [o, a, b], clients: [oc, ac, bc] } = await people(conns, 'owner', 'ann', 'ben');
      const team = await group(oc!, [a!, b!]);
      await oc!.addSuperTeamManagers({ teamId: team.teamId, accounts: [a!] });
      await refusal(bc!.updateSuperTeamMute({ teamId: team.teamId, mute: true }), 'FORBIDDEN', /owner and managers/);
      await refusal(bc!.updateSuperTeamMembersMute({ teamId: team.teamId, accounts: [a!], mute: true }), 'FORBIDDEN', /owner and managers/);
      await ac!.updateSuperTeamMute({ teamId: team.teamId, mute: true });
      await refusal(bc!.sendText({ scene: 'superTeam', to: team.teamId, text: 'x' }), 'MUTED', /only its owner and managers may post/);
      await oc!.sendText({ scene: 'superTeam', to: team.teamId, text: 'owner' });
      await ac!.sendText({ scene: 'superTeam', to: team.teamId, text: 'manager' });
      await oc!.updateSuperTeamMute({ teamId: team.teamId, mute: false });
      await bc!.sendText({ scene: 'superTeam', to: team.teamId, text: 'free' });

      await refusal(oc!.transferSuperTeam({ teamId: team.teamId, account: 'stranger' }), 'NOT_MEMBER', /not a member/);
      const transfers = heard<{ to: { account: string } }>(bc!, 'TransferSuperTeam');
      await oc!.transferSuperTeam({ teamId: team.teamId, account: a!, leave: true });
      await waitFor('ben to hear of the transfer', () => transfers.some((d) => d.to.account === a));
      const { members } = await bc!.getSuperTeamMembersByAccounts({ teamId: team.teamId, accounts: [o!, a!] });
      expect(members.map((m) => [m.account, m.type])).toEqual([[a, 'owner']]);
      await refusal(oc!.leaveSuperTeam({ teamId: team.teamId }), 'NOT_MEMBER', /not a member/);
      await refusal(oc!.dismissSuperTeam({ teamId: team.teamId }), 'NOT_MEMBER', /not a member/);
    });
  });
});
