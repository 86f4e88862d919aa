/**
 * The groups part of the login sync: the account's advanced groups as
 * `teams` and its supergroups as `SuperTeams`, from one call to the
 * account's team index, sent once per login (empty lists too). Without a
 * `teams` cursor each is the whole list; with one (the newest `updateTime`
 * or `memberUpdateTime` the device has seen, ms), only the groups changed
 * since, those the account left or that were dismissed flagged
 * `validToCurrentUser: false`.
 */
import { userTeamsCalls } from '../../actors/user-teams/calls.ts';
import type { TeamsSyncArgs, TeamsSyncReply } from '../../actors/user-teams/calls.ts';
import { userTeamsAddress } from '../../engine/protocol/methods/teams.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';
import { isPlainObject, isUint } from '../wire.ts';

export class TeamsSyncSource implements LoginSyncSource {
  readonly name = 'teams';

  async sync(run: LoginSyncRun): Promise<void> {
    const a: TeamsSyncArgs = isPlainObject(run.cursors) && isUint(run.cursors.teams) ? { after: run.cursors.teams } : {};
    await run.pull(
      async () => (await run.read(userTeamsAddress(run.conn.account), 'syncTeams', a, userTeamsCalls.syncTeams.retry)) as Partial<TeamsSyncReply> | undefined,
      (reply) => {
        run.send({ ev: 'teams', d: Array.isArray(reply?.teams) ? reply.teams : [] });
        run.send({ ev: 'SuperTeams', d: Array.isArray(reply?.superTeams) ? reply.superTeams : [] });
      },
    );
  }
}
