/**
 * Supergroup member pages by join time over the wire with the SDK, in both
 * modes: `getSuperTeamMembersByJoinTime` after `joinTime` (ascending) or
 * before it with `reverse` (newest first), `limit` defaulting to 100, and
 * members who left flagged `invalid`; `getMutedSuperTeamMembers` paged the
 * same way, muted members who left in `invalid`; and `createSuperTeam`'s
 * answer with its `antispamTag`.
 */
import { expect, it } from 'vitest';
import type { TeamMember } from '../../engine/protocol/methods/teams.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';

describeBothModes('supergroup member pages', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);

  /** A supergroup of the owner and `n` members who joined one after another, each at a later millisecond. */
  async function joinedInTurn(n: number) {
    const o = account('owner');
    const oc = await conns.client(o);
    const created = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', antispamBusinessId: 'biz' });
    expect([created.antispamTag, created.ps, created.accounts]).toEqual(['', '', []]);
    const teamId = created.team.teamId;
    const members = Array.from({ length: n }, (_, i) => account(`m${i}`));
    let last = created.owner.joinTime;
    for (const m of members) {
      await waitFor('the clock to pass the last join', () => Date.now() > last);
      await oc.addSuperTeamMembers({ teamId, accounts: [m] });
      last = Date.now();
    }
    const all = (await oc.getSuperTeamMembersByJoinTime({ teamId })).members;
    expect(all.map((m) => m.account)).toEqual([o, ...members]);
    return { o, oc, teamId, members, joinTimes: new Map(all.map((m) => [m.account, m.joinTime])) };
  }

  const accounts = (list: TeamMember[]) => list.map((m) => m.account);

  it('pages after joinTime ascending, before it with reverse newest first, at most limit; those who left are invalid', async () => {
    const { o, oc, teamId, members: [m0, m1, m2, m3, m4], joinTimes } = await joinedInTurn(5);
    expect(new Set(joinTimes.values()).size).toBe(6);
    await oc.removeSuperTeamMembers({ teamId, accounts: [m2!] });

    const after = await oc.getSuperTeamMembersByJoinTime({ teamId, joinTime: joinTimes.get(m1!)! });
    expect([accounts(after.members), accounts(after.invalid)]).toEqual([[m3, m4], [m2]]);
    expect(after.invalid[0]).toMatchObject({ valid: false, joinTime: joinTimes.get(m2!) });
    const firstTwo = await oc.getSuperTeamMembersByJoinTime({ teamId, joinTime: joinTimes.get(m0!)!, limit: 2 });
    expect([accounts(firstTwo.members), accounts(firstTwo.invalid)]).toEqual([[m1], [m2]]);

    const before = await oc.getSuperTeamMembersByJoinTime({ teamId, joinTime: joinTimes.get(m3!)!, reverse: true });
    expect([accounts(before.members), accounts(before.invalid)]).toEqual([[m1, m0, o], [m2]]);
    const newest = await oc.getSuperTeamMembersByJoinTime({ teamId, reverse: true, limit: 2 });
    expect(accounts(newest.members)).toEqual([m4, m3]);
    // Paging on from the last of a page reaches every member once.
    const next = await oc.getSuperTeamMembersByJoinTime({ teamId, joinTime: newest.members[1]!.joinTime, reverse: true, limit: 2 });
    expect([accounts(next.members), accounts(next.invalid)]).toEqual([[m1], [m2]]);
  });

  it('getMutedSuperTeamMembers pages the muted by join time; a muted member who left comes back invalid', async () => {
    const { oc, teamId, members: [m0, m1, m2, m3], joinTimes } = await joinedInTurn(4);
    await oc.updateSuperTeamMembersMute({ teamId, accounts: [m0!, m1!, m3!], mute: true });
    expect(accounts((await oc.getMutedSuperTeamMembers({ teamId })).members)).toEqual([m0, m1, m3]);
    expect(accounts((await oc.getMutedSuperTeamMembers({ teamId, limit: 1 })).members)).toEqual([m0]);
    expect(accounts((await oc.getMutedSuperTeamMembers({ teamId, joinTime: joinTimes.get(m2!)!, reverse: true })).members)).toEqual([m1, m0]);

    await oc.removeSuperTeamMembers({ teamId, accounts: [m1!] });
    await oc.updateSuperTeamMembersMute({ teamId, accounts: [m3!], mute: false });
    const muted = await oc.getMutedSuperTeamMembers({ teamId });
    expect([accounts(muted.members), accounts(muted.invalid)]).toEqual([[m0], [m1]]);
    expect(muted.invalid[0]).toMatchObject({ valid: false, mute: true });
    void m2;
  });
});
