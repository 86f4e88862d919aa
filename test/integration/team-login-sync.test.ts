/**
 * The groups part of the login sync over the wire, in both modes: a device
 * without a `teams` cursor gets every group it is in; a device that logs in
 * with the cursor an earlier login sync left gets only the groups changed
 * since (renamed, joined), plus those it left or that were dismissed,
 * flagged `validToCurrentUser: false`, and none that did not change; each
 * advanced group it is in that the sync sends comes with its members
 * (`teammembers`).
 */
import { afterEach, expect, it } from 'vitest';
import type { Cursors } from '../../client/options.ts';
import type { Team, TeamMember } from '../../engine/protocol/methods/teams.ts';
import { userTeamsSettings } from '../../actors/user-teams/behavior.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';

describeBothModes('groups in the login sync', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);
  afterEach(() => {
    userTeamsSettings.cursorGraceMs = 60_000;
  });

  /** Logs `who` in on `deviceId` with `cursors`; the `teams` and `SuperTeams` lists of its login sync, and the cursors it left. */
  async function login(who: string, deviceId: string, cursors?: Cursors): Promise<{ teams: Team[]; superTeams: Team[]; members: Map<string, string[]>; cursors: Cursors }> {
    const teams: Team[][] = [];
    const superTeams: Team[][] = [];
    const members = new Map<string, string[]>();
    const c = await conns.client(who, {
      deviceId,
      ...(cursors === undefined ? {} : { cursors }),
      on: {
        teams: ((d: Team[]) => teams.push(d)) as never,
        SuperTeams: ((d: Team[]) => superTeams.push(d)) as never,
        teammembers: ((d: { teamId: string; members: TeamMember[] }) => members.set(d.teamId, [...(members.get(d.teamId) ?? []), ...d.members.map((m) => m.account)])) as never,
      },
    });
    await c.synced;
    expect([teams.length, superTeams.length]).toEqual([1, 1]);
    return { teams: teams[0]!, superTeams: superTeams[0]!, members, cursors: c.cursors };
  }

  const ids = (list: Team[]) => list.map((t) => [t.teamId, t.validToCurrentUser ?? true]).sort();

  it('sends every group without a cursor, and only what changed since with one', async () => {
    userTeamsSettings.cursorGraceMs = 0;
    const [o, a] = [account('owner'), account('ann')];
    const oc = await conns.client(o);
    const mk = async (name: string) => (await oc.createTeam({ name, beInviteMode: 'noVerify', accounts: [a] })).team;
    const [renamed, leftBehind, untouched, dismissed] = [await mk('renamed'), await mk('left'), await mk('untouched'), await mk('dismissed')];
    const big = (await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a] })).team;
    await waitFor("the groups in ann's index", async () => (await (await conns.client(a, { deviceId: 'probe' })).getTeams()).length === 4);

    const first = await login(a, 'one');
    expect(ids(first.teams)).toEqual(ids([renamed, leftBehind, untouched, dismissed]));
    expect(ids(first.superTeams)).toEqual([[big.teamId, true]]);
    expect(first.cursors.teams).toBeGreaterThan(0);
    expect([...first.members.keys()].sort()).toEqual([renamed, leftBehind, untouched, dismissed].map((t) => t.teamId).sort());
    for (const list of first.members.values()) expect(list.sort()).toEqual([o, a].sort());

    // Later than the cursor: a rename, a removal, a dismissal, a new group.
    await waitFor('the clock to pass the cursor', () => Date.now() > first.cursors.teams!);
    await oc.updateTeam({ teamId: renamed.teamId, name: 'new name' });
    await oc.removeTeamMembers({ teamId: leftBehind.teamId, accounts: [a] });
    await oc.dismissTeam({ teamId: dismissed.teamId });
    const joined = await mk('joined');
    await waitFor("ann's index to catch up", async () => {
      const list = await (await conns.client(a, { deviceId: 'probe' })).getTeams();
      return list.some((t) => t.teamId === joined.teamId) && !list.some((t) => t.teamId === leftBehind.teamId || t.teamId === dismissed.teamId) && list.some((t) => t.name === 'new name');
    });

    const second = await login(a, 'two', first.cursors);
    expect(ids(second.teams)).toEqual([[renamed.teamId, true], [leftBehind.teamId, false], [dismissed.teamId, false], [joined.teamId, true]].sort());
    expect(second.teams.find((t) => t.teamId === renamed.teamId)).toMatchObject({ name: 'new name' });
    expect(second.teams.find((t) => t.teamId === leftBehind.teamId)).toMatchObject({ name: 'left', validToCurrentUser: false });
    expect(second.superTeams).toEqual([]);
    expect([...second.members.keys()].sort()).toEqual([renamed.teamId, joined.teamId].sort());
    // Nothing changed since the second: the third hears nothing.
    const third = await login(a, 'three', second.cursors);
    expect([third.teams, third.superTeams, third.members.size]).toEqual([[], [], 0]);
    // A fresh device hears the current groups only.
    const fresh = await login(a, 'fresh');
    expect(ids(fresh.teams)).toEqual([[renamed.teamId, true], [untouched.teamId, true], [joined.teamId, true]].sort());
  });

  it("sends a group again when a member's record changed while the device was away, with the member as it now is", async () => {
    userTeamsSettings.cursorGraceMs = 0;
    const [o, a, b] = [account('owner'), account('ann'), account('bob')];
    const oc = await conns.client(o);
    const team = (await oc.createTeam({ name: 'records', beInviteMode: 'noVerify', accounts: [a, b] })).team;
    await waitFor("the group in ann's index", async () => (await (await conns.client(a, { deviceId: 'probe' })).getTeams()).length === 1);
    const first = await login(a, 'one');
    expect(first.members.get(team.teamId)?.sort()).toEqual([o, a, b].sort());
    const quiet = await login(a, 'two', first.cursors);
    expect(quiet.teams).toEqual([]);

    // Only member records change: a nickname, custom fields and an alert setting, a role and a mute.
    await waitFor('the clock to pass the cursor', () => Date.now() > first.cursors.teams!);
    const bc = await conns.client(b);
    await bc.updateInfoInTeam({ teamId: team.teamId, nickInTeam: 'bobby', custom: 'c1', muteNotiType: '1' });
    await oc.addTeamManagers({ teamId: team.teamId, accounts: [b] });
    await oc.updateMuteStateInTeam({ teamId: team.teamId, account: a, mute: true });
    await waitFor("ann's index to see the member time move", async () => {
      const [t] = await (await conns.client(a, { deviceId: 'probe' })).getTeams();
      return (t?.memberUpdateTime ?? 0) > first.cursors.teams!;
    });

    const seen: TeamMember[] = [];
    const c = await conns.client(a, { deviceId: 'three', cursors: first.cursors, on: { teammembers: ((d: { members: TeamMember[] }) => seen.push(...d.members)) as never } });
    await c.synced;
    expect(seen.find((m) => m.account === b)).toMatchObject({ nickInTeam: 'bobby', custom: 'c1', muteNotiType: '1', type: 'manager' });
    expect(seen.find((m) => m.account === a)).toMatchObject({ mute: true });
  });
});
