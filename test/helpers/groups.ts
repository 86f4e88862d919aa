/** What the group suites share: the events a client hears, refusals by name and message, and logged-in fresh accounts. */
import { expect } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import { freshAccount } from './accounts.ts';
import type { Connections } from './connections.ts';
import { rejectionOf } from './wait.ts';

/** Every payload of event `ev` a client hears, in order. */
export function heard<T = unknown>(c: ParleyClient, ev: string): T[] {
  const seen: T[] = [];
  c.on(ev as never, ((d: T) => seen.push(d)) as never);
  return seen;
}

/** Expects `p` to be refused with error `name` and a message matching `pattern`. */
export async function refusal(p: Promise<unknown>, name: string, pattern: RegExp): Promise<void> {
  const err = await rejectionOf(p);
  expect(err).toMatchObject({ name });
  expect(err.message).toMatch(pattern);
}

/** Clients for fresh accounts named by `names`, logged in through `conns`. */
export async function people(conns: Connections, ...names: string[]): Promise<{ accounts: string[]; clients: ParleyClient[] }> {
  const accounts = names.map((n) => freshAccount(n));
  const clients = await Promise.all(accounts.map((a) => conns.client(a)));
  return { accounts, clients };
}
