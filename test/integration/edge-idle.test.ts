/**
 * What sockets cost the edge while they wait or idle: one login timer for
 * every socket awaiting its login (not one each), deadlines kept per socket,
 * and deliveries that still reach every device of an account. The memory per
 * idle socket itself is measured by bench/idle-connections.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.ts';
import { startEngine, tokenFor } from '../helpers/engine.ts';
import type { TestEngine } from '../helpers/engine.ts';
import { describeBothModes } from '../helpers/modes.ts';

const LOGIN_TIMEOUT_MS = 400;

let engine: TestEngine | undefined;
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await engine?.stop();
  engine = undefined;
});

async function open(): Promise<RawClient> {
  const c = await RawClient.open(engine!.url);
  clients.push(c);
  return c;
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('sockets waiting for their login', () => {
  it('share one login timer however many there are', async () => {
    engine = await startEngine({ env: { PARLEY_LOGIN_TIMEOUT_MS: String(60_000) } });
    const before = timers();
    const waiting = await Promise.all(Array.from({ length: 40 }, () => open()));
    expect(waiting.every((c) => c.isOpen)).toBe(true);
    expect(timers() - before).toBeLessThanOrEqual(1);
  });

  it('are each closed at their own deadline, while a socket that logged in stays open', async () => {
    engine = await startEngine({ env: { PARLEY_LOGIN_TIMEOUT_MS: String(LOGIN_TIMEOUT_MS) } });
    const first = await open();
    const firstOpened = Date.now();
    const firstClosed = first.closed.then((c) => ({ ...c, at: Date.now() }));
    await new Promise((r) => setTimeout(r, LOGIN_TIMEOUT_MS / 2));
    const second = await open();
    const secondOpened = Date.now();
    const secondClosed = second.closed.then((c) => ({ ...c, at: Date.now() }));
    const member = await open();
    expect((await member.request('login', { token: await tokenFor('idle-member') })).r.account).toBe('idle-member');
    await member.event('syncdone');

    const a = await firstClosed;
    expect(a.code).toBe(4002);
    expect(a.at - firstOpened).toBeGreaterThanOrEqual(LOGIN_TIMEOUT_MS - 50);
    expect(second.isOpen).toBe(true);
    const b = await secondClosed;
    expect(b.code).toBe(4002);
    expect(b.at - secondOpened).toBeGreaterThanOrEqual(LOGIN_TIMEOUT_MS - 50);
    expect(member.isOpen).toBe(true);
    expect((await member.request('getServerTime')).r).toBeTypeOf('number');
  });

  it('keep the deadline after the sockets before them logged in or left', async () => {
    engine = await startEngine({ env: { PARLEY_LOGIN_TIMEOUT_MS: String(LOGIN_TIMEOUT_MS) } });
    const early = await Promise.all(Array.from({ length: 5 }, () => open()));
    const late = await open();
    early[0]!.terminate();
    for (const [i, c] of early.slice(1).entries()) {
      await c.request('login', { token: await tokenFor(`idle-early${i}`) });
      await c.event('syncdone');
    }
    expect((await late.closed).code).toBe(4002);
    expect(early.slice(1).every((c) => c.isOpen)).toBe(true);
  });
});

describeBothModes('an account with several sockets on one edge', ({ name, engineOptions }) => {
  it('gets each delivery on every socket but the sending one, also after sockets left and came back', async () => {
    engine = await startEngine(engineOptions());
    const acct = `idlemulti${name}`;
    const peer = await open();
    await peer.request('login', { token: await tokenFor(`${acct}peer`) });
    await peer.event('syncdone');
    const loginDevice = async (deviceId: string) => {
      const c = await open();
      expect((await c.request('login', { token: await tokenFor(acct), deviceId })).r.deviceId).toBe(deviceId);
      await c.event('syncdone');
      return c;
    };
    const send = async (from: RawClient, text: string) => {
      expect((await from.request('sendText', { scene: 'p2p', to: `${acct}peer`, text })).e).toBeUndefined();
    };
    const devices = [await loginDevice('d0'), await loginDevice('d1'), await loginDevice('d2')];
    await send(devices[0]!, 'one');
    for (const c of devices.slice(1)) expect((await c.next((f) => f.ev === 'msg')).d.text).toBe('one');
    expect((await peer.next((f) => f.ev === 'msg')).d.text).toBe('one');

    devices[1]!.close();
    await devices[1]!.closed;
    await send(devices[2]!, 'two');
    expect((await devices[0]!.next((f) => f.ev === 'msg')).d.text).toBe('two');

    // Every socket of the account leaves, then one comes back: the account's subscription is made anew.
    devices[0]!.close();
    devices[2]!.close();
    await Promise.all([devices[0]!.closed, devices[2]!.closed]);
    const back = await loginDevice('d3');
    await peer.request('sendText', { scene: 'p2p', to: acct, text: 'three' });
    expect((await back.next((f) => f.ev === 'msg')).d.text).toBe('three');

    // A socket's frames all arrive before its close: none got its own send back.
    const echoes = devices.map((c) => c.received.filter((f) => f.ev === 'msg').map((f) => f.d.text));
    expect(echoes).toEqual([['two'], ['one'], ['one']]);
    await back.request('getServerTime'); // answered after anything sent to it before
    expect(back.received.filter((f) => f.ev === 'msg').map((f) => f.d.text)).toEqual(['three']);
  });
});
