/** A group actor's state before any event, for the rules and fan-out tests that build one by applying events. */
import type { TeamKind } from '../../engine/protocol/methods/teams.ts';
import type { TeamState } from '../../actors/team/logic.ts';

/** The empty state of group `id` of `kind`. */
export function freshTeamState(kind: TeamKind, id: string): TeamState {
  return {
    kind,
    id,
    team: undefined,
    version: 0,
    members: new Map(),
    former: new Map(),
    pending: new Map(),
    alertOff: new Set(),
    alertHigh: new Set(),
    quietTotal: 0,
    quietBy: new Map(),
    recalls: [],
    conv: { members: [id, id], lastSeq: 0, lastTime: 0, sent: new Map(), quiet: new Map(), recent: new Map(), unsaved: new Map(), cleared: new Map() },
  };
}
