/**
 * The admin API's methods, for the host application's backend. Each is
 * declared with the same schema machinery as the wire methods, so its body
 * is validated the same way and its JSON Schema feeds the OpenAPI document.
 *
 * Every actor-owned wire method is also an admin method that runs as a
 * given account: its body is the wire arguments plus `account`, and it goes
 * to the same actor a client's request would (`getHistoryMsgs`,
 * `getServerSessions`, …). `sendMsg` sends any message kind as any account,
 * in the same `seq` stream as client sends. `kick` closes an account's
 * devices on every edge; `getOnlineDevices` lists them; `broadcastMsg`
 * writes to every online device; `sendSysMsg` sends a custom system
 * notification as any account.
 */
import { randomUUID } from 'node:crypto';
import Type from 'typebox';
import type { TSchema } from 'typebox';
import type { ActorClient } from '../actor/call.ts';
import { ADMIN_CONN } from '../envelope.ts';
import type { Caller } from '../envelope.ts';
import { ParleyError } from '../protocol/errors.ts';
import type { BroadcastMsg } from '../protocol/events.ts';
import type { ErrorName } from '../protocol/errors.ts';
import { declarationOf, parseRequest, randomIdClient, registry } from '../protocol/methods.ts';
import type { Args, MethodName } from '../protocol/methods.ts';
import { id } from '../protocol/methods/common.ts';
import { MAX_KICK_DEVICE_IDS } from '../protocol/methods/connection.ts';
import { MAX_EXT_CHARS } from '../protocol/objects.ts';
import * as s from '../protocol/schema.ts';
import { describeValue, echo, isPlainObject } from '../protocol/schema.ts';
import type { AnyMethod } from '../protocol/registry.ts';
import { presenceCalls } from '../../actors/presence/calls.ts';
import { presenceAddress } from '../subjects.ts';
import type { DeadEvents } from '../webhooks/dead-events.ts';

/** What admin methods may use. */
export interface AdminContext {
  readonly actors: ActorClient;
  /** Sends a custom system notification as `from` (see `CustomSysMsgs.sendAs`). */
  readonly sendCustomSysMsg: (from: string, a: Args<'sendCustomSysMsg'>) => Promise<unknown>;
  /** Writes `msg` to every online device on every edge. */
  readonly broadcast: (msg: BroadcastMsg) => void;
  /** Kicks `account`'s devices of `deviceIds` (all when absent) on every edge: reason `kickedByAdmin`, from `admin`. */
  readonly kick: (account: string, deviceIds: readonly string[] | undefined, custom: string | undefined) => void;
  /** Dead webhook events; absent when webhooks are off. */
  readonly deadWebhookEvents?: DeadEvents;
}

export interface AdminMethod {
  readonly doc: string;
  /** The request body's JSON Schema. */
  readonly json: TSchema;
  readonly errors: readonly ErrorName[];
  /** Validates the body (BAD_REQUEST naming the member at fault) and runs the method. */
  run(ctx: AdminContext, body: unknown): Promise<unknown>;
}

/** The caller an admin request acts as: the account, on no device and no socket of its own. */
export function adminCaller(account: string): Caller {
  return { account, deviceId: 'admin', deviceType: 'server', conn: ADMIN_CONN };
}

const account = id();

/** Runs the actor-owned wire method `m` as `as`, with its arguments already validated. */
async function runAs(ctx: AdminContext, m: MethodName, as: string, args: Record<string, unknown>): Promise<unknown> {
  const d = declarationOf(m);
  if (d.owner === 'edge') throw new ParleyError('BAD_REQUEST', `\`${m}\` is not an actor method`);
  // The edge gives client sends an idClient; an admin send gets one too, so a retried attempt stores it once.
  if (d.retry === 'idClient' && args.idClient === undefined) args.idClient = randomIdClient();
  return ctx.actors.hold(d.address(as, args as never), m, args, adminCaller(as), d.retry);
}

/** Splits `member` off a request body, validated as an account, leaving the rest. */
function takeAccount(body: unknown, member: string): { as: string; rest: Record<string, unknown> } {
  if (!isPlainObject(body)) throw new ParleyError('BAD_REQUEST', `the body must be a JSON object, got ${describeValue(body)}`);
  const { [member]: as, ...rest } = body;
  if (as === undefined || as === null) throw new ParleyError('BAD_REQUEST', `\`${member}\` is required`);
  return { as: account.parse(as, member), rest };
}

/** `{account, ...the wire arguments}` for the wire method `m`. */
function asAccount(m: MethodName, d: AnyMethod): AdminMethod {
  const wire = d.args.json as { properties?: Record<string, TSchema>; required?: string[] };
  return {
    doc: `${d.doc} Runs as \`account\`.`,
    json: Type.Object({ account: account.json, ...(wire.properties ?? {}) }, { required: ['account', ...(wire.required ?? [])] } as never),
    errors: d.errors,
    run(ctx, body) {
      const { as, rest } = takeAccount(body, 'account');
      return runAs(ctx, m, as, parseRequest(m, rest) as Record<string, unknown>);
    },
  };
}

/** The wire send method of each message type, where one is declared. */
const SEND_METHOD_OF_TYPE: Readonly<Record<string, string>> = {
  text: 'sendText',
  geo: 'sendGeo',
  tip: 'sendTipMsg',
  custom: 'sendCustomMsg',
  image: 'sendFile',
  audio: 'sendFile',
  video: 'sendFile',
  file: 'sendFile',
};

function sendMethods(): Array<[string, MethodName]> {
  return Object.entries(SEND_METHOD_OF_TYPE).filter((e): e is [string, MethodName] => Object.hasOwn(registry, e[1]));
}

const sendMsg: AdminMethod = {
  doc: 'Sends a message of any kind as `from`: the body of the type (`text`, …) and the send options of the wire method for it; answered with the stored message.',
  get json() {
    return Type.Union(
      sendMethods().map(([type, m]) => {
        const wire = declarationOf(m).args.json as { properties?: Record<string, TSchema>; required?: string[] };
        return Type.Object(
          { from: account.json, ...(wire.properties ?? {}), type: Type.Literal(type) },
          { required: ['from', 'type', ...(wire.required ?? [])] } as never,
        );
      }),
    );
  },
  errors: ['FORBIDDEN', 'NOT_FOUND'],
  run(ctx, body) {
    const { as, rest } = takeAccount(body, 'from');
    const { type, ...args } = rest;
    const known = sendMethods();
    const m = known.find(([t]) => t === type)?.[1];
    if (m === undefined) {
      const allowed = known.map(([t]) => `'${t}'`).join(', ');
      throw new ParleyError('BAD_REQUEST', `\`type\` must be one of ${allowed}, got ${typeof type === 'string' ? echo(type) : describeValue(type)}`);
    }
    if ((m as string) === 'sendFile') args.type = type;
    return runAs(ctx, m, as, parseRequest(m, args) as Record<string, unknown>);
  },
};

const kickArgs = s.object({
  account: id(),
  deviceIds: s.optional(s.array(id(), { min: 1, max: MAX_KICK_DEVICE_IDS })),
  custom: s.optional(s.string({ max: MAX_EXT_CHARS })),
});

const kick: AdminMethod = {
  doc: "Forces `account`'s devices of `deviceIds` offline on every edge, or all of its devices when `deviceIds` is absent: each gets `kicked` (reason `kickedByAdmin`, from `admin`, with `custom`) and its socket closes. Answers with the account and the ids asked for.",
  json: kickArgs.json,
  errors: [],
  run(ctx, body) {
    if (!isPlainObject(body)) throw new ParleyError('BAD_REQUEST', `the body must be a JSON object, got ${describeValue(body)}`);
    const args = kickArgs.parse(body, '');
    ctx.kick(args.account, args.deviceIds, args.custom);
    return Promise.resolve(args.deviceIds === undefined ? { account: args.account } : { account: args.account, deviceIds: args.deviceIds });
  },
};

const onlineDevicesArgs = s.object({ account: id() });

const getOnlineDevices: AdminMethod = {
  doc: "The devices of `account` logged in now, on any edge, oldest login first: `{devices: [{deviceId, deviceType, loginTime}]}`. A device whose edge stopped answering drops out within about 7 s.",
  json: onlineDevicesArgs.json,
  errors: ['UNAVAILABLE', 'TIMEOUT'],
  async run(ctx, body) {
    if (!isPlainObject(body)) throw new ParleyError('BAD_REQUEST', `the body must be a JSON object, got ${describeValue(body)}`);
    const args = onlineDevicesArgs.parse(body, '');
    const devices = await ctx.actors.hold(presenceAddress(args.account), 'devices', {}, undefined, presenceCalls.devices.retry);
    return { devices };
  },
};

/** `sendCustomSysMsg` as any account: the wire arguments plus `from`. */
function sendSysMsg(): AdminMethod {
  const wire = declarationOf('sendCustomSysMsg').args.json as { properties?: Record<string, TSchema>; required?: string[] };
  return {
    doc: 'Sends a custom system notification as account `from` (the wire arguments of `sendCustomSysMsg` plus `from`): online only by default, or kept for the recipient\'s next logins with `sendToOnlineUsersOnly: false`. Never touches history, sessions or unread counts.',
    json: Type.Object({ from: account.json, ...(wire.properties ?? {}) }, { required: ['from', ...(wire.required ?? [])], additionalProperties: false }),
    errors: ['BAD_REQUEST', 'UNAVAILABLE', 'TIMEOUT'],
    run(ctx, body) {
      const { as, rest } = takeAccount(body, 'from');
      return ctx.sendCustomSysMsg(as, parseRequest('sendCustomSysMsg', rest));
    },
  };
}

/** Longest broadcast body, characters. */
export const MAX_BROADCAST_CHARS = 5000;

const broadcastArgs = s.object({
  body: s.string({ min: 1, max: MAX_BROADCAST_CHARS }),
  custom: s.optional(s.string({ max: MAX_EXT_CHARS })),
});

const broadcastMsg: AdminMethod = {
  doc: `Writes \`broadcastmsg\` \`{id, from: "admin", body, custom?, time}\` to every device online now, on every edge (\`body\` 1..${MAX_BROADCAST_CHARS} characters). Nothing is stored: devices offline now never get it. Answers with the broadcast.`,
  json: broadcastArgs.json,
  errors: [],
  run(ctx, body) {
    if (!isPlainObject(body)) throw new ParleyError('BAD_REQUEST', `the body must be a JSON object, got ${describeValue(body)}`);
    const args = broadcastArgs.parse(body, '');
    const msg: BroadcastMsg = { id: randomUUID(), from: 'admin', body: args.body, time: Date.now() };
    if (args.custom !== undefined) msg.custom = args.custom;
    ctx.broadcast(msg);
    return Promise.resolve(msg);
  },
};

/** Most dead webhook events one page or one replay names. */
export const MAX_DEAD_WEBHOOK_PAGE = 1000;

function deadEventsOf(ctx: AdminContext): DeadEvents {
  if (ctx.deadWebhookEvents === undefined) throw new ParleyError('BAD_REQUEST', 'webhooks are off: set PARLEY_WEBHOOK_URL and PARLEY_WEBHOOK_SECRET');
  return ctx.deadWebhookEvents;
}

const listDeadArgs = s.object({
  limit: s.optional(s.int({ min: 1, max: MAX_DEAD_WEBHOOK_PAGE })),
  after: s.optional(s.string({ min: 1, max: 1024 })),
});

const listDeadWebhookEvents: AdminMethod = {
  doc: `Webhook events that ran out of retries, in id order, at most \`limit\` (default 100, at most ${MAX_DEAD_WEBHOOK_PAGE}) after the id \`after\`: \`{events: [{event: {id, type, time, data}, lane, env?, partition, error, deadAt}], next?}\`; \`next\` is the \`after\` of the next page. BAD_REQUEST when webhooks are off.`,
  json: listDeadArgs.json,
  errors: ['BAD_REQUEST', 'UNAVAILABLE'],
  run(ctx, body) {
    if (!isPlainObject(body)) throw new ParleyError('BAD_REQUEST', `the body must be a JSON object, got ${describeValue(body)}`);
    const args = listDeadArgs.parse(body, '');
    return deadEventsOf(ctx).list(args.limit ?? 100, args.after);
  },
};

const replayDeadArgs = s.object({
  ids: s.optional(s.array(s.string({ min: 1, max: 1024 }), { min: 1, max: MAX_DEAD_WEBHOOK_PAGE })),
});

const replayDeadWebhookEvents: AdminMethod = {
  doc: 'Sends the dead webhook events of `ids` again (every dead event when `ids` is absent): each is retried as a new event would be, with its own id, and leaves the dead events once acknowledged (or is recorded dead again). Answers `{queued}`, how many dead events were found and queued; ids not dead are ignored. BAD_REQUEST when webhooks are off.',
  json: replayDeadArgs.json,
  errors: ['BAD_REQUEST', 'UNAVAILABLE'],
  async run(ctx, body) {
    if (!isPlainObject(body)) throw new ParleyError('BAD_REQUEST', `the body must be a JSON object, got ${describeValue(body)}`);
    const args = replayDeadArgs.parse(body, '');
    return { queued: await deadEventsOf(ctx).markReplay(args.ids) };
  },
};

/** Every admin method by name. */
export function adminMethods(): Readonly<Record<string, AdminMethod>> {
  const out: Record<string, AdminMethod> = Object.create(null);
  for (const m of Object.keys(registry) as MethodName[]) {
    const d = declarationOf(m);
    if (d.owner !== 'edge') out[m] = asAccount(m, d);
  }
  out.sendMsg = sendMsg;
  out.kick = kick;
  out.getOnlineDevices = getOnlineDevices;
  out.broadcastMsg = broadcastMsg;
  out.sendSysMsg = sendSysMsg();
  out.listDeadWebhookEvents = listDeadWebhookEvents;
  out.replayDeadWebhookEvents = replayDeadWebhookEvents;
  return out;
}
