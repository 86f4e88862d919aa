/**
 * The login sync's supergroup recall notices: for each supergroup the
 * socket was attached to, the `deleteMsg` notices of the recalls the group
 * keeps that the device has not heard, sent as `offlinesysmsgs` (the frame
 * an advanced group's or a p2p recall reaches an offline device in, each
 * notice as an online device heard it in `sysmsg`). A supergroup keeps no
 * notification store per member, so it cannot know which device heard
 * which notice. The device's `sysmsgs` cursor says: the recall notice is a
 * system notification, and like a stored custom one it goes to each device
 * once, those newer than the newest the device saw; the SDK moves that
 * cursor on each supergroup recall notice it gets, live or here. (A
 * session's cursor, `seqs`, numbers messages, and a recall of an old
 * message comes after newer ones.) Run after the attach, so a recall made
 * meanwhile reaches the socket live or here (the SDK drops a repeat by its
 * `idServer`).
 */
import { teamCalls } from '../../actors/team/calls.ts';
import type { RecallSyncArgs, RecallSyncPage } from '../../actors/team/recall-notices.ts';
import { superTeamAddress } from '../../engine/protocol/methods/teams.ts';
import type { GroupFanout } from '../groups.ts';
import { forEachBounded } from '../login-sync.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';
import { isPlainObject, isUint } from '../wire.ts';

/** Supergroups read at once. */
const GROUPS_AT_ONCE = 4;
/** Most pages read per group: a bound on a misbehaving reply, far above what `KEPT_RECALLS` notices fill. */
const MAX_PAGES = 300;

export class SuperTeamRecallsSyncSource implements LoginSyncSource {
  readonly name = 'supergroup recall notices';
  private readonly groups: GroupFanout;

  constructor(groups: GroupFanout) {
    this.groups = groups;
  }

  async sync(run: LoginSyncRun): Promise<void> {
    const teams = this.groups.teamsOf(run.conn);
    if (teams.length === 0) return;
    const c = run.cursors;
    const since = isPlainObject(c) && isUint(c.sysmsgs) ? c.sysmsgs : undefined;
    await forEachBounded(teams, GROUPS_AT_ONCE, async (teamId) => {
      let after: [number, number] | undefined;
      for (let pages = 0; pages < MAX_PAGES && !run.conn.closed; pages++) {
        const a: RecallSyncArgs = { viewer: run.conn.account };
        if (since !== undefined) a.since = since;
        if (after !== undefined) a.after = after;
        if (run.paging.ask !== undefined) a.maxBytes = run.paging.ask;
        const pulled = await run.pull(
          async () => (await run.read(superTeamAddress(teamId), 'syncRecalls', a, teamCalls.syncRecalls.retry)) as Partial<RecallSyncPage> | undefined,
          (page) => {
            if (Array.isArray(page?.sysmsgs) && page.sysmsgs.length > 0) run.send({ ev: 'offlinesysmsgs', d: page.sysmsgs });
          },
        );
        const next = pulled?.page?.next;
        // Only a page that moved forward may be followed by another.
        if (!Array.isArray(next) || typeof next[0] !== 'number' || typeof next[1] !== 'number') return;
        if (after !== undefined && (next[0] < after[0] || (next[0] === after[0] && next[1] <= after[1]))) return;
        after = [next[0], next[1]];
      }
    });
  }
}
