/**
 * The groups part of the login sync: the account's advanced groups as
 * `teams` and its supergroups as `SuperTeams`, each the whole list, from one
 * call to the account's team index, sent once per login (empty lists too,
 * so the client knows it has them all).
 */
import { userTeamsCalls } from '../../actors/user-teams/calls.ts';
import type { TeamsSyncReply } from '../../actors/user-teams/calls.ts';
import { userTeamsAddress } from '../../engine/protocol/methods/teams.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';

export class TeamsSyncSource implements LoginSyncSource {
  readonly name = 'teams';

  async sync(run: LoginSyncRun): Promise<void> {
    await run.pull(
      async () => (await run.read(userTeamsAddress(run.conn.account), 'syncTeams', {}, userTeamsCalls.syncTeams.retry)) as Partial<TeamsSyncReply> | undefined,
      (reply) => {
        run.send({ ev: 'teams', d: Array.isArray(reply?.teams) ? reply.teams : [] });
        run.send({ ev: 'SuperTeams', d: Array.isArray(reply?.superTeams) ? reply.superTeams : [] });
      },
    );
  }
}
