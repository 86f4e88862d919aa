/**
 * Every event the edge sends to clients (`{ev, d}`), declared once with its
 * payload type and a line of documentation: the SDK's event names and
 * listener types and the README's event table are derived from here.
 * Browser-safe.
 */
import type { DeletedMsgSelf, LoginPort, Message, Scene, Session, SysMsg } from './objects.ts';
import { event } from './registry.ts';
import type { PayloadOf } from './registry.ts';
import { teamEvents } from './team-events.ts';

/** Why the server closes a socket; `from` and `custom` come with a kick. */
export interface Kicked {
  reason: string;
  message?: string;
  /** The kicking device's id, or `admin`. */
  from?: string;
  /** What the admin kick passed along. */
  custom?: string;
}

export const events = {
  msg: event<Message>('A message of one of the account\'s conversations, sent by somebody else or by another device of the account.'),
  offlinemsgs: event<{ sessionId: string; scene: Scene; to: string; msgs: Message[] }>('Login sync: messages of one session the device missed, in `seq` order (possibly several pages).'),
  roamingmsgs: event<{ sessionId: string; scene: Scene; to: string; msgs: Message[] }>('Messages of one session the account\'s other devices already had, for a device that has none of them (shaped as `offlinemsgs`).'),
  sessions: event<Session[]>('Login sync: the sessions changed since the device\'s cursor (possibly several pages).'),
  updatesessions: event<Session[]>('Sessions that changed: a new last message, an unread count, an `ext`, a pin, a read receipt (`msgReceiptTime`).'),
  sessionsdeleted: event<string[]>('Ids of sessions another device of the account (or this one) removed with `deleteServerSessions`; a later message brings a session back.'),
  syncdone: event<{ serverTime: number }>('Login sync: everything the device missed has been sent.'),
  sysmsg: event<SysMsg>('A system notification; of type `deleteMsg`: a message of one of the account\'s conversations was recalled (to the peer and the recaller\'s other devices).'),
  DeleteMsgSelf: event<DeletedMsgSelf[]>('Messages another device of the account deleted for self: hide them here too.'),
  loginportschange: event<LoginPort[]>('Another device of the account logged in or out.'),
  kicked: event<Kicked>('The server is closing this socket, and why: for a kick, `reason` is `kickedByOtherDevice` or `kickedByAdmin` and `from` the kicking device\'s id (or `admin`); `tokenExpired` when the login token expired (with `PARLEY_KICK_ON_TOKEN_EXPIRY`).'),
  ...teamEvents,
};

export type EventName = keyof typeof events;
/** The payload `d` of each event. */
export type Events = { [E in EventName]: PayloadOf<(typeof events)[E]> };
