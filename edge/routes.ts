/**
 * Which actor answers a wire method. Adding a method served by an actor is
 * one line in `ROUTES`: a function from the caller's account and the
 * validated arguments to the actor address.
 */
import type { Args, MethodName, Scene } from '../engine/protocol/methods.ts';
import { p2pAddress, userAddress } from '../engine/subjects.ts';

/** Maps the caller's account and a method's validated arguments to an actor address (`kind:id`). */
export type Route<M extends MethodName> = (account: string, a: Args<M>) => string;

/** The conversation actor of a session: `conv:<a>|<b>` for p2p, `team:<id>` for teams and supergroups. */
export function conversationAddress(account: string, scene: Scene, to: string): string {
  return scene === 'p2p' ? p2pAddress(account, to) : `team:${to}`;
}

const toConversation = (account: string, a: { scene: Scene; to: string }) => conversationAddress(account, a.scene, a.to);
const toSelf = (account: string) => userAddress(account);

/** Methods routed to an actor. */
export const ROUTES: { readonly [M in MethodName]?: Route<M> } = {
  sendText: toConversation,
  getHistoryMsgs: toConversation,
  getServerSessions: toSelf,
  getServerSession: toSelf,
  resetSessionUnread: toSelf,
};

/** Methods the edge answers itself, without an actor. */
export const EDGE_METHODS: ReadonlySet<string> = new Set<MethodName>(['login', 'getServerTime']);

/** The actor address for `m`, or undefined when no actor serves it (edge methods, or not routed yet). */
export function routeOf(m: MethodName, account: string, a: unknown): string | undefined {
  const route = Object.hasOwn(ROUTES, m) ? (ROUTES[m] as Route<MethodName> | undefined) : undefined;
  return route === undefined ? undefined : route(account, a as Args<MethodName>);
}
