/**
 * The group methods the edge answers by calling several group actors, or
 * one group several times: who invited whom (asked of the group in batches
 * of `INVITOR_BATCH` accounts, the reference's batches of 200, merged into
 * one answer) and the caller's alert setting in each of several groups.
 */
import type { Args, Results } from '../engine/protocol/methods.ts';
import { INVITOR_BATCH, teamAddress } from '../engine/protocol/methods/teams.ts';
import type { Conn } from './connection.ts';
import { forEachBounded } from './login-sync.ts';
import type { PeopleServices } from './people.ts';

/** Group actors `notifyForNewTeamMsg` asks concurrently. */
export const ALERT_SETTINGS_CONCURRENCY = 16;

type TeamEdgeMethod = 'getTeamMemberInvitorAccid' | 'notifyForNewTeamMsg';

export const TEAM_EDGE_ANSWERS: {
  readonly [M in TeamEdgeMethod]: (services: PeopleServices, conn: Conn, args: Args<M>) => Promise<Results[M]>;
} = {
  async getTeamMemberInvitorAccid(services, conn, args) {
    const accounts = [...new Set(args.accounts)];
    const pairs: [string, string][] = [];
    // One batch after another: the first also answers NOT_FOUND / NOT_MEMBER before any more is asked.
    for (let i = 0; i < accounts.length; i += INVITOR_BATCH) {
      const batch = (await services.call(conn, teamAddress(args.teamId), 'invitors', { accounts: accounts.slice(i, i + INVITOR_BATCH) }, 'idempotent')) as Record<string, string>;
      pairs.push(...Object.entries(batch));
    }
    // Built from pairs: an account named like an Object.prototype member stays a key of its own.
    return Object.fromEntries(pairs);
  },
  async notifyForNewTeamMsg(services, conn, args) {
    const teamIds = [...new Set(args.teamIds)];
    const found = new Map<string, '0' | '1' | '2'>();
    await forEachBounded(teamIds, ALERT_SETTINGS_CONCURRENCY, async (teamId) => {
      const r = (await services.call(conn, teamAddress(teamId), 'alertSetting', {}, 'idempotent')) as { muteNotiType?: '0' | '1' | '2' };
      if (r.muteNotiType !== undefined) found.set(teamId, r.muteNotiType);
    });
    return Object.fromEntries(teamIds.filter((teamId) => found.has(teamId)).map((teamId) => [teamId, found.get(teamId)!]));
  },
};
