/**
 * The team index of an account (`userTeams:<account>`): the groups it is in,
 * each as its group last reported it, for `getTeams` and `getTeamsById`.
 * Groups report every change to their members' indexes; a report carries the
 * group's change count, so a stale or repeated one changes nothing. A row
 * the account left keeps the group as last seen and when it left, so a
 * login sync with a `teams` cursor can tell a device what it no longer has.
 * LMDB rows: `user-teams userTeam(address, groupAddress) → IndexRow`.
 */
import { defineActor } from '../../engine/actor/define.ts';
import { decodeKey, keyOf, rangeOf } from '../../engine/keys.ts';
import type { Team, TeamKind } from '../../engine/protocol/methods/teams.ts';
import { userTeamsCalls } from './calls.ts';

interface IndexRow {
  kind: TeamKind;
  teamId: string;
  version: number;
  /** Absent once the account left. */
  team?: Team;
  /** Once the account left: the group as it last saw it, and when it left (ms, by the group's clock). */
  former?: Team;
  leftTime?: number;
}

/** What the team index reads when answering the login sync. One value per process; a test may change it. */
export const userTeamsSettings = {
  /**
   * How far before a device's `teams` cursor the login sync still looks (ms,
   * default 60000): a group's report reaches the index just after the change
   * it reports, so one stamped a little before a cursor may have arrived
   * after the sync that made the cursor. Repeats are harmless.
   */
  cursorGraceMs: 60_000,
};

/** When a group last changed for the account, by the group's clock: its profile, its member list, or the account leaving it. */
function changedAt(row: IndexRow): number {
  if (row.team !== undefined) return Math.max(row.team.updateTime, row.team.memberUpdateTime ?? 0, row.team.createTime);
  return row.leftTime ?? 0;
}

/** The groups of `kind` changed after `after` (ms): those left come as last seen, flagged `validToCurrentUser: false`. */
function changedSince(state: UserTeamsState, kind: TeamKind, after: number): Team[] {
  const out: Team[] = [];
  for (const row of state.rows.values()) {
    if (row.kind !== kind || changedAt(row) <= after) continue;
    if (row.team !== undefined) out.push(row.team);
    else if (row.former !== undefined) out.push({ ...row.former, validToCurrentUser: false });
  }
  return out.sort((a, b) => a.createTime - b.createTime || (a.teamId < b.teamId ? -1 : 1));
}

interface UserTeamsState {
  /** Group address → row. */
  rows: Map<string, IndexRow>;
}

type UserTeamsEvent = { t: 'set'; row: IndexRow };

function teamsOf(state: UserTeamsState, kind: TeamKind): Team[] {
  const out: Team[] = [];
  for (const row of state.rows.values()) if (row.kind === kind && row.team !== undefined) out.push(row.team);
  return out.sort((a, b) => a.createTime - b.createTime || (a.teamId < b.teamId ? -1 : 1));
}

export const userTeamsBehavior = defineActor<'userTeams', UserTeamsState, UserTeamsEvent, typeof userTeamsCalls>({
  kind: 'userTeams',
  calls: userTeamsCalls,

  load(ctx) {
    const state: UserTeamsState = { rows: new Map() };
    for (const { key, value } of ctx.store.db('user-teams').getRange(rangeOf('userTeam', ctx.address))) {
      const [, group] = decodeKey('userTeam', key);
      state.rows.set(group, value as IndexRow);
    }
    return { state, logSeq: ctx.store.snapshot<{ logSeq: number }>(ctx.address)?.logSeq ?? 0 };
  },

  methods: {
    getTeams: (state) => ({ reply: teamsOf(state, 'team') }),
    getSuperTeams: (state) => ({ reply: teamsOf(state, 'superTeam') }),
    getTeamsById(state, a) {
      const teams: Team[] = [];
      const tids: string[] = [];
      for (const id of new Set(a.teamIds)) {
        const team = state.rows.get(`team:${id}`)?.team;
        if (team === undefined) tids.push(id);
        else teams.push(team);
      }
      return { reply: { teams, tids } };
    },
  },

  callHandlers: {
    syncTeams: (state, a) =>
      a.after === undefined || a.after <= 0
        ? { reply: { teams: teamsOf(state, 'team'), superTeams: teamsOf(state, 'superTeam') } }
        : { reply: { teams: changedSince(state, 'team', a.after - userTeamsSettings.cursorGraceMs), superTeams: changedSince(state, 'superTeam', a.after - userTeamsSettings.cursorGraceMs) } },
    setTeam(state, a) {
      const address = `${a.kind}:${a.teamId}`;
      const held = state.rows.get(address);
      if (held !== undefined && held.version > a.version) return { reply: true };
      if (held !== undefined && held.version === a.version && (held.team === undefined) === (a.team === undefined)) return { reply: true };
      const row: IndexRow = { kind: a.kind, teamId: a.teamId, version: a.version };
      if (a.team !== undefined) row.team = a.team;
      else {
        const seen = held?.team ?? held?.former;
        if (seen !== undefined) row.former = seen;
        row.leftTime = a.left ?? held?.leftTime ?? 0;
      }
      return { reply: true, events: [{ t: 'set', row }] };
    },
  },

  events: {
    set: {
      apply(state, { row }) {
        state.rows.set(`${row.kind}:${row.teamId}`, row);
      },
      persist(_state, { row }, ctx) {
        void ctx.store.db('user-teams').put(keyOf('userTeam', ctx.address, `${row.kind}:${row.teamId}`), row);
      },
    },
  },

  persistBatch(_state, _events, logSeq, ctx) {
    ctx.store.putSnapshot(ctx.address, { logSeq });
  },

  effects: () => [],
});
