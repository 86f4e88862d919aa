/**
 * The groups part of the login sync: the account's advanced groups as
 * `teams` and its supergroups as `SuperTeams`, each the whole list from the
 * account's team index, sent once per login (empty lists too, so the
 * client knows it has them all).
 */
import { registry } from '../../engine/protocol/methods.ts';
import { userTeamsAddress } from '../../engine/protocol/methods/teams.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';

export class TeamsSyncSource implements LoginSyncSource {
  readonly name = 'teams';

  async sync(run: LoginSyncRun): Promise<void> {
    const address = userTeamsAddress(run.conn.account);
    for (const [m, ev] of [['getTeams', 'teams'], ['getSuperTeams', 'SuperTeams']] as const) {
      const pulled = await run.pull(
        () => run.read(address, m, {}, registry[m].retry),
        (teams) => run.send({ ev, d: Array.isArray(teams) ? teams : [] }),
      );
      if (pulled === undefined) return;
    }
  }
}
