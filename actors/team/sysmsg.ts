/**
 * The one place a group hands a system notification (`teamInvite`,
 * `applyTeam`, their answers, an advanced group's recalls) to its recipient: the recipient's
 * notification store (actors/user/sysmsgs.ts), which delivers it to the
 * online devices and keeps it for the next logins until `markSysMsgRead`.
 */
import type { Effect } from '../../engine/actor/behavior.ts';
import type { TeamSysMsg } from '../../engine/protocol/methods/teams.ts';
import type { CustomSysMsg, SysMsg } from '../../engine/protocol/objects.ts';
import { postSysMsg as postToStore } from '../user/sysmsgs.ts';

/** The effect that posts `msg` to `to`'s notification store (delivered to its online devices but the socket `exclude`). */
export function postSysMsg(to: string, msg: TeamSysMsg | CustomSysMsg | SysMsg, exclude?: string): Effect {
  return postToStore(to, msg, exclude);
}
