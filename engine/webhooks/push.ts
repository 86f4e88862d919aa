/**
 * The push hook: for each sent message, one `push` webhook event per
 * recipient device that should be alerted, for the host's backend to hand
 * to the device's push service. A device is alerted when it registered a
 * push token (`registerPushToken`) and is not logged in now; the sender's
 * own devices never are.
 *
 * What keeps a message from alerting: `isPushable: false`; a group
 * notification (`notification` messages, the group's own changes); the
 * recipient muted the sender (its mutelist); the recipient's alert strategy
 * in a group (`muteNotiType` "1" none, "2" only the owner's and managers').
 * The alert's text is the message's `pushContent`, else one made from its
 * kind (the text of a text message, `[image]` for an image, …), prefixed
 * with the sender's nickname (`nick: text`) when it was sent with
 * `needPushNick`; the badge is the recipient's unread over all its sessions.
 *
 * The reads go through the actors, each a read-only call: one to the group
 * for its members, one to each recipient's presence actor for its offline
 * devices with tokens, and one to the user actor of each recipient that has
 * any (mute and badge), plus one for the sender's profile when a nickname is
 * wanted. Recipients are read a few at a time (`concurrency`), and a group
 * alerts at most `maxGroupRecipients` of its members per message (the first
 * by join time): a supergroup of 10000 would otherwise cost 20000 calls for
 * one message.
 *
 * The same message gives the same event ids (`<source id>:push:<account>:<device>`),
 * so a feed reading its Log entry again after a restart sends duplicates the
 * receiver drops by id. A read that fails rejects the whole derivation, for
 * the feed to try the entry again instead of dropping alerts.
 */
import type { ActorClient } from '../actor/call.ts';
import { logger } from '../logger.ts';
import type { Message, MsgType } from '../protocol/objects.ts';
import { sessionIdOf } from '../protocol/objects.ts';
import { superTeamAddress, teamAddress } from '../protocol/methods/teams.ts';
import type { PushProvider } from '../protocol/methods/push.ts';
import { presenceAddress, userAddress } from '../subjects.ts';
import { presenceCalls, type PushTarget } from '../../actors/presence/calls.ts';
import { userCalls } from '../../actors/user/calls.ts';
import type { PushPrefs, PushPrefsArgs } from '../../actors/user/push-prefs.ts';
import type { GroupPushArgs, GroupPushTargets } from '../../actors/team/push-targets.ts';
import { teamCalls } from '../../actors/team/calls.ts';
import type { WebhookDeriver } from './derive.ts';
import type { WebhookEvent } from './sender.ts';

/** What a push event's receiver hands the device's push service. */
export interface PushPayload {
  /** The group's name, for group messages. */
  title?: string;
  /** The alert text. */
  body: string;
  /** The message's `pushPayload`, as the sender gave it (a JSON string by convention). */
  pushPayload?: string;
  scene: Message['scene'];
  from: string;
  to: string;
  /** The recipient's session of the message: `p2p-<sender>`, `team-<teamId>`, `superTeam-<teamId>`. */
  sessionId: string;
  type: MsgType;
  idServer: string;
  idClient: string;
  /** When the message was sent, ms. */
  time: number;
}

/** The `data` of a `push` event. */
export interface PushEventData {
  /** The recipient. */
  account: string;
  deviceId: string;
  token: string;
  provider: PushProvider;
  /** The recipient's unread over all its sessions, this message included. */
  badge: number;
  payload: PushPayload;
  /** The message as it was sent (the `msg.sent` event's data). */
  msg: Message;
}

export interface PushDeriverOptions {
  /** Reads the actors (a node's ActorClient). */
  actors: Pick<ActorClient, 'hold'>;
  /** Most members of a group one message alerts, the first by join time. Default 2000. */
  maxGroupRecipients?: number;
  /** Recipients read at once. Default 16. */
  concurrency?: number;
  /** Deadline of each read, ms; default the ActorClient's. */
  timeoutMs?: number;
}

/** Longest alert text, characters; a longer text is cut and ends with `…`. */
export const MAX_PUSH_BODY_CHARS = 200;
/** Default of `maxGroupRecipients`. */
export const DEFAULT_MAX_GROUP_RECIPIENTS = 2000;

const KIND_TEXT: Readonly<Record<MsgType, string>> = {
  text: '[text]',
  image: '[image]',
  audio: '[audio]',
  video: '[video]',
  file: '[file]',
  geo: '[location]',
  tip: '[tip]',
  custom: '[custom message]',
  notification: '[notification]',
};

/** Whether the message alerts anyone at all. */
export function mayAlert(msg: Message): boolean {
  return msg.isPushable !== false && msg.type !== 'notification';
}

/** The alert text: `pushContent`, else the text of a text or tip message, else the kind (`[image]`); with `nick` in front when given. */
export function alertText(msg: Message, nick?: string): string {
  let body = msg.pushContent !== undefined && msg.pushContent !== '' ? msg.pushContent : msg.type === 'text' && msg.text ? msg.text : msg.type === 'tip' && msg.tip ? msg.tip : KIND_TEXT[msg.type] ?? '[message]';
  if (nick !== undefined && nick !== '') body = `${nick}: ${body}`;
  const chars = [...body];
  return chars.length <= MAX_PUSH_BODY_CHARS ? body : `${chars.slice(0, MAX_PUSH_BODY_CHARS - 1).join('')}…`;
}

/** The payload of an alert about `msg`, the same for every recipient device. */
export function pushPayloadOf(msg: Message, body: string, title?: string): Omit<PushPayload, 'sessionId'> {
  const payload: Omit<PushPayload, 'sessionId'> = { body, scene: msg.scene, from: msg.from, to: msg.to, type: msg.type, idServer: msg.idServer, idClient: msg.idClient, time: msg.time };
  if (title !== undefined && title !== '') payload.title = title;
  if (msg.pushPayload !== undefined && msg.pushPayload !== '') payload.pushPayload = msg.pushPayload;
  return payload;
}

/** The recipient's session of `msg`. */
export function recipientSession(msg: Message): string {
  return msg.scene === 'p2p' ? sessionIdOf('p2p', msg.from) : sessionIdOf(msg.scene, msg.to);
}

/**
 * The `push` events for one recipient of `msg` made from `source`: one per
 * device in `targets`, none when the recipient is the sender or muted it.
 */
export function pushEventsFor(source: Pick<WebhookEvent, 'id' | 'time'>, msg: Message, account: string, targets: readonly PushTarget[], prefs: PushPrefs, payload: Omit<PushPayload, 'sessionId'>): WebhookEvent[] {
  if (account === msg.from || prefs.muted || (msg.scene === 'p2p' && msg.isMuted === true)) return [];
  const full: PushPayload = { ...payload, sessionId: recipientSession(msg) };
  return targets.map((t) => {
    const data: PushEventData = { account, deviceId: t.deviceId, token: t.token, provider: t.provider, badge: prefs.badge, payload: full, msg };
    return { id: `${source.id}:push:${account}:${t.deviceId}`, type: 'push', time: source.time, data };
  });
}

/** Whether an event's data looks like a stored message enough to alert about it. */
function isMessage(data: unknown): data is Message {
  if (typeof data !== 'object' || data === null) return false;
  const m = data as Partial<Message>;
  return (
    (m.scene === 'p2p' || m.scene === 'team' || m.scene === 'superTeam') &&
    typeof m.from === 'string' &&
    typeof m.to === 'string' &&
    typeof m.type === 'string' &&
    typeof m.idServer === 'string' &&
    typeof m.seq === 'number'
  );
}

/** Runs `f` over `items`, at most `limit` at once, keeping their order in the answer. */
async function mapLimited<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}

/** The push hook as a webhook deriver: `push` events for each `msg.sent`, nothing for other events. */
export function createPushDeriver(options: PushDeriverOptions): WebhookDeriver {
  const { actors } = options;
  const maxGroup = options.maxGroupRecipients ?? DEFAULT_MAX_GROUP_RECIPIENTS;
  const concurrency = options.concurrency ?? 16;
  const held = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const read = <R>(to: string, m: string, a: unknown): Promise<R> => actors.hold(to, m, a, undefined, 'idempotent', held) as Promise<R>;

  return async (event) => {
    if (event.type !== 'msg.sent') return [];
    const msg = event.data;
    if (!isMessage(msg)) {
      logger.warn('push: a msg.sent event without a message', { id: event.id });
      return [];
    }
    if (!mayAlert(msg)) return [];

    let recipients: string[];
    let group: GroupPushTargets | undefined;
    if (msg.scene === 'p2p') {
      recipients = msg.to === msg.from ? [] : [msg.to];
    } else {
      const address = msg.scene === 'team' ? teamAddress(msg.to) : superTeamAddress(msg.to);
      const a: GroupPushArgs = { from: msg.from, max: maxGroup };
      group = await read<GroupPushTargets>(address, 'pushTargets' satisfies keyof typeof teamCalls, a);
      recipients = group.accounts;
      if (group.total > group.accounts.length) logger.warn('push: group alerts cut', { id: event.id, teamId: msg.to, alerted: group.accounts.length, members: group.total });
    }
    if (recipients.length === 0) return [];

    const found = await mapLimited(recipients, concurrency, async (account) => {
      const targets = await read<PushTarget[]>(presenceAddress(account), 'pushTargets' satisfies keyof typeof presenceCalls, {});
      if (targets.length === 0) return undefined;
      const a: PushPrefsArgs = { from: msg.from, sessionId: recipientSession(msg), seq: msg.seq, counted: msg.isUnreadable !== false };
      const prefs = await read<PushPrefs>(userAddress(account), 'pushPrefs' satisfies keyof typeof userCalls, a);
      return { account, targets, prefs };
    });
    const alerted = found.filter((f) => f !== undefined && !f.prefs.muted);
    if (alerted.length === 0) return [];

    let nick: string | undefined;
    if (msg.needPushNick === true) {
      nick = group?.fromNick;
      if (nick === undefined) {
        const profile = await read<{ nick?: string }>(userAddress(msg.from), 'getUser', { account: msg.from });
        nick = profile.nick !== undefined && profile.nick !== '' ? profile.nick : msg.from;
      }
    }
    const payload = pushPayloadOf(msg, alertText(msg, nick), group?.name);
    return alerted.flatMap((f) => pushEventsFor(event, msg, f!.account, f!.targets, f!.prefs, payload));
  };
}
