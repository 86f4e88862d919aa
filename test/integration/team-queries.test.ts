/**
 * Group queries that span batches, chunks or groups, over the wire with the
 * SDK, in both modes: `getTeamMemberInvitorAccid` past one batch of 200,
 * `notifyForNewTeamMsg` over several groups, and `getAllSuperTeamMembers`
 * chunk after chunk with those who left flagged invalid.
 */
import { afterEach, expect, it } from 'vitest';
import { SUPER_TEAM_MEMBERS_CHUNK, DEFAULT_TEAM_MAX_MEMBERS, INVITOR_BATCH } from '../../engine/protocol/methods/teams.ts';
import type { TeamKind, TeamMember } from '../../engine/protocol/methods/teams.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import { teamSettings } from '../../actors/team/behavior.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';

describeBothModes('group queries', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);
  afterEach(() => {
    teamSettings.maxMembers = DEFAULT_TEAM_MAX_MEMBERS;
    teamSettings.membersChunk = SUPER_TEAM_MEMBERS_CHUNK;
  });

  async function refusal(p: Promise<unknown>, name: string, pattern: RegExp): Promise<void> {
    const err = await rejectionOf(p);
    expect(err).toMatchObject({ name });
    expect(err.message).toMatch(pattern);
  }

  it('getTeamMemberInvitorAccid answers more than one batch of 200 in one map; outsiders are NOT_MEMBER', async () => {
    teamSettings.maxMembers = 2 * INVITOR_BATCH + 10;
    const [o, m] = [account('owner'), account('mgr')];
    const oc = await conns.client(o);
    const mc = await conns.client(m);
    const byOwner = Array.from({ length: INVITOR_BATCH - 1 }, (_, i) => account(`o${i}`));
    const byManager = Array.from({ length: INVITOR_BATCH }, (_, i) => account(`m${i}`));
    const { team } = await oc.createTeam({ name: 'big', beInviteMode: 'noVerify', inviteMode: 'all', accounts: [m, ...byOwner] });
    await mc.addTeamMembers({ teamId: team.teamId, accounts: byManager });
    // Interleaved, so that every batch holds some of each, plus a stranger and a repeat.
    const asked = byOwner.flatMap((a, i) => [a, byManager[i]!]).concat(byManager[INVITOR_BATCH - 1]!, 'stranger', byOwner[0]!);
    expect(asked.length).toBeGreaterThan(2 * INVITOR_BATCH);
    const r = await mc.getTeamMemberInvitorAccid({ teamId: team.teamId, accounts: asked });
    expect(Object.keys(r).length).toBe(byOwner.length + byManager.length);
    for (const a of byOwner) expect(r[a]).toBe(o);
    for (const a of byManager) expect(r[a]).toBe(m);
    expect(r.stranger).toBeUndefined();
    const outsider = await conns.client(account('out'));
    await refusal(outsider.getTeamMemberInvitorAccid({ teamId: team.teamId, accounts: asked }), 'NOT_MEMBER', /is not a member/);
    await refusal(oc.getTeamMemberInvitorAccid({ teamId: 'no-such-team', accounts: [m] }), 'NOT_FOUND', /no team/);
  });

  it('notifyForNewTeamMsg answers the caller\'s alert setting in each of its groups, leaving out the others', async () => {
    const [o, a] = [account('owner'), account('ann')];
    const oc = await conns.client(o);
    const ac = await conns.client(a);
    const quiet = (await oc.createTeam({ name: 'quiet', beInviteMode: 'noVerify', accounts: [a] })).team;
    const loud = (await oc.createTeam({ name: 'loud', beInviteMode: 'noVerify', accounts: [a] })).team;
    const bosses = (await oc.createTeam({ name: 'bosses', beInviteMode: 'noVerify', accounts: [a] })).team;
    const notMine = (await oc.createTeam({ name: 'not mine' })).team;
    await ac.updateInfoInTeam({ teamId: quiet.teamId, muteNotiType: '1' });
    await ac.updateInfoInTeam({ teamId: bosses.teamId, muteNotiType: '2' });
    const r = await ac.notifyForNewTeamMsg({ teamIds: [quiet.teamId, loud.teamId, bosses.teamId, notMine.teamId, 'no-such-team'] });
    expect(r).toEqual({ [quiet.teamId]: '1', [loud.teamId]: '0', [bosses.teamId]: '2' });
    await ac.updateInfoInTeam({ teamId: quiet.teamId, muteNotiType: '0' });
    expect(await ac.notifyForNewTeamMsg({ teamIds: [quiet.teamId] })).toEqual({ [quiet.teamId]: '0' });
    // A supergroup id is another group: not an advanced group of hers.
    const big = (await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [a] })).team;
    expect(await ac.notifyForNewTeamMsg({ teamIds: [big.teamId] })).toEqual({});
    await refusal(ac.notifyForNewTeamMsg({ teamIds: [] }), 'BAD_REQUEST', /`teamIds`/);
  });

  it('getAllSuperTeamMembers hands every member over in chunks, those who left flagged invalid; outsiders are NOT_MEMBER', async () => {
    teamSettings.membersChunk = 3;
    const o = account('owner');
    const oc = await conns.client(o);
    const others = Array.from({ length: 7 }, (_, i) => account(`s${i}`));
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: others });
    await oc.removeSuperTeamMembers({ teamId: team.teamId, accounts: [others[2]!] });
    const members: TeamMember[] = [];
    const invalid: TeamMember[] = [];
    let next: string | undefined;
    let chunks = 0;
    do {
      const chunk = await oc.getAllSuperTeamMembers(next === undefined ? { teamId: team.teamId } : { teamId: team.teamId, next });
      expect(chunk.members.length + chunk.invalid.length).toBeLessThanOrEqual(3);
      members.push(...chunk.members);
      invalid.push(...chunk.invalid);
      next = chunk.next;
      chunks++;
    } while (next !== undefined && chunks < 10);
    expect(chunks).toBe(3);
    expect(members.map((m) => m.account).sort()).toEqual([o, ...others.filter((_, i) => i !== 2)].sort());
    expect(invalid.map((m) => [m.account, m.valid])).toEqual([[others[2], false]]);
    await refusal(oc.getAllSuperTeamMembers({ teamId: team.teamId, next: 'garbage' }), 'BAD_REQUEST', /`next`/);
    const outsider = await conns.client(account('out'));
    await refusal(outsider.getAllSuperTeamMembers({ teamId: team.teamId }), 'NOT_MEMBER', /is not a member/);
  });

  for (const scene of ['team', 'superTeam'] as const satisfies readonly TeamKind[]) {
    it(`${scene}: the alert strategy marks what it silences isMuted for that member only, live and at login`, async () => {
      const [o, m, a, b] = [account('owner'), account('mgr'), account('ann'), account('ben')];
      const [oc, mc, ac, bc] = await Promise.all([o, m, a, b].map((x) => conns.client(x)));
      const create = scene === 'team' ? oc!.createTeam.bind(oc) : oc!.createSuperTeam.bind(oc);
      const { team } = await create({ name: 'g', beInviteMode: 'noVerify', accounts: [m, a, b] });
      if (scene === 'team') await oc!.addTeamManagers({ teamId: team.teamId, accounts: [m] });
      else await oc!.addSuperTeamManagers({ teamId: team.teamId, accounts: [m] });
      const setInfo = (c: typeof ac, muteNotiType: '0' | '1' | '2') =>
        scene === 'team' ? c!.updateInfoInTeam({ teamId: team.teamId, muteNotiType }) : c!.updateInfoInSuperTeam({ teamId: team.teamId, muteNotiType });
      await setInfo(ac, '2');
      await setInfo(bc, '1');
      const atAnn: Message[] = [];
      const atBen: Message[] = [];
      const atMgr: Message[] = [];
      ac!.on('msg', (d) => atAnn.push(d));
      bc!.on('msg', (d) => atBen.push(d));
      mc!.on('msg', (d) => atMgr.push(d));
      await mc!.sendText({ scene, to: team.teamId, text: 'from a manager' });
      await bc!.sendText({ scene, to: team.teamId, text: 'from a member' });
      const texts = (list: Message[]) => list.filter((x) => x.type === 'text').length;
      await waitFor('both messages at each member', () => texts(atAnn) === 2 && texts(atBen) === 1 && texts(atMgr) === 1);
      const muted = (list: Message[]) => list.filter((x) => x.type === 'text').map((x) => [x.text, x.isMuted === true]);
      expect(muted(atAnn)).toEqual([['from a manager', false], ['from a member', true]]);
      expect(muted(atBen)).toEqual([['from a manager', true]]);
      expect(muted(atMgr)).toEqual([['from a member', false]]);
      // A new device of ann's gets the same marks in its login sync.
      const offline: Message[] = [];
      const fresh = await conns.client(a, { deviceId: 'fresh', on: { offlinemsgs: ((d: { msgs: Message[] }) => offline.push(...d.msgs)) as never } });
      await fresh.synced;
      expect(muted(offline.filter((x) => x.to === team.teamId))).toEqual([['from a manager', false], ['from a member', true]]);
    });
  }
});
