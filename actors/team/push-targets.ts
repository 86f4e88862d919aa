/**
 * What the push hook (engine/webhooks/push.ts) reads from a group for one
 * message, in one call: the members to alert under their alert strategy
 * (`muteNotiType` "0" every message, "1" none, "2" only the owner's and
 * managers'), never the sender, and the names a push shows. Pure: no I/O.
 */
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import type { TeamState } from './logic.ts';

export interface GroupPushArgs {
  /** The message's sender. */
  from: string;
  /** Most members answered, in join order; `total` says how many there were. */
  max: number;
}

export interface GroupPushTargets {
  /** Members to alert, in join order, at most `max`. */
  accounts: string[];
  /** How many members are to be alerted in all (more than `accounts` holds when `max` cut the list). */
  total: number;
  /** The group's name, for the alert's title. */
  name?: string;
  /** The sender's nickname in the group, when it set one. */
  fromNick?: string;
}

export const groupPushCalls = {
  pushTargets: internal({
    doc: "For a push alert about a member's message: the other members whose alert strategy lets it through (at most `max`, in join order), the group's name and the sender's nickname in the group; a read.",
    args: takes<GroupPushArgs>(),
    result: returns<GroupPushTargets>(),
    retry: 'idempotent',
  }),
};

/** Nobody for a group that is gone (dismissed, or never made). */
export function groupPushTargets(state: TeamState, a: GroupPushArgs): GroupPushTargets {
  if (state.team === undefined || !state.team.valid) return { accounts: [], total: 0 };
  const sender = state.members.get(a.from);
  const fromManager = sender?.type === 'owner' || sender?.type === 'manager';
  const members = [...state.members.values()]
    .filter((m) => m.account !== a.from && (m.muteNotiType === '0' || (m.muteNotiType === '2' && fromManager)))
    .sort((x, y) => x.joinTime - y.joinTime || (x.account < y.account ? -1 : 1));
  const reply: GroupPushTargets = { accounts: members.slice(0, Math.max(0, a.max)).map((m) => m.account), total: members.length };
  if (state.team.name !== '') reply.name = state.team.name;
  if (sender?.nickInTeam !== undefined && sender.nickInTeam !== '') reply.fromNick = sender.nickInTeam;
  return reply;
}
