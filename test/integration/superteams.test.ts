/**
 * Supergroups over the wire with the SDK, in both modes, with clients
 * allowed to create them (`PARLEY_SUPERTEAM_CLIENT_CREATE`): their own
 * invitations and callbacks under the SuperTeam names, members paged by join
 * time with those who left flagged invalid, member mutes whose notification
 * reaches everyone but the operator, and the supergroup conversation.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import type { TeamSysMsg } from '../../engine/protocol/methods/teams.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { heard, refusal, people } from '../helpers/groups.ts';

describeBothModes('supergroups', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);

  describe('lifecycle', () => {
    it('invites with superTeamInvite, answers once, and lists the supergroup apart from teams', async () => {
      const { accounts: [o, a], clients: [oc, ac] } = await people(conns, 'owner', 'ann');
      const created = heard<{ team: { teamId: string } }>(oc!, 'CreateSuperTeam');
      const { team } = await oc!.createSuperTeam({ name: 'big' });
      await waitFor('the creator to hear of it', () => created.length === 1);
      const invites = heard<TeamSysMsg>(ac!, 'sysmsg');
      const added = heard<{ accounts: string[] }>(oc!, 'AddSuperTeamMembers');
      await oc!.addSuperTeamMembers({ teamId: team.teamId, accounts: [a!] });
      await waitFor('the invitation', () => invites.length === 1);
      expect(invites[0]).toMatchObject({ type: 'superTeamInvite', scene: 'superTeam', from: o, to: team.teamId });
      await ac!.acceptSuperTeamInvite({ teamId: team.teamId, from: o!, idServer: invites[0]!.idServer });
      await refusal(ac!.acceptSuperTeamInvite({ teamId: team.teamId, from: o!, idServer: invites[0]!.idServer }), 'CONFLICT', /already answered/);
      await waitFor('the owner to hear ann joined', () => added.some((d) => d.accounts.includes(a!)));
      await waitFor("the supergroup in ann's list", async () => (await ac!.getSuperTeams()).some((t) => t.teamId === team.teamId));
      expect((await ac!.getTeams()).some((t) => t.teamId === team.teamId)).toBe(false);
      await refusal(ac!.getTeam({ teamId: team.teamId }), 'NOT_FOUND', /no team/);
      expect(await ac!.getSuperTeam({ teamId: team.teamId })).toMatchObject({ memberNum: 2, owner: o });
      await refusal(ac!.transferSuperTeam({ teamId: team.teamId, account: o! }), 'FORBIDDEN', /only the owner/);
      await refusal(oc!.leaveSuperTeam({ teamId: team.teamId }), 'FORBIDDEN', /must transfer/);
      await refusal(ac!.dismissSuperTeam({ teamId: team.teamId }), 'FORBIDDEN', /only the owner/);
    });

    it('pages members by join time, with those who left flagged invalid', async () => {
      const { accounts: [o, a, b, c], clients: [oc, ac, , cc] } = await people(conns, 'owner', 'ann', 'ben', 'cat');
      const { team } = await oc!.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a!, b!, c!] });
      await oc!.removeSuperTeamMembers({ teamId: team.teamId, accounts: [b!] });
      await cc!.leaveSuperTeam({ teamId: team.teamId });
      const all = await ac!.getSuperTeamMembersByJoinTime({ teamId: team.teamId });
      expect(all.members.map((m) => m.account).sort()).toEqual([o, a].sort());
      expect(all.invalid.map((m) => m.account).sort()).toEqual([b, c].sort());
      expect(all.invalid.every((m) => m.valid === false)).toBe(true);
      const one = await ac!.getSuperTeamMembersByJoinTime({ teamId: team.teamId, limit: 1 });
      expect(one.members.length + one.invalid.length).toBe(1);
      const byAccounts = await oc!.getSuperTeamMembersByAccounts({ teamId: team.teamId, accounts: [a!, b!, 'stranger'] });
      expect(byAccounts.members.map((m) => m.account)).toEqual([a]);
      expect(byAccounts.invalid.map((m) => m.account)).toEqual([b]);
      await refusal(cc!.getSuperTeamMembersByJoinTime({ teamId: team.teamId }), 'NOT_MEMBER', /not a member/);
      await refusal(ac!.getSuperTeamMembersByJoinTime({ teamId: team.teamId, limit: 101 }), 'BAD_REQUEST', /`limit`/);
    });
  });

  describe('messages and mutes', () => {
    it('delivers to every member; muting members tells everyone but the operator and refuses their posts', async () => {
      const { accounts: [o, a, b], clients: [oc, ac, bc] } = await people(conns, 'owner', 'ann', 'ben');
      const { team } = await oc!.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a!, b!] });
      const annMsgs = heard<Message>(ac!, 'msg');
      const ownerMsgs = heard<Message>(oc!, 'msg');
      const sent = await bc!.sendText({ scene: 'superTeam', to: team.teamId, text: 'hello big' });
      expect(sent).toMatchObject({ scene: 'superTeam', to: team.teamId, sessionId: `superTeam-${team.teamId}` });
      await waitFor('ann to get it', () => annMsgs.some((m) => m.idServer === sent.idServer));
      expect((await ac!.getHistoryMsgs({ scene: 'superTeam', to: team.teamId, msgTypes: ['text'] })).msgs.map((m) => m.text)).toEqual(['hello big']);
      const sid = `superTeam-${team.teamId}`;
      await waitFor("ann's session to count it", async () => (await ac!.getServerSessions()).sessionList.find((s) => s.id === sid)?.unread === 1);
      expect((await ac!.resetSuperTeamSessionsUnread([sid])).sessionList).toMatchObject([{ id: sid, unread: 0 }]);
      expect((await ac!.getServerSessions()).sessionList.find((s) => s.id === sid)?.unread).toBe(0);
      await refusal(ac!.resetSuperTeamSessionsUnread([`p2p-${o}`]), 'BAD_REQUEST', /`sessionIds\[0\]` must be a supergroup session id/);

      const muteHeard = heard<{ accounts: string[]; mute: boolean }>(oc!, 'UpdateSuperTeamMembersMute');
      await oc!.updateSuperTeamMembersMute({ teamId: team.teamId, accounts: [b!], mute: true });
      await waitFor('the mute callback', () => muteHeard.some((d) => d.mute));
      await waitFor('ann to get the mute notification', () => annMsgs.some((m) => m.type === 'notification' && (m.attach as { type: string }).type === 'updateMemberMute'));
      await refusal(bc!.sendText({ scene: 'superTeam', to: team.teamId, text: 'x' }), 'MUTED', /is muted/);
      expect((await ac!.getMutedSuperTeamMembers({ teamId: team.teamId })).members.map((m) => m.account)).toEqual([b]);
      // A message after the notification: once the owner has it, the notification would have come before it.
      await ac!.sendText({ scene: 'superTeam', to: team.teamId, text: 'after' });
      await waitFor('the owner to get the message after', () => ownerMsgs.some((m) => m.text === 'after'));
      expect(ownerMsgs.some((m) => m.type === 'notification' && (m.attach as { type: string }).type === 'updateMemberMute')).toBe(false);

      await oc!.updateSuperTeamMute({ teamId: team.teamId, mute: true });
      await refusal(ac!.sendText({ scene: 'superTeam', to: team.teamId, text: 'x' }), 'MUTED', /only its owner and managers/);
      await oc!.dismissSuperTeam({ teamId: team.teamId });
      await refusal(ac!.getSuperTeam({ teamId: team.teamId }), 'NOT_FOUND', /no supergroup/);
    });
  });
});
