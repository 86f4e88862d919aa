/**
 * Where the user actor's built-in system notifications (the friend flows)
 * leave it: today a live `sysmsg` to the account's online devices. This is
 * the one place to switch when notifications are stored per account (kept
 * until `markSysMsgRead`, sent at login as `offlinesysmsgs`); until then a
 * device that is offline when one is posted learns the change itself from
 * the login sync (`friends`), not the notification.
 */
import type { Effect } from '../../engine/actor/behavior.ts';
import { encode } from '../../engine/protocol/codec.ts';
import type { SysMsg } from '../../engine/protocol/objects.ts';

/** The effect that posts `msg` to `account`'s devices but the socket `exclude`; `msg.idServer` is unique for the account. */
export function postSysMsg(account: string, msg: SysMsg, exclude?: string): Effect {
  const frame = encode({ ev: 'sysmsg', d: msg });
  return exclude === undefined ? { kind: 'deliver', account, frame } : { kind: 'deliver', account, frame, exclude };
}
