/**
 * Event subscription over real sockets, in both modes: custom events reach
 * subscribers live (and the publisher's other devices with `sync`); the
 * refusals (reserved values, type, bounds of validTime and subscribeTime,
 * accounts per call, subscriptions per account); queries and cancels; the
 * current events at once with `sync`; at login, events published with
 * `broadcastType` 2 before `syncdone`, not those with 1, not expired ones;
 * a lapsed subscription delivers nothing; the built-in online status (1 at
 * login, 2 on `logout`, 3 on a dropped socket) with the device type.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { PushEvent } from '../../engine/protocol/methods/events.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { useConnections } from '../helpers/connections.ts';
import { tokenFor } from '../helpers/engine.ts';
import { describeBothModes } from '../helpers/modes.ts';
import type { Frame } from '../helpers/raw-client.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';

function heard(c: ParleyClient): PushEvent[] {
  const events: PushEvent[] = [];
  c.on('pushevents', (d) => events.push(...d.msgEvents));
  return events;
}

async function refusal(p: Promise<unknown>, name: string, pattern: RegExp): Promise<void> {
  const err = await rejectionOf(p);
  expect(err).toMatchObject({ name });
  expect(err.message).toMatch(pattern);
}

/** Events once each: an event pushed at once with `sync` may also come live. */
const once = (events: PushEvent[]) => events.filter((e, i) => events.findIndex((x) => x.idServer === e.idServer) === i);
const custom = (events: PushEvent[]) => once(events).filter((e) => e.value > 10000);
const statuses = (events: PushEvent[], account: string) =>
  once(events)
    .filter((e) => e.account === account && e.value < 10000)
    .map((e) => [e.value, e.clientType]);

describeBothModes('event subscription', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_EVENT_MAX_SUBSCRIPTIONS: '5' } });
  const conns = useConnections(() => engine.url);

  it('a published event reaches the subscribers live, and the other devices of the publisher with sync', async () => {
    const [a, b, c] = [freshAccount('alice'), freshAccount('bob'), freshAccount('carol')];
    const alicePhone = await conns.client(a, { deviceId: 'phone', deviceType: 'ios' });
    const aliceDesk = await conns.client(a, { deviceId: 'desk', deviceType: 'pc' });
    const bob = await conns.client(b);
    const carol = await conns.client(c);
    const [bobHeard, carolHeard, deskHeard] = [heard(bob), heard(carol), heard(aliceDesk)];
    expect(await bob.subscribeEvent({ type: 1, accounts: [a] })).toEqual({ failedAccounts: [] });

    const ev = await alicePhone.publishEvent({ type: 1, value: 10001, custom: '{"mood":"busy"}' });
    expect(ev).toMatchObject({ account: a, type: 1, value: 10001, custom: '{"mood":"busy"}', clientType: 'ios' });
    expect(typeof ev.idServer).toBe('string');
    await alicePhone.publishEvent({ type: 1, value: 10002, sync: true });
    await waitFor('bob hears both events', () => custom(bobHeard).length === 2);
    expect(custom(bobHeard)[0]).toEqual(ev);
    await waitFor('the desk hears the synced one', () => custom(deskHeard).length === 1);
    expect(custom(deskHeard).map((e) => e.value)).toEqual([10002]);
    // Carol never subscribed: after bob's events, a later one of her own subscription arrives and nothing of alice's before it.
    await carol.subscribeEvent({ type: 1, accounts: [b] });
    await bob.publishEvent({ type: 1, value: 10003 });
    await waitFor('carol hears bob', () => custom(carolHeard).length === 1);
    expect(custom(carolHeard).map((e) => [e.account, e.value])).toEqual([[b, 10003]]);
  });

  it('refuses reserved values, other types and arguments out of bounds, naming them', async () => {
    const alice = await conns.client(freshAccount('alice'));
    await refusal(alice.publishEvent({ type: 1, value: 1 }), 'BAD_REQUEST', /reserved/);
    await refusal(alice.publishEvent({ type: 1, value: 10000 }), 'BAD_REQUEST', /reserved/);
    await refusal(alice.publishEvent({ type: 2, value: 10001 }), 'BAD_REQUEST', /type/);
    await refusal(alice.publishEvent({ type: 1, value: 10001, validTime: 59 }), 'BAD_REQUEST', /validTime/);
    await refusal(alice.publishEvent({ type: 1, value: 10001, validTime: 604_801 }), 'BAD_REQUEST', /validTime/);
    await refusal(alice.publishEvent({ type: 1, value: 10001, broadcastType: 3 }), 'BAD_REQUEST', /broadcastType/);
    await refusal(alice.subscribeEvent({ type: 1, accounts: ['x'], subscribeTime: 59 }), 'BAD_REQUEST', /subscribeTime/);
    await refusal(alice.subscribeEvent({ type: 1, accounts: ['x'], subscribeTime: 2_592_001 }), 'BAD_REQUEST', /subscribeTime/);
    const many = Array.from({ length: 101 }, (_, i) => `acct${i}`);
    await refusal(alice.subscribeEvent({ type: 1, accounts: many }), 'BAD_REQUEST', /accounts/);
    await refusal(alice.subscribeEvent({ type: 1, accounts: [] }), 'BAD_REQUEST', /accounts/);
    await refusal(alice.querySubscribeEventsByType({ type: 2 }), 'BAD_REQUEST', /type/);
  });

  it('holds at most the configured subscriptions: the rest fail, renewals fit, a full account is refused', async () => {
    const a = freshAccount('alice');
    const alice = await conns.client(a);
    const others = Array.from({ length: 7 }, (_, i) => freshAccount(`w${i}`));
    const r = await alice.subscribeEvent({ type: 1, accounts: [a, ...others] });
    expect(r.failedAccounts).toEqual([a, others[5], others[6]]);
    expect((await alice.querySubscribeEventsByType({ type: 1 })).map((s) => s.account).sort()).toEqual(others.slice(0, 5).sort());
    expect(await alice.subscribeEvent({ type: 1, accounts: [others[0]!], subscribeTime: 600 })).toEqual({ failedAccounts: [] });
    await refusal(alice.subscribeEvent({ type: 1, accounts: [others[6]!] }), 'BAD_REQUEST', /5 event subscriptions/);
    await alice.unSubscribeEventsByAccounts({ type: 1, accounts: [others[1]!] });
    expect(await alice.subscribeEvent({ type: 1, accounts: [others[6]!] })).toEqual({ failedAccounts: [] });
  });

  it('lists subscriptions by accounts and by type; cancels by accounts and by type stop the events', async () => {
    const [a, b, c] = [freshAccount('alice'), freshAccount('bob'), freshAccount('carol')];
    const [alice, bob, carol] = [await conns.client(a), await conns.client(b), await conns.client(c)];
    const aliceHeard = heard(alice);
    const before = Date.now();
    await alice.subscribeEvent({ type: 1, accounts: [b, c], subscribeTime: 3600 });
    const [sub] = await alice.querySubscribeEventsByAccounts({ type: 1, accounts: [b, 'nobody'] });
    expect(sub).toMatchObject({ account: b, type: 1, subscribeTime: 3600 });
    expect(sub!.time).toBeGreaterThanOrEqual(before - 1000);
    expect(sub!.expireTime).toBe(sub!.time + 3_600_000);
    expect((await alice.querySubscribeEventsByType({ type: 1 })).map((s) => s.account).sort()).toEqual([b, c].sort());

    await alice.unSubscribeEventsByAccounts({ type: 1, accounts: [b] });
    expect(await alice.querySubscribeEventsByAccounts({ type: 1, accounts: [b] })).toEqual([]);
    await bob.publishEvent({ type: 1, value: 10010 });
    await carol.publishEvent({ type: 1, value: 10011 });
    await waitFor('carol heard', () => custom(aliceHeard).length === 1);
    expect(custom(aliceHeard).map((e) => e.account)).toEqual([c]);

    await alice.unSubscribeEventsByType({ type: 1 });
    expect(await alice.querySubscribeEventsByType({ type: 1 })).toEqual([]);
    // A fresh subscription's event arrives; nothing of carol's before it.
    const d = freshAccount('dave');
    const dave = await conns.client(d);
    await alice.subscribeEvent({ type: 1, accounts: [d] });
    await carol.publishEvent({ type: 1, value: 10012 });
    await dave.publishEvent({ type: 1, value: 10013 });
    await waitFor('dave heard', () => custom(aliceHeard).length === 2);
    expect(custom(aliceHeard).map((e) => e.value)).toEqual([10011, 10013]);
  });

  it('a subscription made on one device changes what the account\'s other devices get', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const phone = await conns.client(a, { deviceId: 'phone', deviceType: 'ios' });
    const desk = await conns.client(a, { deviceId: 'desk', deviceType: 'pc' });
    const bob = await conns.client(b);
    const deskHeard = heard(desk);
    await phone.subscribeEvent({ type: 1, accounts: [b] });
    await bob.publishEvent({ type: 1, value: 10020 });
    await waitFor('the desk hears bob', () => custom(deskHeard).length === 1);
  });

  it('with sync, subscribing pushes the accounts\' current events at once', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const bob = await conns.client(b);
    await bob.publishEvent({ type: 1, value: 10030, custom: 'x', broadcastType: 1 });
    const alice = await conns.client(a);
    const aliceHeard = heard(alice);
    await alice.subscribeEvent({ type: 1, accounts: [b], sync: true });
    await waitFor('the current event', () => custom(aliceHeard).length === 1);
    expect(custom(aliceHeard)[0]).toMatchObject({ account: b, value: 10030, custom: 'x' });
    // Bob's own online status comes along.
    expect(statuses(aliceHeard, b)).toEqual([[1, 'web']]);
  });

  it('at login, before syncdone: events published with broadcastType 2 while the subscriber was away, not those with 1', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const first = await conns.client(a);
    await first.subscribeEvent({ type: 1, accounts: [b] });
    await first.disconnect();
    const bob = await conns.client(b, { deviceType: 'android' });
    await bob.publishEvent({ type: 1, value: 10040, broadcastType: 2 });
    await bob.publishEvent({ type: 1, value: 10041, broadcastType: 1 });
    await bob.publishEvent({ type: 1, value: 10042 });

    const r = await conns.raw();
    expect((await r.request('login', { token: await tokenFor(a) })).e).toBeUndefined();
    await r.event('syncdone', 20_000);
    const frames = r.received.filter((f: Frame) => f.ev === 'pushevents' || f.ev === 'syncdone');
    expect(frames.at(-1)!.ev).toBe('syncdone');
    const got = frames.filter((f) => f.ev === 'pushevents').flatMap((f) => f.d.msgEvents as PushEvent[]);
    expect(custom(got).map((e) => e.value)).toEqual([10040, 10042]);
    expect(statuses(got, b)).toEqual([[1, 'android']]);
  });

  it('online status: 1 at login, 2 on logout, 3 on a dropped socket, with the device type', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const alice = await conns.client(a);
    const aliceHeard = heard(alice);
    await alice.subscribeEvent({ type: 1, accounts: [b] });
    const phone = await conns.client(b, { deviceId: 'phone', deviceType: 'ios' });
    await waitFor('online', () => statuses(aliceHeard, b).length === 1);
    expect(statuses(aliceHeard, b)).toEqual([[1, 'ios']]);
    const kicked: string[] = [];
    phone.on('kicked', (k) => kicked.push(k.reason));
    expect(await phone.logout()).toEqual({ account: b, deviceId: 'phone' });
    await waitFor('logged out', () => statuses(aliceHeard, b).length === 2);
    expect(statuses(aliceHeard, b)[1]).toEqual([2, 'ios']);
    expect(kicked).toEqual(['logout']);

    const r = await conns.raw();
    expect((await r.request('login', { token: await tokenFor(b), deviceId: 'tab', deviceType: 'android' })).e).toBeUndefined();
    await waitFor('online again', () => statuses(aliceHeard, b).length === 3);
    r.terminate();
    await waitFor('disconnected', () => statuses(aliceHeard, b).length === 4);
    expect(statuses(aliceHeard, b).slice(2)).toEqual([
      [1, 'android'],
      [3, 'android'],
    ]);
  });
});

describeBothModes('event and subscription expiry', (mode) => {
  // One second of validTime and subscribeTime lasts 20 ms here: 60 s is 1.2 s.
  const engine = mode.useEngine({ env: { PARLEY_EVENT_SECOND_MS: '20' } });
  const conns = useConnections(() => engine.url);

  it('an expired event is not delivered at login nor with sync', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const first = await conns.client(a);
    await first.subscribeEvent({ type: 1, accounts: [b] });
    await first.disconnect();
    const bob = await conns.client(b);
    const short = await bob.publishEvent({ type: 1, value: 10050, validTime: 60 });
    await bob.publishEvent({ type: 1, value: 10051 });
    await waitFor('the short event lapses', () => Date.now() > short.time + 1300, 5000);

    const r = await conns.raw();
    expect((await r.request('login', { token: await tokenFor(a) })).e).toBeUndefined();
    await r.event('syncdone', 20_000);
    const got = r.received.filter((f: Frame) => f.ev === 'pushevents').flatMap((f) => f.d.msgEvents as PushEvent[]);
    expect(custom(got).map((e) => e.value)).toEqual([10051]);

    const c = await conns.client(freshAccount('carol'));
    const carolHeard = heard(c);
    expect(await c.subscribeEvent({ type: 1, accounts: [b], sync: true })).toEqual({ failedAccounts: [] });
    await waitFor('current events', () => custom(carolHeard).length === 1);
    expect(custom(carolHeard).map((e) => e.value)).toEqual([10051]);
  });

  it('a lapsed subscription delivers nothing and is no longer listed', async () => {
    const [a, b, c] = [freshAccount('alice'), freshAccount('bob'), freshAccount('carol')];
    const [alice, bob, carol] = [await conns.client(a), await conns.client(b), await conns.client(c)];
    const aliceHeard = heard(alice);
    await alice.subscribeEvent({ type: 1, accounts: [b], subscribeTime: 60 });
    await alice.subscribeEvent({ type: 1, accounts: [c] });
    const [sub] = await alice.querySubscribeEventsByAccounts({ type: 1, accounts: [b] });
    expect(sub!.expireTime - sub!.time).toBe(1200);
    await waitFor('the subscription lapses', () => Date.now() > sub!.expireTime + 100, 5000);
    expect((await alice.querySubscribeEventsByType({ type: 1 })).map((s) => s.account)).toEqual([c]);
    await bob.publishEvent({ type: 1, value: 10060 });
    await carol.publishEvent({ type: 1, value: 10061 });
    await waitFor('carol heard', () => custom(aliceHeard).length === 1);
    expect(custom(aliceHeard).map((e) => e.account)).toEqual([c]);
  });
});

describe('event subscription limits are configuration', () => {
  it('PARLEY_EVENT_MAX_SUBSCRIPTIONS and PARLEY_EVENT_SECOND_MS are checked', async () => {
    const { parseConfig, ConfigError } = await import('../../engine/config.ts');
    expect(parseConfig({ PARLEY_EVENT_MAX_SUBSCRIPTIONS: '10' }).eventMaxSubscriptions).toBe(10);
    expect(parseConfig({}).eventMaxSubscriptions).toBe(3000);
    expect(() => parseConfig({ PARLEY_EVENT_MAX_SUBSCRIPTIONS: '0' })).toThrow(ConfigError);
  });
});
