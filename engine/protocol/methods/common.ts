/**
 * Argument schemas that several features share: identifiers, times, session
 * ids, and the options every send method takes. Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_EXT_CHARS, MAX_ID_CHARS, MAX_ID_CLIENT_CHARS, SCENES } from '../objects.ts';
import type { Scene } from '../objects.ts';
import { p2pAddress, userAddress } from '../../subjects.ts';

// Every argument naming an account, team, channel, device or message passes the one identifier rule
// (schema.ts `identifierProblem`); the verifier applies the same rule to the token's `sub`.
export const id = () => s.identifier({ max: MAX_ID_CHARS });
export const idClient = () => s.identifier({ max: MAX_ID_CLIENT_CHARS });
export const time = () => s.int({ min: 0 });
export const sessionId = (scenes: readonly Scene[] = SCENES) =>
  s.identifier({ max: MAX_ID_CHARS, prefixes: scenes, text: scenes.length === 1 ? `a session id such as ${scenes[0]}-<account>` : 'a session id such as p2p-<account> or team-<teamId>' });

/** Options every send method shares. */
export const sendCommon = {
  scene: s.literal(SCENES),
  to: id(),
  idClient: s.optional(idClient()),
  custom: s.optional(s.string({ max: MAX_EXT_CHARS })),
  subType: s.optional(s.int({ min: 1, max: 2 ** 31 - 1 })),
  needMsgReceipt: s.optional(s.boolean()),
  /** Default true; false: left out of `getHistoryMsgs`. */
  isHistoryable: s.optional(s.boolean()),
  /** Default true; false: the sender's devices do not get it at their login sync. */
  isRoamingable: s.optional(s.boolean()),
  /** Default true; false: the sender's other devices do not get it, live or at login. */
  isSyncable: s.optional(s.boolean()),
  isPushable: s.optional(s.boolean()),
  /** Default true; false: a recipient's device that was offline does not get it at its login sync. */
  isOfflinable: s.optional(s.boolean()),
  /** Default true; false: never counts as unread. */
  isUnreadable: s.optional(s.boolean()),
  pushContent: s.optional(s.string({ max: 500 })),
  pushPayload: s.optional(s.string({ max: MAX_EXT_CHARS })),
  resend: s.optional(s.boolean()),
};

/** The conversation actor of a session: `conv:<a>|<b>` for p2p, `team:<id>` for teams, `superTeam:<id>` for supergroups (separate id spaces). */
export function conversationAddress(account: string, scene: Scene, to: string): string {
  return scene === 'p2p' ? p2pAddress(account, to) : `${scene}:${to}`;
}

/** Routes to the conversation named by `scene` and `to`. */
export const toConversation = (account: string, a: { scene: Scene; to: string }): string => conversationAddress(account, a.scene, a.to);
/** Routes to the caller's own user actor. */
export const toSelf = (account: string): string => userAddress(account);
