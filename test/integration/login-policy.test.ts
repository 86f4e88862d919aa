/**
 * The login policy over real sockets with the real SDK, in both modes
 * (PARLEY_DEVICE_LIMITS `mobile=1,*=3`): a second phone displaces the first
 * (`kicked`, reason `samePlatformKick`, from the new phone; closed 4003, no
 * reconnect) and nothing else; a device reconnecting under its own id
 * displaces nobody; a device that closed no longer counts; the total rule
 * displaces the oldest login; the admin API's `getOnlineDevices` lists the
 * devices online, oldest first, and refuses a body without an account.
 */
import { expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { watch } from '../helpers/kick-watch.ts';
import { useConnections } from '../helpers/connections.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { waitFor } from '../helpers/wait.ts';

const KEY = 'admin-key-login-policy-0123456789';

async function post(port: number, method: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/admin/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describeBothModes('login policy', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_ADMIN_API_KEY: KEY, PARLEY_DEVICE_LIMITS: 'mobile=1,*=3' } });
  const conns = useConnections(() => engine.url);
  const fastRetry = { backoff: { initialMs: 20, maxMs: 50, jitter: 0 } };
  const online = async (account: string): Promise<string[]> => {
    const { status, json } = await post(engine.port, 'getOnlineDevices', { account });
    expect(status).toBe(200);
    return json.result.devices.map((d: { deviceId: string }) => d.deviceId);
  };
  /** Waits until the presence actor lists exactly `ids`, in login order. */
  const listed = (account: string, ids: string[]) =>
    waitFor(`online devices are ${ids.join(', ')}`, async () => JSON.stringify(await online(account)) === JSON.stringify(ids));

  it('a second phone displaces the first, from the new one; the other devices stay', async () => {
    const alice = freshAccount('alice');
    const web = await conns.client(alice, { deviceId: 'web', ...fastRetry });
    const iphone = await conns.client(alice, { deviceId: 'iphone', deviceType: 'ios', ...fastRetry });
    await listed(alice, ['web', 'iphone']);
    const [webSeen, iphoneSeen] = [watch(web), watch(iphone)];

    const android = await conns.client(alice, { deviceId: 'android', deviceType: 'android', ...fastRetry });
    const androidSeen = watch(android);
    await waitFor('the iPhone is displaced and closed', () => iphoneSeen.closes.length === 1);
    expect(iphoneSeen.kicked).toEqual([{ reason: 'samePlatformKick', from: 'android' }]);
    expect(iphoneSeen.closes[0]).toMatchObject({ willReconnect: false });
    await waitFor('the web device sees the iPhone go offline', () => webSeen.ports.some((p) => p[0]?.deviceId === 'iphone' && p[0]?.online === false));
    await listed(alice, ['web', 'android']);
    expect(iphone.state).toBe('closed');
    expect([web.state, android.state]).toEqual(['ready', 'ready']);
    expect(webSeen.kicked).toEqual([]);
    expect(androidSeen.kicked).toEqual([]);
  });

  it('a reconnect under the same device id displaces nobody, and a device that closed no longer counts', async () => {
    const bob = freshAccount('bob');
    const first = await conns.client(bob, { deviceId: 'phone', deviceType: 'ios', ...fastRetry });
    await listed(bob, ['phone']);
    const firstSeen = watch(first);
    await first.disconnect();
    await listed(bob, []);
    const again = await conns.client(bob, { deviceId: 'phone', deviceType: 'ios', ...fastRetry });
    const againSeen = watch(again);
    await listed(bob, ['phone']);
    // A second socket of the same device while the first is open: the device is one entry, nobody is displaced.
    const twin = await conns.client(bob, { deviceId: 'phone', deviceType: 'ios', ...fastRetry });
    await listed(bob, ['phone']);
    expect(await twin.getServerTime()).toBeTypeOf('number');
    expect(await again.getServerTime()).toBeTypeOf('number');
    expect([firstSeen.kicked, againSeen.kicked]).toEqual([[], []]);
    // Another phone displaces the device, every socket of it.
    const twinSeen = watch(twin);
    await conns.client(bob, { deviceId: 'other-phone', deviceType: 'android', ...fastRetry });
    await waitFor('both sockets of the phone are closed', () => againSeen.closes.length === 1 && twinSeen.closes.length === 1);
    expect(againSeen.kicked).toEqual([{ reason: 'samePlatformKick', from: 'other-phone' }]);
    await listed(bob, ['other-phone']);
  });

  it('the total rule displaces the oldest login', async () => {
    const carol = freshAccount('carol');
    const clients: ParleyClient[] = [];
    for (const id of ['w1', 'w2', 'w3']) {
      clients.push(await conns.client(carol, { deviceId: id, ...fastRetry }));
      await listed(carol, ['w1', 'w2', 'w3'].slice(0, clients.length));
    }
    const seen = clients.map(watch);
    await conns.client(carol, { deviceId: 'pc', deviceType: 'pc', ...fastRetry });
    await waitFor('the oldest web device is displaced', () => seen[0]!.closes.length === 1);
    expect(seen[0]!.kicked).toEqual([{ reason: 'samePlatformKick', from: 'pc' }]);
    await listed(carol, ['w2', 'w3', 'pc']);
    expect(seen[1]!.kicked.concat(seen[2]!.kicked)).toEqual([]);
  });

  it('getOnlineDevices names what is wrong with its body', async () => {
    const { status, json } = await post(engine.port, 'getOnlineDevices', {});
    expect(status).toBe(400);
    expect(json.error.name).toBe('BAD_REQUEST');
    expect(json.error.message).toContain('account');
    expect(await online(freshAccount('nobody'))).toEqual([]);
  });
});

