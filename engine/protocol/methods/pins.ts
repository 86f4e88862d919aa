/**
 * Pinned messages: a participant pins a message of the conversation with an
 * optional `pinCustom`; only `pinCustom` changes afterwards. Every change
 * reaches the other participants and the caller's other devices as
 * `PinMsgChange`. Answered by the conversation's actor, in p2p and group
 * scenes alike (in a group: members only, NOT_MEMBER otherwise; every
 * member hears a change). Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_EXT_CHARS, parseSessionId } from '../objects.ts';
import type { Message } from '../objects.ts';
import { actorMethod, returns } from '../registry.ts';
import { conversationAddress, sessionId } from './common.ts';
import { msgRef, refAddress } from './messages.ts';

/** Longest `pinCustom`, in characters. */
export const MAX_PIN_CUSTOM_CHARS = MAX_EXT_CHARS;

/** A pinned message as a participant sees it. */
export interface MsgPin {
  msg: Message;
  pinCustom?: string;
  /** The account that pinned it. */
  pinFrom: string;
  createTime: number;
  updateTime: number;
}

/** `PinMsgChange`: a pin was added, changed or removed (`pin` as it was last, for a removal). */
export interface PinMsgChange {
  type: 'add' | 'update' | 'delete';
  sessionId: string;
  pin: MsgPin;
  /** When the change happened (ms): the SDK moves its `sessions` cursor to it, and the login sync replays the changes after that cursor. */
  time?: number;
}

const pinArgs = () => s.object({ msg: msgRef(), pinCustom: s.optional(s.string({ max: MAX_PIN_CUSTOM_CHARS })) });

/** The conversation of a session id, from the caller's side; a malformed id was refused by its schema already. */
function sessionAddress(account: string, id: string): string {
  const parsed = parseSessionId(id)!;
  return conversationAddress(account, parsed.scene, parsed.to);
}

export const pinMethods = {
  addMsgPin: actorMethod({
    doc: "Pins a message of one of the caller's conversations, with an optional `pinCustom`; the same pin again is no change, a pinned message is a CONFLICT. The other participants and the caller's other devices get `PinMsgChange`.",
    owner: 'conv',
    address: (account, a) => refAddress(account, a.msg),
    reads: true,
    args: pinArgs(),
    result: returns<{ pin: MsgPin }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'CONFLICT'],
  }),
  updateMsgPin: actorMethod({
    doc: "Changes a pinned message's `pinCustom` (absent clears it); nothing else of a pin changes.",
    owner: 'conv',
    address: (account, a) => refAddress(account, a.msg),
    reads: true,
    args: pinArgs(),
    result: returns<{ pin: MsgPin }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  deleteMsgPin: actorMethod({
    doc: 'Unpins a message; one not pinned is no change.',
    owner: 'conv',
    address: (account, a) => refAddress(account, a.msg),
    reads: true,
    args: s.object({ msg: msgRef() }),
    result: returns<{ pin?: MsgPin }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  getMsgPins: actorMethod({
    doc: 'Every pin of one session (`id`, a session id), oldest pin first; pins of messages recalled, cleared or deleted for self by the caller are left out.',
    owner: 'conv',
    address: (account, a) => sessionAddress(account, a.id),
    reads: true,
    positional: 'id',
    args: s.object({ id: sessionId() }),
    result: returns<{ pins: MsgPin[] }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
};
