/**
 * The edge's answers to the event-subscription methods that change what
 * the edges fan out (`subscribeEvent`, `unSubscribeEvents*`), and to
 * `logout`: the subscriber's presence actor records the change, then every
 * edge holding a socket of the account hears it (`EventFanout.publishControl`).
 */
import { presenceCalls } from '../actors/presence/calls.ts';
import type { Args, Results } from '../engine/protocol/methods.ts';
import { presenceAddress } from '../engine/subjects.ts';
import type { Conn } from './connection.ts';
import type { EventFanout } from './events.ts';
import { currentEvents } from './events.ts';

type EventAnswered = 'subscribeEvent' | 'unSubscribeEventsByAccounts' | 'unSubscribeEventsByType' | 'logout';

export const EVENT_ANSWERS: {
  readonly [M in EventAnswered]: (services: { readonly events: EventFanout }, conn: Conn, args: Args<M>) => Results[M] | Promise<Results[M]>;
} = {
  async subscribeEvent({ events }, conn, args) {
    const r = (await events.actors.hold(presenceAddress(conn.account), 'eventSubscribe', { pubs: args.accounts, sec: args.subscribeTime }, conn.caller, presenceCalls.eventSubscribe.retry)) as {
      failed: string[];
      ok: Array<[string, number]>;
      edges?: string[];
    };
    // Events published once the answer is out reach the account's devices on this edge and every other.
    if (r.ok.length > 0) await events.publishControlConfirmed(conn.account, { add: r.ok }, r.edges ?? []);
    if (args.sync && r.ok.length > 0) {
      const current = await currentEvents((address, m, a) => events.actors.hold(address, m, a, conn.caller, 'idempotent'), r.ok.map(([p]) => p), false);
      events.push(conn, current);
    }
    return { failedAccounts: r.failed };
  },
  async unSubscribeEventsByAccounts({ events }, conn, args) {
    await events.actors.hold(presenceAddress(conn.account), 'eventUnsubscribe', { pubs: args.accounts }, conn.caller, presenceCalls.eventUnsubscribe.retry);
    events.publishControl(conn.account, { remove: args.accounts });
    return { failedAccounts: [] };
  },
  async unSubscribeEventsByType({ events }, conn, args) {
    await events.actors.hold(presenceAddress(conn.account), 'eventUnsubscribe', {}, conn.caller, presenceCalls.eventUnsubscribe.retry);
    events.publishControl(conn.account, { all: true });
    return { type: args.type };
  },
  logout({ events }, conn) {
    events.closeLoggedOut(conn);
    return { account: conn.account, deviceId: conn.deviceId };
  },
};
