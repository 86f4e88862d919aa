/**
 * The call a group sends to a member's team index (`userTeams:<account>`):
 * the group as it now is, or that the account is no longer in it.
 */
import type { Team, TeamKind } from '../../engine/protocol/methods/teams.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';

export interface SetTeamArgs {
  kind: TeamKind;
  teamId: string;
  /** Absent: the account left (or the group was dismissed). */
  team?: Team;
  /** The group's change count: an older report than the one held changes nothing, so repeats and reorders are harmless. */
  version: number;
  /** With `team` absent: when the account left, by the group's clock (ms). */
  left?: number;
}

/** What the login sync asks: with `after` (the device's `teams` cursor, ms), only the groups changed since, those left flagged. */
export interface TeamsSyncArgs {
  after?: number;
}

/** What the login sync sends of the account's groups. */
export interface TeamsSyncReply {
  teams: Team[];
  superTeams: Team[];
}

export const userTeamsCalls = {
  syncTeams: internal({
    doc: "The login sync's part: the account's advanced groups and supergroups, in one reply; after a cursor only those changed since, those left flagged `validToCurrentUser: false`.",
    args: takes<TeamsSyncArgs>(),
    result: returns<TeamsSyncReply>(),
    retry: 'idempotent',
  }),
  setTeam: internal({
    doc: 'A group the account is in, as it now is, or that the account left it.',
    args: takes<SetTeamArgs>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
};
