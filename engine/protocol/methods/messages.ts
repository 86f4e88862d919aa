/**
 * Messages of a conversation: sending them and reading their history, all
 * answered by the conversation's actor. Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_HISTORY_LIMIT, MAX_TEXT_CHARS, MSG_TYPES, SCENES } from '../objects.ts';
import type { Message } from '../objects.ts';
import { actorMethod, returns } from '../registry.ts';
import { id, sendCommon, time, toConversation } from './common.ts';

export const messageMethods = {
  sendText: actorMethod({
    doc: 'Sends a text message; answered with the stored message once it is durable.',
    owner: 'conv',
    address: toConversation,
    args: s.object({ ...sendCommon, text: s.string({ min: 1, max: MAX_TEXT_CHARS }) }),
    result: returns<Message>(),
    retry: 'idClient',
    errors: ['FORBIDDEN'],
  }),
  getHistoryMsgs: actorMethod({
    doc: "A page of a conversation's stored messages, newest first unless `reverse`.",
    owner: 'conv',
    address: toConversation,
    reads: true,
    args: s.object({
      scene: s.literal(SCENES),
      to: id(),
      beginTime: s.optional(time(), 0),
      endTime: s.optional(time(), 0),
      lastMsgId: s.optional(s.string({ max: 64 })),
      limit: s.optional(s.int({ min: 1, max: MAX_HISTORY_LIMIT }), 100),
      reverse: s.optional(s.boolean(), false),
      asc: s.optional(s.boolean(), false),
      msgTypes: s.optional(s.array(s.literal(MSG_TYPES), { max: MSG_TYPES.length })),
    }),
    result: returns<{ msgs: Message[] }>(),
    retry: 'idempotent',
    errors: ['FORBIDDEN'],
  }),
};
