/**
 * Kicking devices, over real sockets with the real SDK, in both modes: a
 * device kicks another of its account (the kicked one is told `kicked`
 * with the reason and `from`, its socket closes with 4003 and its SDK does
 * not reconnect; the kicker and a third device stay, the third sees the
 * kicked device go offline); unknown ids and the kicker's own id are
 * harmless; the admin API's `kick` closes every device of an account, or
 * the ones named, and refuses a wrong key.
 */
import { describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../edge/edge.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { tokenFor } from '../helpers/engine.ts';
import { watch } from '../helpers/kick-watch.ts';
import { useConnections } from '../helpers/connections.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { waitFor } from '../helpers/wait.ts';

const KEY = 'admin-key-kick-0123456789';

/** POSTs `body` to an admin method with `key`. */
async function post(port: number, method: string, body: unknown, key = KEY): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/admin/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** A few backoff delays: long enough for a reconnect to have happened if one were coming. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describeBothModes('kick', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_ADMIN_API_KEY: KEY } });
  const conns = useConnections(() => engine.url);
  /** Quick retries, so a reconnect after a kick would show within `settle`. */
  const fastRetry = { backoff: { initialMs: 20, maxMs: 50, jitter: 0 } };

  it('a device kicks another: it is told why and by whom, closed for good; the kicker and a third device stay', async () => {
    const alice = freshAccount('alice');
    const phone = await conns.client(alice, { deviceId: 'phone', ...fastRetry });
    const tablet = await conns.client(alice, { deviceId: 'tablet', ...fastRetry });
    const laptop = await conns.client(alice, { deviceId: 'laptop', deviceType: 'pc', ...fastRetry });
    const phoneSeen = watch(phone);
    const laptopSeen = watch(laptop);

    expect(await tablet.kick({ deviceIds: ['phone'] })).toEqual({ deviceIds: ['phone'] });
    await waitFor('the phone is kicked and closed', () => phoneSeen.closes.length === 1);
    expect(phoneSeen.kicked).toEqual([{ reason: 'kickedByOtherDevice', from: 'tablet' }]);
    expect(phoneSeen.closes[0]).toMatchObject({ willReconnect: false });
    await waitFor('the laptop sees the phone go offline', () => laptopSeen.ports.some((p) => p[0]?.deviceId === 'phone' && p[0]?.online === false));

    await settle();
    expect(phone.state).toBe('closed');
    expect(laptopSeen.ports.filter((p) => p[0]?.deviceId === 'phone' && p[0]?.online === true)).toEqual([]);
    expect(laptopSeen.kicked).toEqual([]);
    // The kicker and the third device still answer.
    expect(typeof (await tablet.getServerTime())).toBe('number');
    expect(typeof (await laptop.getServerTime())).toBe('number');
    expect(tablet.state).toBe('ready');
    expect(laptop.state).toBe('ready');
  });

  it('closes the kicked socket with 4003 after the kicked frame', async () => {
    const bob = freshAccount('bob');
    const kicker = await conns.client(bob, { deviceId: 'kicker' });
    const raw = await conns.raw();
    expect((await raw.request('login', { token: await tokenFor(bob), deviceId: 'victim' })).r.deviceId).toBe('victim');
    await kicker.kick({ deviceIds: ['victim'] });
    expect((await raw.event('kicked')).d).toEqual({ reason: 'kickedByOtherDevice', from: 'kicker' });
    expect((await raw.waitClosed()).code).toBe(CLOSE_CODES.kicked);
  });

  it('ignores unknown device ids, other accounts, and the kicker itself', async () => {
    const carol = freshAccount('carol');
    const dave = freshAccount('dave');
    const c1 = await conns.client(carol, { deviceId: 'one' });
    const c2 = await conns.client(carol, { deviceId: 'two' });
    const d1 = await conns.client(dave, { deviceId: 'two' });
    const seen = [watch(c1), watch(c2), watch(d1)];
    expect(await c1.kick({ deviceIds: ['nobody', 'one'] })).toEqual({ deviceIds: ['nobody', 'one'] });
    await settle();
    for (const s of seen) expect(s.kicked).toEqual([]);
    for (const c of [c1, c2, d1]) expect(c.state).toBe('ready');
    await expect(c1.kick({ deviceIds: [] })).rejects.toMatchObject({ name: 'BAD_REQUEST' });
    await expect(c1.kick({ deviceIds: Array.from({ length: 11 }, (_, i) => `d${i}`) })).rejects.toMatchObject({ name: 'BAD_REQUEST' });
  });

  it('admin kick closes every device of the account, or only those named, and refuses a wrong key', async () => {
    const erin = freshAccount('erin');
    const other = freshAccount('other');
    const e1 = await conns.client(erin, { deviceId: 'e1', ...fastRetry });
    const e2 = await conns.client(erin, { deviceId: 'e2', ...fastRetry });
    const o1 = await conns.client(other, { deviceId: 'o1' });
    const [s1, s2, so] = [watch(e1), watch(e2), watch(o1)];

    const refused = await post(engine.port, 'kick', { account: erin }, 'wrong-key');
    expect(refused).toMatchObject({ status: 401, json: { error: { name: 'UNAUTHORIZED' } } });
    const bad = await post(engine.port, 'kick', { account: erin, deviceIds: [] });
    expect(bad.status).toBe(400);
    await settle();
    expect([e1.state, e2.state]).toEqual(['ready', 'ready']);

    const named = await post(engine.port, 'kick', { account: erin, deviceIds: ['e2'], custom: 'policy' });
    expect(named).toEqual({ status: 200, json: { result: { account: erin, deviceIds: ['e2'] } } });
    await waitFor('e2 closed', () => s2.closes.length === 1);
    expect(s2.kicked).toEqual([{ reason: 'kickedByAdmin', from: 'admin', custom: 'policy' }]);
    expect(e1.state).toBe('ready');

    const e3 = await conns.client(erin, { deviceId: 'e3', ...fastRetry });
    const s3 = watch(e3);
    const all = await post(engine.port, 'kick', { account: erin });
    expect(all).toEqual({ status: 200, json: { result: { account: erin } } });
    await waitFor('every device of erin closed', () => s1.closes.length === 1 && s3.closes.length === 1);
    expect(s1.kicked).toEqual([{ reason: 'kickedByAdmin', from: 'admin' }]);
    expect(s3.kicked).toEqual([{ reason: 'kickedByAdmin', from: 'admin' }]);
    await settle();
    expect([e1.state, e2.state, e3.state]).toEqual(['closed', 'closed', 'closed']);
    expect(so.kicked).toEqual([]);
    expect(o1.state).toBe('ready');
    await waitFor('no socket of erin left on the edge', () => engine.edge!.stats().connections === 1);
  });
});

describe('kick declaration', () => {
  it('is an admin method whose body requires only `account`', async () => {
    const { adminMethods } = await import('../../engine/admin/methods.ts');
    expect(adminMethods().kick?.json).toMatchObject({ required: ['account'] });
  });
});
