/**
 * Threads and clearing one's own history. A message sent with `replyMsg`
 * carries `threadMessageInfo`: the locating fields of the message it replies
 * to and of its thread's root (the first message of the chain). Answered by
 * the conversation's actor, in p2p and group scenes alike (in a group:
 * members only, NOT_MEMBER otherwise). Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_EXT_CHARS, MAX_HISTORY_LIMIT, SCENES } from '../objects.ts';
import type { Message, Scene } from '../objects.ts';
export type { ThreadMessageInfo } from '../objects.ts';
import { actorMethod, returns } from '../registry.ts';
import { conversationAddress, id, time, toConversation } from './common.ts';


/** `ClearServerHistoryMsgs` items: the caller cleared a session's history up to `time`. */
export interface ClearedHistory {
  sessionId: string;
  scene: Scene;
  to: string;
  /** Messages up to this time (ms) are gone from the account's view. */
  time: number;
  /** Whether the login sync's copies went too. */
  isDeleteRoam: boolean;
  ext?: string;
}

/** The conversation of a thread root, from the caller's side: for p2p the other of its sender and recipient. */
function threadAddress(account: string, a: { scene: Scene; threadMsgFromAccount: string; threadMsgToAccount: string }): string {
  const peer = a.scene === 'p2p' && a.threadMsgFromAccount !== account ? a.threadMsgFromAccount : a.threadMsgToAccount;
  return conversationAddress(account, a.scene, peer);
}

/** Options of a clear (`clearServerHistoryMsgs`, also under the reference's longer name). */
const clearArgs = () =>
  s.object({
    scene: s.literal(SCENES),
    to: id(),
    isDeleteRoam: s.optional(s.boolean(), true),
    isSyncSelf: s.optional(s.boolean(), false),
    ext: s.optional(s.string({ max: MAX_EXT_CHARS })),
  });

const CLEAR_DOC =
  "Clears a conversation's history for the caller only (up to now; `isDeleteRoam`, default true, also from the login sync); with `isSyncSelf` (default false) the caller's other devices get `ClearServerHistoryMsgs`.";

function clearMethod(doc: string) {
  return actorMethod({
    doc,
    owner: 'conv',
    address: toConversation,
    args: clearArgs(),
    result: returns<ClearedHistory>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  });
}

export const threadMethods = {
  getThreadMsgs: actorMethod({
    doc: "A page of a thread's replies (the root named by `threadMsg*`), newest first from `endTime` unless `reverse`; answers the root, the replies, the reply count and the server's time.",
    owner: 'conv',
    address: threadAddress,
    reads: true,
    args: s.object({
      scene: s.literal(SCENES),
      threadMsgFromAccount: id(),
      threadMsgToAccount: id(),
      threadMsgIdServer: s.string({ min: 1, max: 64 }),
      threadMsgTime: time(),
      beginTime: s.optional(time(), 0),
      endTime: s.optional(time(), 0),
      lastMsgId: s.optional(s.string({ max: 64 })),
      limit: s.optional(s.int({ min: 1, max: MAX_HISTORY_LIMIT }), 100),
      reverse: s.optional(s.boolean(), false),
    }),
    result: returns<{ threadMsg: Message; msgs: Message[]; total: number; timetag: number }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  clearServerHistoryMsgs: clearMethod(CLEAR_DOC),
  clearServerHistoryMsgsWithSync: clearMethod(`The reference's longer name of \`clearServerHistoryMsgs\`. ${CLEAR_DOC}`),
};
