/**
 * The one place a group hands a system notification (`teamInvite`,
 * `applyTeam`, their answers) to its recipient. Today it goes to the
 * recipient's online devices as a `sysmsg` event; the account's stored
 * system notifications (offline delivery, unread counters) take it from here.
 */
import type { Effect } from '../../engine/actor/behavior.ts';
import { encode } from '../../engine/protocol/codec.ts';
import type { TeamSysMsg } from '../../engine/protocol/methods/teams.ts';

/** The effect that delivers `msg` to `to`. */
export function postSysMsg(to: string, msg: TeamSysMsg): Effect {
  return { kind: 'deliver', account: to, frame: encode({ ev: 'sysmsg', d: msg }) };
}
