/**
 * Which actor answers a wire method, derived from the method declarations
 * (engine/protocol/methods/): an actor-owned method carries the function from
 * the caller's account and its validated arguments to the actor's address.
 */
import { declarationOf, registry } from '../engine/protocol/methods.ts';
import type { MethodName, Registry } from '../engine/protocol/methods.ts';

export { conversationAddress } from '../engine/protocol/methods.ts';

/** Methods the edge answers itself. */
export type EdgeMethodName = { [M in MethodName]: Registry[M]['owner'] extends 'edge' ? M : never }[MethodName];

/** Methods the edge answers itself, without an actor. */
export const EDGE_METHODS: ReadonlySet<string> = new Set(Object.keys(registry).filter((m) => declarationOf(m as MethodName).owner === 'edge'));

/** The actor address for `m`, or undefined for a method the edge answers itself. */
export function routeOf(m: MethodName, account: string, a: unknown): string | undefined {
  const d = declarationOf(m);
  return d.owner === 'edge' ? undefined : d.address(account, a as never);
}
