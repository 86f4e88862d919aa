/**
 * Messages of a conversation: sending every kind of message, forwarding,
 * recalling, hiding messages from one's own view, and reading history, all
 * answered by the conversation's actor. Browser-safe.
 */
import * as s from '../schema.ts';
import {
  FILE_TYPES,
  MAX_CONTENT_CHARS,
  MAX_ENV_CHARS,
  MAX_EXT_CHARS,
  MAX_FILE_BYTES,
  MAX_FILE_DURATION_MS,
  MAX_FILE_EXT_CHARS,
  MAX_FILE_NAME_CHARS,
  MAX_FILE_PIXELS,
  MAX_FILE_URL_CHARS,
  MAX_GEO_TITLE_CHARS,
  MAX_HISTORY_LIMIT,
  MAX_MSGS_PER_BATCH,
  MAX_NOTE_CHARS,
  MAX_TEXT_CHARS,
  MAX_TIP_CHARS,
  MSG_TYPES,
  SCENES,
} from '../objects.ts';
import type { DeletedMsgSelf, Message, MsgRef, Scene, SysMsg } from '../objects.ts';
import { actorMethod, returns } from '../registry.ts';
import type { ActorMethod } from '../registry.ts';
import type { ObjectSchema, Shape } from '../schema.ts';
import type { ErrorName } from '../errors.ts';
import { conversationAddress, id, sendCommon, time, toConversation } from './common.ts';

const geo = () =>
  s.object({
    lng: s.number({ min: -180, max: 180 }),
    lat: s.number({ min: -90, max: 90 }),
    title: s.string({ max: MAX_GEO_TITLE_CHARS }),
  });

/** An uploaded file's descriptor; which of `w`, `h`, `dur` a type needs is checked by the conversation (logic.ts `fileProblem`). */
const file = () =>
  s.object({
    url: s.string({ min: 1, max: MAX_FILE_URL_CHARS, pattern: /^https?:\/\/\S+$/, patternText: 'an http(s) URL without spaces' }),
    name: s.string({ min: 1, max: MAX_FILE_NAME_CHARS }),
    size: s.int({ min: 0, max: MAX_FILE_BYTES }),
    md5: s.string({ min: 32, max: 32, pattern: /^[0-9a-fA-F]{32}$/, patternText: '32 hex digits' }),
    ext: s.string({ max: MAX_FILE_EXT_CHARS }),
    w: s.optional(s.int({ min: 1, max: MAX_FILE_PIXELS })),
    h: s.optional(s.int({ min: 1, max: MAX_FILE_PIXELS })),
    dur: s.optional(s.int({ min: 0, max: MAX_FILE_DURATION_MS })),
  });

/** The fields that locate a stored message; other members of a message passed whole are ignored. */
export const msgRef = (scenes: readonly Scene[] = SCENES) =>
  s.object({
    scene: s.literal(scenes),
    from: id(),
    to: id(),
    time: time(),
    idServer: s.string({ min: 1, max: 64 }),
  });

/**
 * Every send's options: the shared ones, the push nickname, the webhook
 * environment, and `replyMsg`, the message of the same conversation this one
 * replies to (which makes it part of that message's thread).
 */
const sendOptions = {
  ...sendCommon,
  needPushNick: s.optional(s.boolean()),
  env: s.optional(s.string({ max: MAX_ENV_CHARS })),
  replyMsg: s.optional(msgRef()),
};

/** The conversation a located message belongs to, from the caller's side: for p2p the other of `from` and `to`. */
export function refAddress(account: string, ref: MsgRef): string {
  const peer = ref.scene === 'p2p' && ref.from !== account ? ref.from : ref.to;
  return conversationAddress(account, ref.scene, peer);
}


/** Options of a recall (`recallMsg` and its older name `deleteMsg`). */
const recallArgs = () =>
  s.object({
    msg: msgRef(),
    apnsText: s.optional(s.string({ max: MAX_NOTE_CHARS })),
    pushPayload: s.optional(s.string({ max: MAX_EXT_CHARS })),
    attach: s.optional(s.string({ max: MAX_EXT_CHARS })),
    ps: s.optional(s.string({ max: MAX_NOTE_CHARS })),
    env: s.optional(s.string({ max: MAX_ENV_CHARS })),
  });

const RECALL_DOC =
  'Recalls a message the caller sent, within the recall window (default 2 minutes): it leaves history, and the peer and the caller\'s other devices get a `sysmsg` of type `deleteMsg`.';

/** A method that stores a message in the conversation `scene`/`to` names and answers with it: idempotent by `idClient`. */
function sendMethod<S extends Shape & Pick<typeof sendCommon, 'scene' | 'to'>>(doc: string, args: ObjectSchema<S>, errors: readonly ErrorName[] = ['FORBIDDEN']): ActorMethod<S, Message, 'conv'> {
  // S holds `scene` and `to` (its constraint); TypeScript cannot see that through the generic arguments type.
  const address = toConversation as unknown as ActorMethod<S, Message, 'conv'>['address'];
  return actorMethod({ doc, owner: 'conv', address, args, result: returns<Message>(), retry: 'idClient', errors });
}

/** `recallMsg` and its older name. */
function recallMethod(doc: string) {
  return actorMethod({
    doc,
    owner: 'conv',
    address: (account, a) => refAddress(account, a.msg),
    reads: true,
    args: recallArgs(),
    result: returns<SysMsg>(),
    retry: 'idempotent',
    errors: ['FORBIDDEN', 'NOT_FOUND', 'EXPIRED'],
  });
}

export const messageMethods = {
  sendText: sendMethod(
    'Sends a text message; answered with the stored message once it is durable.',
    s.object({ ...sendOptions, text: s.string({ min: 1, max: MAX_TEXT_CHARS }) }),
  ),
  sendGeo: sendMethod(
    'Sends a location (`geo: {lng, lat, title}`).',
    s.object({ ...sendOptions, geo: geo() }),
  ),
  sendTipMsg: sendMethod(
    'Sends a tip: a line shown inside the conversation (`tip`).',
    s.object({ ...sendOptions, tip: s.string({ min: 1, max: MAX_TIP_CHARS }) }),
  ),
  sendCustomMsg: sendMethod(
    'Sends an application-defined message (`content`, a JSON string by convention).',
    s.object({ ...sendOptions, content: s.string({ min: 1, max: MAX_CONTENT_CHARS }) }),
  ),
  sendFile: actorMethod({
    doc: 'Sends an image, audio, video or file message with an uploaded `file` descriptor (`url`, `name`, `size`, `md5`, `ext`; `w`/`h` for images and videos, `dur` for audio and video).',
    owner: 'conv',
    address: toConversation,
    args: s.object({ ...sendOptions, type: s.literal(FILE_TYPES), file: file() }),
    result: returns<Message>(),
    retry: 'idClient',
    // BAD_REQUEST also for a rule across members: the descriptor lacks what its `type` needs.
    errors: ['FORBIDDEN', 'BAD_REQUEST'],
  }),
  forwardMsg: actorMethod({
    doc: "Sends a new message, from the caller, to `scene`/`to` with the body of `msg` (its `type` and that type's body field; any message but a `notification`).",
    owner: 'conv',
    address: toConversation,
    args: s.object({
      ...sendOptions,
      msg: s.object({
        type: s.literal(MSG_TYPES),
        text: s.optional(s.string({ min: 1, max: MAX_TEXT_CHARS })),
        geo: s.optional(geo()),
        tip: s.optional(s.string({ min: 1, max: MAX_TIP_CHARS })),
        content: s.optional(s.string({ min: 1, max: MAX_CONTENT_CHARS })),
        file: s.optional(file()),
      }),
    }),
    result: returns<Message>(),
    retry: 'idClient',
    // BAD_REQUEST also for a rule across members: `msg` lacks the body field of its `type`, or is a notification.
    errors: ['FORBIDDEN', 'BAD_REQUEST'],
  }),
  recallMsg: recallMethod(RECALL_DOC),
  deleteMsg: recallMethod(`The older name of \`recallMsg\`. ${RECALL_DOC}`),
  deleteMsgSelf: actorMethod({
    doc: "Hides a message from the caller's history; others still see it; the caller's other devices get `DeleteMsgSelf`.",
    owner: 'conv',
    address: (account, a) => refAddress(account, a.msg),
    reads: true,
    args: s.object({ msg: msgRef(), custom: s.optional(s.string({ max: MAX_EXT_CHARS })) }),
    result: returns<DeletedMsgSelf[]>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  deleteMsgSelfBatch: actorMethod({
    doc: "`deleteMsgSelf` for several messages of one conversation at once.",
    owner: 'conv',
    address: (account, a) => refAddress(account, a.msgs[0]!),
    reads: true,
    args: s.object({ msgs: s.array(msgRef(), { min: 1, max: MAX_MSGS_PER_BATCH }), custom: s.optional(s.string({ max: MAX_EXT_CHARS })) }),
    result: returns<DeletedMsgSelf[]>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  getHistoryMsgs: actorMethod({
    doc: "A page of a conversation's stored messages, newest first unless `reverse`; recalled messages, those the caller deleted for self and those the caller cleared (`clearServerHistoryMsgs`) are left out.",
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
  getMsgsByIdServer: actorMethod({
    doc: 'Messages of one conversation by their locating fields (`scene`, `from`, `to`, `time`, `idServer`), in the order asked; ones not found, recalled or deleted for self are left out.',
    owner: 'conv',
    address: (account, a) => refAddress(account, a.reqMsgs[0]!),
    reads: true,
    args: s.object({ reqMsgs: s.array(msgRef(), { min: 1, max: MAX_MSGS_PER_BATCH }) }),
    result: returns<{ msgs: Message[] }>(),
    retry: 'idempotent',
    errors: [],
  }),
};
