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
import type { Conn } from '../connection.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';

/**
 * The account's whole team index as this sync read it, kept for the groups
 * part of the same sync (`TeamsSyncSource`), which asks the same when the
 * device sent no `teams` cursor: one read instead of two per login.
 */
export class TeamIndexReads {
  private readonly byConn = new WeakMap<Conn, Partial<TeamsSyncReply> | undefined>();

  keep(conn: Conn, reply: Partial<TeamsSyncReply> | undefined): void {
    this.byConn.set(conn, reply);
  }

  /** The reply kept for `conn`, once (then forgotten); undefined when none was kept. */
  take(conn: Conn): { reply: Partial<TeamsSyncReply> | undefined } | undefined {
    if (!this.byConn.has(conn)) return undefined;
    const reply = this.byConn.get(conn);
    this.byConn.delete(conn);
    return { reply };
  }
}

export class SuperTeamsSyncSource implements LoginSyncSource {
  readonly name = 'superTeams';
  private readonly groups: GroupFanout;
  private readonly kept: TeamIndexReads | undefined;

  constructor(groups: GroupFanout, kept?: TeamIndexReads) {
    this.groups = groups;
    this.kept = kept;
  }

  async sync(run: LoginSyncRun): Promise<void> {
    const reply = (await run.read(userTeamsAddress(run.conn.account), 'syncTeams', {}, userTeamsCalls.syncTeams.retry)) as Partial<TeamsSyncReply> | undefined;
    this.kept?.keep(run.conn, reply);
    const ids = Array.isArray(reply?.superTeams) ? reply.superTeams.map((t) => t.teamId).filter((id): id is string => typeof id === 'string') : [];
    if (ids.length === 0) return;
    await this.groups.attach(run.conn, ids);
    await this.groups.refreshSessions(run.conn, (address, m, a) => run.read(address, m, a, 'idempotent'));
  }
}
