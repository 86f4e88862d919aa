/**
 * Every wire method, gathered from the declarations of each feature under
 * `methods/`, and what is derived from them: the argument schemas, the
 * argument and result types, the retry sets and the validation of a
 * request. Also re-exports the wire objects. Browser-safe.
 */
import { describeValue, echo, isPlainObject } from './schema.ts';
import { ParleyError } from './errors.ts';
import type { AnyMethod, ArgsOf, InputArgsOf, ResultOf } from './registry.ts';
import { connectionMethods } from './methods/connection.ts';
import { messageMethods } from './methods/messages.ts';
import { sessionMethods } from './methods/sessions.ts';
import { signalingMethods } from './methods/signaling.ts';
import { pinMethods } from './methods/pins.ts';
import { quickCommentMethods } from './methods/quick-comments.ts';
import { threadMethods } from './methods/threads.ts';
import { eventMethods } from './methods/events.ts';
import { sysMsgMethods } from './methods/sysmsgs.ts';
import { collectMethods } from './methods/collections.ts';
import { peopleMethods } from './methods/people.ts';
import { superTeamMethods, teamMethods } from './methods/teams.ts';
import { teamReceiptMethods } from './methods/team-receipts.ts';
import { pushMethods } from './methods/push.ts';

export * from './objects.ts';
export { conversationAddress } from './methods/common.ts';
export type { MsgPin, PinMsgChange } from './methods/pins.ts';
export type { CommentedMsg, MsgQuickComments, QuickComment, QuickCommentChange } from './methods/quick-comments.ts';
export type { ClearedHistory } from './methods/threads.ts';
export type { EventSubscription, PushEvent } from './methods/events.ts';
export type { PushProvider, PushRegistration } from './methods/push.ts';

/** Every wire method's declaration, by name. */
export const registry = {
  ...connectionMethods,
  ...messageMethods,
  ...sessionMethods,
  ...signalingMethods,
  ...pinMethods,
  ...quickCommentMethods,
  ...threadMethods,
  ...eventMethods,
  ...sysMsgMethods,
  ...collectMethods,
  ...peopleMethods,
  ...teamMethods,
  ...superTeamMethods,
  ...teamReceiptMethods,
  ...pushMethods,
} satisfies Record<string, AnyMethod>;

export type Registry = typeof registry;
export type MethodName = keyof Registry;

/** The argument schema of each method. */
export const methods = Object.fromEntries(Object.entries(registry).map(([m, d]) => [m, d.args])) as {
  readonly [M in MethodName]: Registry[M]['args'];
};

/** Arguments after validation, defaults filled in. */
export type Args<M extends MethodName> = ArgsOf<Registry[M]>;
/** Arguments as a caller writes them: members with defaults may be left out. */
export type ArgsInput<M extends MethodName> = InputArgsOf<Registry[M]>;
/** `r` of each method, as the reference SDK hands it to `done`. */
export type Results = { [M in MethodName]: ResultOf<Registry[M]> };

/** The methods of each retry class. */
function withRetry(retry: AnyMethod['retry']): ReadonlySet<string> {
  return new Set(Object.entries(registry as Record<string, AnyMethod>).filter(([, d]) => d.retry === retry).map(([m]) => m));
}

/** Methods that store a message: idempotent on `(from, idClient)`, so they may be repeated safely. */
export const MESSAGE_SEND_METHODS: ReadonlySet<string> = withRetry('idClient');

/**
 * Methods that may be carried out twice with the effect of once (sends by
 * their `idClient`, reads, read pointers), so the edge may retry them after a
 * timeout. A method not listed here is tried again only when it surely did
 * not run.
 */
export const RETRY_SAFE_METHODS: ReadonlySet<string> = new Set([...MESSAGE_SEND_METHODS, ...withRetry('idempotent')]);

export function isMethodName(m: string): m is MethodName {
  return Object.prototype.hasOwnProperty.call(registry, m);
}

/** The declaration of `m`, widened for code that handles every method alike. */
export function declarationOf(m: MethodName): AnyMethod {
  return registry[m] as AnyMethod;
}

/** Validates a request's `m` and `a`; throws BAD_REQUEST naming what was wrong. */
export function parseRequest<M extends MethodName>(m: M, a: unknown): Args<M>;
export function parseRequest(m: string, a: unknown): unknown;
export function parseRequest(m: string, a: unknown): unknown {
  if (!isMethodName(m)) throw new ParleyError('BAD_REQUEST', `unknown method ${echo(m)}`);
  if (a !== undefined && a !== null && !isPlainObject(a)) {
    throw new ParleyError('BAD_REQUEST', `\`a\` must be a map of arguments for \`${m}\`, got ${describeValue(a)}`);
  }
  return methods[m].parse(a, '');
}

/** The payload `d` of each event. */
export type { Events } from './events.ts';
