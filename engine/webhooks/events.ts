/**
 * What a Log entry tells the host's backend: the webhook events made from
 * the actor events of one entry. Pure: the feed (feed.ts) reads entries off
 * the Log, this decides what each one means.
 *
 * | actor (Log subject)       | actor event            | webhook `type`                                   | `data` |
 * |---------------------------|------------------------|--------------------------------------------------|--------|
 * | `conv`, `team`, `superTeam` | `msg`                | `msg.sent`                                       | the stored message |
 * | `conv`, `team`, `superTeam` | `recall`             | `msg.recalled`                                   | the message as recalled |
 * | `conv`, `team`, `superTeam` | `hide`               | `msg.deletedSelf`                                | `{account, msgs}`: who hid which messages |
 * | `team`, `superTeam`       | `team`                 | `<kind>.created` / `.updated` / `.dismissed`     | `{teamId, team}` |
 * | `team`, `superTeam`       | `members`              | `<kind>.members`                                 | `{teamId, put, removed}` |
 * | `team`, `superTeam`       | `pending`              | `<kind>.pending`                                 | `{teamId, rows}`: invitations and join requests |
 * | `user`                    | `friendship` (acting side) | `friend.<addFriend, applyFriend, passFriendApply, rejectFriendApply, deleteFriend, updateFriend>` | `{account, …the action}` |
 * | `user`                    | `mark`                 | `relation.<blacklist, mutelist><Added, Removed>` | `{account, target, list, isAdd, time}` |
 * | `presence`                | `online`               | `login`                                          | `{account, deviceId, deviceType}` |
 * | `presence`                | `offline`              | `logout`                                         | `{account, deviceId}` |
 *
 * Everything else an actor records (read pointers, pins, receipts, the
 * notices a change sends, the mirror of a friend's or a blocker's change
 * on the other account) makes no webhook event.
 *
 * An event's id is `<Log subject without "parley.log.">:<entry position>:<index
 * of the actor event in the entry>`: the same whenever the entry is read,
 * before or after a restart, on any node. Its lane (the order it keeps) is
 * the Log subject: one conversation, one group, one account.
 */
import type { WebhookEvent } from './sender.ts';
import { addressOfLogSubject } from '../subjects.ts';

/** One webhook event to send, with the lane it keeps its order in and the `env` that picks its URL. */
export interface LaneEvent {
  readonly lane: string;
  readonly event: WebhookEvent;
  /** The `env` option of the message it is about, when it named one. */
  readonly env?: string;
}

const LOG_PREFIX = 'parley.log.';

/** The part of a webhook event id that names the Log entry. */
export function entryIdOf(subject: string, seq: number): string {
  return `${subject.startsWith(LOG_PREFIX) ? subject.slice(LOG_PREFIX.length) : subject}:${seq}`;
}

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * The webhook events of the entry at `seq` of `subject`, whose actor
 * events are `events` (the decoded entry: an array; anything else, such as
 * a partition's fence marker, makes none). `entryTime` (ms) dates events
 * that carry no time of their own.
 */
export function webhookEventsOf(subject: string, seq: number, events: unknown, entryTime: number): LaneEvent[] {
  if (!Array.isArray(events)) return [];
  const address = addressOfLogSubject(subject);
  if (address === undefined) return [];
  const colon = address.indexOf(':');
  const kind = address.slice(0, colon);
  const owner = address.slice(colon + 1);
  const entryId = entryIdOf(subject, seq);
  const out: LaneEvent[] = [];
  events.forEach((e: unknown, index) => {
    if (!isRec(e)) return;
    const made = mapOne(kind, owner, e, entryTime);
    if (made === undefined) return;
    const event: WebhookEvent = { id: `${entryId}:${index}`, type: made.type, time: made.time, data: made.data };
    out.push(made.env === undefined ? { lane: subject, event } : { lane: subject, event, env: made.env });
  });
  return out;
}

interface Made {
  type: string;
  time: number;
  data: unknown;
  env?: string;
}

function mapOne(kind: string, owner: string, e: Rec, entryTime: number): Made | undefined {
  const t = e.t;
  if (kind === 'conv' || kind === 'team' || kind === 'superTeam') {
    if (t === 'msg' || t === 'recall') {
      const msg = e.msg;
      if (!isRec(msg)) return undefined;
      const time = t === 'msg' && typeof msg.time === 'number' ? msg.time : entryTime;
      const env = str(msg.env);
      return withEnv({ type: t === 'msg' ? 'msg.sent' : 'msg.recalled', time, data: msg }, env);
    }
    if (t === 'hide') return { type: 'msg.deletedSelf', time: entryTime, data: { account: e.viewer, msgs: e.deleted } };
    if (kind === 'conv') return undefined;
    if (t === 'team' && isRec(e.team)) {
      const change = e.team.valid === false ? 'dismissed' : e.version === 1 ? 'created' : 'updated';
      return { type: `${kind}.${change}`, time: entryTime, data: { teamId: owner, team: e.team } };
    }
    if (t === 'members') return { type: `${kind}.members`, time: entryTime, data: { teamId: owner, put: e.put, removed: e.removed } };
    if (t === 'pending') return { type: `${kind}.pending`, time: entryTime, data: { teamId: owner, rows: e.rows } };
    return undefined;
  }
  if (kind === 'user') {
    if (t === 'friendship' && isRec(e.action) && typeof e.action.type === 'string') {
      const time = typeof e.action.time === 'number' ? e.action.time : entryTime;
      return { type: `friend.${e.action.type}`, time, data: { ...e.action, account: owner, target: e.action.account } };
    }
    if (t === 'mark' && (e.list === 'blacklist' || e.list === 'mutelist')) {
      const time = typeof e.time === 'number' ? e.time : entryTime;
      return {
        type: `relation.${e.list}${e.isAdd === true ? 'Added' : 'Removed'}`,
        time,
        data: { account: owner, target: e.account, list: e.list, isAdd: e.isAdd === true, time },
      };
    }
    return undefined;
  }
  if (kind === 'presence') {
    if (t === 'online' && isRec(e.device)) {
      const time = typeof e.device.at === 'number' ? e.device.at : entryTime;
      return { type: 'login', time, data: { account: owner, deviceId: e.device.deviceId, deviceType: e.device.deviceType } };
    }
    if (t === 'offline') return { type: 'logout', time: entryTime, data: { account: owner, deviceId: e.deviceId } };
  }
  return undefined;
}

function withEnv(made: Made, env: string | undefined): Made {
  if (env !== undefined && env !== '') made.env = env;
  return made;
}
