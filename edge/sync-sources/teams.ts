/**
 * The groups part of the login sync: the account's advanced groups as
 * `teams` and its supergroups as `SuperTeams`, each the whole list, from one
 * call to the account's team index, sent once per login (empty lists too,
 * so the client knows it has them all). The supergroups are handed to the
 * edge's fan-out (`onSuperTeams`) before `syncdone`, so the socket gets
 * their messages from then on.
 */
import { userTeamsCalls } from '../../actors/user-teams/calls.ts';
import type { TeamsSyncReply } from '../../actors/user-teams/calls.ts';
import { userTeamsAddress } from '../../engine/protocol/methods/teams.ts';
import type { Conn } from '../connection.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';

/** Subscribes a logged-in socket to its supergroups' messages; resolves once they reach it. */
export type SuperTeamsAttach = (conn: Conn, teamIds: readonly string[]) => Promise<void>;

export class TeamsSyncSource implements LoginSyncSource {
  readonly name = 'teams';
  private readonly onSuperTeams: SuperTeamsAttach | undefined;

  constructor(onSuperTeams?: SuperTeamsAttach) {
    this.onSuperTeams = onSuperTeams;
  }

  async sync(run: LoginSyncRun): Promise<void> {
    const got = await run.pull(
      async () => (await run.read(userTeamsAddress(run.conn.account), 'syncTeams', {}, userTeamsCalls.syncTeams.retry)) as Partial<TeamsSyncReply> | undefined,
      (reply) => {
        run.send({ ev: 'teams', d: Array.isArray(reply?.teams) ? reply.teams : [] });
        run.send({ ev: 'SuperTeams', d: Array.isArray(reply?.superTeams) ? reply.superTeams : [] });
      },
    );
    const superTeams = got?.page?.superTeams;
    if (this.onSuperTeams !== undefined && Array.isArray(superTeams) && superTeams.length > 0) {
      await this.onSuperTeams(run.conn, superTeams.map((t) => t.teamId));
    }
  }
}
