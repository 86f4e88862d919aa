/**
 * The team index of an account (`userTeams:<account>`): the groups it is in,
 * each as its group last reported it, for `getTeams` and `getTeamsById`.
 * Groups report every change to their members' indexes; a report carries the
 * group's change count, so a stale or repeated one changes nothing.
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
    syncTeams: (state) => ({ reply: { teams: teamsOf(state, 'team'), superTeams: teamsOf(state, 'superTeam') } }),
    setTeam(state, a) {
      const address = `${a.kind}:${a.teamId}`;
      const held = state.rows.get(address);
      if (held !== undefined && held.version > a.version) return { reply: true };
      if (held !== undefined && held.version === a.version && (held.team === undefined) === (a.team === undefined)) return { reply: true };
      const row: IndexRow = { kind: a.kind, teamId: a.teamId, version: a.version };
      if (a.team !== undefined) row.team = a.team;
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
