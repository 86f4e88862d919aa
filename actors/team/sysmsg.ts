/**
 * The one place a group hands a system notification (`teamInvite`,
 * `applyTeam`, their answers) to its recipient: the recipient's
 * notification store (actors/user/sysmsgs.ts), which delivers it to the
 * online devices and keeps it for the next logins until `markSysMsgRead`.
 */
import type { Effect } from '../../engine/actor/behavior.ts';
import type { TeamSysMsg } from '../../engine/protocol/methods/teams.ts';
import type { CustomSysMsg } from '../../engine/protocol/objects.ts';
import { postSysMsg as postToStore } from '../user/sysmsgs.ts';

/** The effect that posts `msg` to `to`'s notification store. */
export function postSysMsg(to: string, msg: TeamSysMsg | CustomSysMsg): Effect {
  return postToStore(to, msg);
}
