/**
 * The people methods the edge answers by calling several actors: profiles
 * of many accounts at once, and blocklist / mutelist writes, which the
 * owner's user actor decides and the edge then carries to the two replicas
 * that enforce them (the pair's conversation actor and the marked
 * account's user actor; see actors/user/relations.ts). The write is
 * answered only once both replicas hold it, so a sender blocked by a
 * completed call is refused from then on; the owner's durable outbox
 * carries the same marks again should the edge fail in between.
 */
import type { MarkArgs, MarkReply } from '../actors/user/people.ts';
import type { RetryClass } from '../engine/protocol/registry.ts';
import type { Args, Results } from '../engine/protocol/methods.ts';
import type { RelationChange } from '../engine/protocol/objects.ts';
import { p2pAddress, userAddress } from '../engine/subjects.ts';
import type { Conn } from './connection.ts';
import { forEachBounded } from './login-sync.ts';
import { ParleyError } from '../engine/protocol/errors.ts';

/** Profiles `getUsers` reads concurrently. */
export const GET_USERS_CONCURRENCY = 16;

/** What the people answers need of the edge: a call to an actor on behalf of the socket. */
export interface PeopleServices {
  /** Calls `m` on the actor at `to` as the socket's caller, held through handovers, retried as `retry` allows; the decoded `r`. */
  call(conn: Conn, to: string, m: string, a: unknown, retry: RetryClass): Promise<unknown>;
}

type PeopleEdgeMethod = 'getUsers' | 'addToBlacklist' | 'removeFromBlacklist' | 'addToMutelist' | 'removeFromMutelist';

async function mark(services: PeopleServices, conn: Conn, a: MarkArgs): Promise<RelationChange> {
  const r = (await services.call(conn, userAddress(conn.account), 'mark', a, 'idempotent')) as MarkReply;
  await Promise.all([
    services.call(conn, p2pAddress(conn.account, a.account), 'relation', r.mark, 'idempotent'),
    services.call(conn, userAddress(a.account), 'blockedBy', r.mark, 'idempotent'),
  ]);
  return { isAdd: r.isAdd, record: r.record };
}

/**
 * BLOCKED when `to` has blocked the socket's account: for what reaches an
 * account without passing its p2p conversation (custom system
 * notifications), asked of the recipient's user actor, which decides its
 * blocklist. Answers whether `to` muted the sender, so no push alert is raised.
 */
export async function refuseIfBlocked(services: PeopleServices, conn: Conn, to: string): Promise<{ muted: boolean }> {
  if (to === conn.account) return { muted: false };
  const r = (await services.call(conn, userAddress(to), 'relationTo', { account: conn.account }, 'idempotent')) as { blocked: boolean; muted: boolean };
  if (r.blocked) throw new ParleyError('BLOCKED', `\`to\` ${to} has blocked the sender`);
  return { muted: r.muted };
}

export const PEOPLE_EDGE_ANSWERS: {
  readonly [M in PeopleEdgeMethod]: (services: PeopleServices, conn: Conn, args: Args<M>) => Promise<Results[M]>;
} = {
  async getUsers(services, conn, args) {
    const accounts = [...new Set(args.accounts)];
    const found = new Map<string, Results['getUser']>();
    await forEachBounded(accounts, GET_USERS_CONCURRENCY, async (account) => {
      found.set(account, (await services.call(conn, userAddress(account), 'getUser', { account }, 'idempotent')) as Results['getUser']);
    });
    return accounts.map((account) => found.get(account)!);
  },
  addToBlacklist: (services, conn, a) => mark(services, conn, { list: 'blacklist', account: a.account, isAdd: true }),
  removeFromBlacklist: (services, conn, a) => mark(services, conn, { list: 'blacklist', account: a.account, isAdd: false }),
  addToMutelist: (services, conn, a) => mark(services, conn, { list: 'mutelist', account: a.account, isAdd: true }),
  removeFromMutelist: (services, conn, a) => mark(services, conn, { list: 'mutelist', account: a.account, isAdd: false }),
};
