/**
 * The login sync's supergroup part, run before the sessions: subscribes the
 * socket to its supergroups' messages (the account's team index names them)
 * and brings its supergroup sessions up to date from each group, so the
 * sessions that follow show their newest message and unread count. It
 * sends no frame of its own.
 */
import { userTeamsCalls } from '../../actors/user-teams/calls.ts';
import type { TeamsSyncReply } from '../../actors/user-teams/calls.ts';
import { userTeamsAddress } from '../../engine/protocol/methods/teams.ts';
import type { GroupFanout } from '../groups.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';

export class SuperTeamsSyncSource implements LoginSyncSource {
  readonly name = 'superTeams';
  private readonly groups: GroupFanout;

  constructor(groups: GroupFanout) {
    this.groups = groups;
  }

  async sync(run: LoginSyncRun): Promise<void> {
    const reply = (await run.read(userTeamsAddress(run.conn.account), 'syncTeams', {}, userTeamsCalls.syncTeams.retry)) as Partial<TeamsSyncReply> | undefined;
    const ids = Array.isArray(reply?.superTeams) ? reply.superTeams.map((t) => t.teamId).filter((id): id is string => typeof id === 'string') : [];
    if (ids.length === 0) return;
    await this.groups.attach(run.conn, ids);
    await this.groups.refreshSessions(run.conn, (address, m, a) => run.read(address, m, a, 'idempotent'));
  }
}
