/**
 * The groups part of the login sync: the account's advanced groups as
 * `teams` and its supergroups as `SuperTeams`, from one call to the
 * account's team index, sent once per login (empty lists too). Without a
 * `teams` cursor each is the whole list; with one (the newest `updateTime`
 * or `memberUpdateTime` the device has seen, ms), only the groups changed
 * since, those the account left or that were dismissed flagged
 * `validToCurrentUser: false`. Then `teammembers` for each advanced group
 * sent that the account is in, read from the group's actor a page at a time.
 * (A group's member list changes bump its `memberUpdateTime`; a member's own
 * record changing alone reaches online devices live.)
 */
import { userTeamsCalls } from '../../actors/user-teams/calls.ts';
import type { TeamsSyncArgs, TeamsSyncReply } from '../../actors/user-teams/calls.ts';
import { teamAddress, userTeamsAddress } from '../../engine/protocol/methods/teams.ts';
import { teamCalls } from '../../actors/team/calls.ts';
import type { MembersSyncArgs, MembersSyncPage } from '../../actors/team/calls.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';
import type { TeamIndexReads } from './super-teams.ts';
import { isPlainObject, isUint } from '../wire.ts';

export class TeamsSyncSource implements LoginSyncSource {
  readonly name = 'teams';
  /** The whole index, when the supergroups part of the same sync read it already. */
  private readonly kept: TeamIndexReads | undefined;

  constructor(kept?: TeamIndexReads) {
    this.kept = kept;
  }

  async sync(run: LoginSyncRun): Promise<void> {
    const teamIds: string[] = [];
    const a: TeamsSyncArgs = isPlainObject(run.cursors) && isUint(run.cursors.teams) ? { after: run.cursors.teams } : {};
    // Without a cursor the whole index is asked for, which this sync may have read already (taken either way, so none is kept past the sync).
    const earlier = this.kept?.take(run.conn);
    await run.pull(
      async () => (a.after === undefined && earlier !== undefined ? earlier.reply : ((await run.read(userTeamsAddress(run.conn.account), 'syncTeams', a, userTeamsCalls.syncTeams.retry)) as Partial<TeamsSyncReply> | undefined)),
      (reply) => {
        run.send({ ev: 'teams', d: Array.isArray(reply?.teams) ? reply.teams : [] });
        run.send({ ev: 'SuperTeams', d: Array.isArray(reply?.superTeams) ? reply.superTeams : [] });
        if (Array.isArray(reply?.teams)) for (const t of reply.teams) if (t.validToCurrentUser !== false) teamIds.push(t.teamId);
      },
    );
    for (const teamId of teamIds) {
      if (run.conn.closed) return;
      await this.members(run, teamId);
    }
  }

  /** `teammembers` of one group, a page at a time (the first even when empty). */
  private async members(run: LoginSyncRun, teamId: string): Promise<void> {
    let from = 0;
    for (;;) {
      const a: MembersSyncArgs = { from };
      if (run.paging.ask !== undefined) a.maxBytes = run.paging.ask;
      const pulled = await run.pull(
        async () => (await run.read(teamAddress(teamId), 'syncMembers', a, teamCalls.syncMembers.retry)) as Partial<MembersSyncPage> | undefined,
        (page) => run.send({ ev: 'teammembers', d: { teamId, members: Array.isArray(page?.members) ? page.members : [] } }),
      );
      const next = pulled?.page?.next;
      if (pulled === undefined || run.conn.closed || typeof next !== 'number' || next <= from) return;
      from = next;
    }
  }
}
