/**
 * Group limits and the finer role rules, over the wire with the SDK, in both
 * modes and both group scenes, on an engine configured with
 * `PARLEY_TEAM_MAX_MEMBERS=4` and `PARLEY_SUPERTEAM_MAX_MEMBERS=3`: the
 * configured limit is the group's `level` and refuses every way in past it
 * (invitation accepted, request approved) with TEAM_FULL; managers may not
 * mute managers nor rename the owner; a nickname set by the owner or a
 * manager reaches every member as the member callback and the group update;
 * a muted member taking the group over is unmuted.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { TeamKind, TeamSysMsg } from '../../engine/protocol/methods/teams.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { heard, people, refusal } from '../helpers/groups.ts';

const LIMIT: Record<TeamKind, number> = { team: 4, superTeam: 3 };

/** Calls the scene's method: the team name, or its SuperTeam twin. */
function call<R = unknown>(c: ParleyClient, scene: TeamKind, team: string, args: Record<string, unknown>): Promise<R> {
  const names: Record<string, string> = {
    createTeam: 'createSuperTeam',
    addTeamMembers: 'addSuperTeamMembers',
    acceptTeamInvite: 'acceptSuperTeamInvite',
    applyTeam: 'applySuperTeam',
    passTeamApply: 'passSuperTeamApply',
    addTeamManagers: 'addSuperTeamManagers',
    updateNickInTeam: 'updateNickInSuperTeam',
    transferTeam: 'transferSuperTeam',
    getTeam: 'getSuperTeam',
    updateTeam: 'updateSuperTeam',
  };
  const m = (scene === 'team' ? team : names[team]!) as keyof ParleyClient;
  return (c[m] as unknown as (a: Record<string, unknown>) => Promise<R>).call(c, args);
}

/** Mutes `account` in the scene. */
function mute(c: ParleyClient, scene: TeamKind, teamId: string, account: string): Promise<unknown> {
  return scene === 'team' ? c.updateMuteStateInTeam({ teamId, account, mute: true }) : c.updateSuperTeamMembersMute({ teamId, accounts: [account], mute: true });
}

describeBothModes('group limits and roles', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true', PARLEY_TEAM_MAX_MEMBERS: String(LIMIT.team), PARLEY_SUPERTEAM_MAX_MEMBERS: String(LIMIT.superTeam) } });
  const conns = useConnections(() => engine.url);

  for (const scene of ['team', 'superTeam'] as const) {
    const cb = (base: string) => (scene === 'team' ? base : base === 'updateteammember' ? 'UpdateSuperTeamMember' : base.replace('Team', 'SuperTeam'));

    describe(scene, () => {
      it('the configured member limit is the level and refuses an accepted invitation and an approved request past it', async () => {
        const n = LIMIT[scene];
        const { accounts, clients } = await people(conns, ...Array.from({ length: n + 2 }, (_, i) => `p${i}`));
        const [oc] = clients;
        const inside = accounts.slice(1, n - 1);
        const [invitee, applicant] = accounts.slice(n - 1);
        const { team } = await call<{ team: { teamId: string; level: number; memberNum: number } }>(oc!, scene, 'createTeam', { name: 'g', accounts: [] });
        expect(team.level).toBe(n);
        const teamId = team.teamId;
        // Under needVerify nobody joins until they accept: invite one past the limit, fill the group, then accept.
        const invites = heard<TeamSysMsg>(clients[n - 1]!, 'sysmsg');
        await call(oc!, scene, 'addTeamMembers', { teamId, accounts: [invitee] });
        await waitFor('the invitation', () => invites.length === 1);
        const asked = await call<{ idServer: string }>(clients[n]!, scene, 'applyTeam', { teamId });
        const sysmsgs = await Promise.all(inside.map(async (a, i) => {
          const got = heard<TeamSysMsg>(clients[i + 1]!, 'sysmsg');
          await call(oc!, scene, 'addTeamMembers', { teamId, accounts: [a] });
          await waitFor('an invitation', () => got.length === 1);
          return got[0]!;
        }));
        await Promise.all(sysmsgs.map((s, i) => call(clients[i + 1]!, scene, 'acceptTeamInvite', { teamId, from: s.from, idServer: s.idServer })));
        const late = await call<{ idServer: string }>(clients[n + 1]!, scene, 'applyTeam', { teamId });
        // n - 1 members now; one more fits.
        expect((await call<{ memberNum: number }>(oc!, scene, 'getTeam', { teamId })).memberNum).toBe(n - 1);
        await call(oc!, scene, 'passTeamApply', { teamId, from: applicant, idServer: asked.idServer });
        await refusal(call(clients[n - 1]!, scene, 'acceptTeamInvite', { teamId, from: accounts[0], idServer: invites[0]!.idServer }), 'TEAM_FULL', new RegExp(`at most ${n} members`));
        await refusal(call(oc!, scene, 'passTeamApply', { teamId, from: accounts[n + 1], idServer: late.idServer }), 'TEAM_FULL', new RegExp(`at most ${n} members`));
        expect((await call<{ memberNum: number }>(oc!, scene, 'getTeam', { teamId })).memberNum).toBe(n);
      });

      it('managers may not mute managers nor rename the owner; a nickname set for another reaches every member twice', async () => {
        const { accounts: [o, m1, m2], clients: [oc, mc1, mc2] } = await people(conns, 'owner', 'mgr1', 'mgr2');
        const { team } = await call<{ team: { teamId: string } }>(oc!, scene, 'createTeam', { name: 'g', beInviteMode: 'noVerify', accounts: [m1, m2] });
        const teamId = team.teamId;
        await call(oc!, scene, 'addTeamManagers', { teamId, accounts: [m1, m2] });
        await refusal(mute(mc1!, scene, teamId, m2!), 'FORBIDDEN', /managers may mute normal members only/);
        await refusal(mute(mc1!, scene, teamId, o!), 'FORBIDDEN', /owner cannot be muted/);
        await refusal(call(mc1!, scene, 'updateNickInTeam', { teamId, account: o, nickInTeam: 'boss' }), 'FORBIDDEN', /may not set the owner's nickname/);

        const [memberAtOwner, memberAtM2] = [heard<{ account: string; nickInTeam?: string }>(oc!, cb('updateteammember')), heard<{ account: string; nickInTeam?: string }>(mc2!, cb('updateteammember'))];
        const updates = [oc!, mc2!, mc1!].map((c) => heard<{ teamId: string }>(c, cb('UpdateTeam')));
        await call(mc1!, scene, 'updateNickInTeam', { teamId, account: m2, nickInTeam: 'second' });
        for (const [who, list] of [['the owner', memberAtOwner], ['mgr2', memberAtM2]] as const) {
          await waitFor(`${who} to hear the member change`, () => list.some((d) => d.account === m2 && d.nickInTeam === 'second'));
        }
        for (const list of updates) await waitFor(`every member to hear ${cb('UpdateTeam')}`, () => list.some((d) => d.teamId === teamId));
      });

      it('invitations and join requests wait for offline accounts until their next login, and are answered from there', async () => {
        const { accounts: [o, m, inv, app], clients: [oc, mc] } = await people(conns, 'owner', 'mgr', 'invitee', 'applicant');
        const { team } = await call<{ team: { teamId: string } }>(oc!, scene, 'createTeam', { name: 'g', beInviteMode: 'noVerify', accounts: [m] });
        const teamId = team.teamId;
        await call(oc!, scene, 'addTeamManagers', { teamId, accounts: [m] });
        await call(oc!, scene, 'updateTeam', { teamId, beInviteMode: 'needVerify' });
        await mc!.disconnect();
        const invited = heard<TeamSysMsg>(oc!, 'sysmsg');
        // The invitee and the applicant were never online; the manager goes offline before the request.
        const applicantFirst = await conns.client(app!, { deviceId: 'first' });
        await call(oc!, scene, 'addTeamMembers', { teamId, accounts: [inv], ps: 'join us' });
        const asked = await call<{ idServer: string }>(applicantFirst, scene, 'applyTeam', { teamId, ps: 'me too' });
        await waitFor('the owner to get the request live', () => invited.some((x) => x.idServer === asked.idServer));

        const kept = async (who: string, deviceId: string) => {
          const got: TeamSysMsg[] = [];
          const c = await conns.client(who, { deviceId, on: { offlinesysmsgs: ((d: TeamSysMsg[]) => got.push(...d)) as never } });
          await c.synced;
          return { c, got };
        };
        const invitee = await kept(inv!, 'phone');
        const invitation = invitee.got.find((x) => x.type === (scene === 'team' ? 'teamInvite' : 'superTeamInvite'))!;
        expect(invitation).toMatchObject({ from: o, to: teamId, ps: 'join us', attach: { team: { teamId } } });
        const manager = await kept(m!, 'desk');
        const request = manager.got.find((x) => x.type === (scene === 'team' ? 'applyTeam' : 'applySuperTeam'))!;
        expect(request).toMatchObject({ from: app, to: teamId, ps: 'me too', idServer: asked.idServer });

        await call(invitee.c, scene, 'acceptTeamInvite', { teamId, from: o, idServer: invitation.idServer });
        expect((await call<{ memberNum: number }>(oc!, scene, 'getTeam', { teamId })).memberNum).toBe(3);
        // The applicant, offline by now, hears the manager's answer at its next login.
        await applicantFirst.disconnect();
        const reject = scene === 'team' ? manager.c.rejectTeamApply.bind(manager.c) : manager.c.rejectSuperTeamApply.bind(manager.c);
        await reject({ teamId, from: app!, idServer: request.idServer, ps: 'full' });
        // The rejection is posted once the answer is durable, just after its reply: a login may come before it.
        let tries = 0;
        let answer: TeamSysMsg | undefined;
        await waitFor("the rejection in a login sync of the applicant's", async () => {
          const applicant = await kept(app!, `try-${++tries}`);
          await applicant.c.disconnect();
          answer = applicant.got.find((x) => x.type === (scene === 'team' ? 'rejectTeamApply' : 'rejectSuperTeamApply'));
          return answer !== undefined;
        });
        expect(answer).toMatchObject({ from: m, to: teamId, ps: 'full' });
        // Acknowledged, they are not sent again at the next login.
        await manager.c.markSysMsgRead([{ idServer: request.idServer }]);
        const again = await kept(m!, 'tablet');
        expect(again.got.some((x) => x.idServer === request.idServer)).toBe(false);
      });

      it('a muted member taking the group over is unmuted and may post', async () => {
        const { accounts: [, a], clients: [oc, ac] } = await people(conns, 'owner', 'ann');
        const { team } = await call<{ team: { teamId: string } }>(oc!, scene, 'createTeam', { name: 'g', beInviteMode: 'noVerify', accounts: [a] });
        await mute(oc!, scene, team.teamId, a!);
        await refusal(ac!.sendText({ scene, to: team.teamId, text: 'x' }), 'MUTED', /is muted/);
        const r = await call<{ to: { account: string; type: string; mute: boolean } }>(oc!, scene, 'transferTeam', { teamId: team.teamId, account: a });
        expect(r.to).toMatchObject({ account: a, type: 'owner', mute: false });
        await ac!.sendText({ scene, to: team.teamId, text: 'mine now' });
      });
    });
  }
});
