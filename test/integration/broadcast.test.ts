/**
 * The admin API's `broadcastMsg`, over real sockets with the real SDK in
 * both modes: every device online gets `broadcastmsg` once; a device that
 * logs in afterwards does not get it (nothing is stored) but gets the next
 * one; a bad body is refused naming the member.
 */
import { expect, it } from 'vitest';
import type { Events } from '../../engine/protocol/events.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { useConnections } from '../helpers/connections.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { waitFor } from '../helpers/wait.ts';
import type { ParleyClient } from '../../client/index.ts';

const KEY = 'admin-key-broadcast-0123456789';

describeBothModes('admin broadcast', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_ADMIN_API_KEY: KEY } });
  const conns = useConnections(() => engine.url);
  const post = async (body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${engine.port}/v1/admin/broadcastMsg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const hear = (c: ParleyClient) => {
    const got: Array<Events['broadcastmsg']> = [];
    c.on('broadcastmsg', (d) => got.push(d));
    return got;
  };

  it('reaches every device online once; a later device gets only later broadcasts', async () => {
    const [alice, bob] = [freshAccount('alice'), freshAccount('bob')];
    const a1 = await conns.client(alice, { deviceId: 'a1' });
    const a2 = await conns.client(alice, { deviceId: 'a2' });
    const b1 = await conns.client(bob, { deviceId: 'b1' });
    const heard = [a1, a2, b1].map(hear);

    const first = await post({ body: 'maintenance at noon', custom: '{"level":1}' });
    expect(first.status).toBe(200);
    expect(first.json.result).toMatchObject({ from: 'admin', body: 'maintenance at noon', custom: '{"level":1}' });
    await waitFor('every online device heard the broadcast', () => heard.every((h) => h.length === 1));
    for (const h of heard) expect(h[0]).toEqual(first.json.result);

    const late = await conns.client(bob, { deviceId: 'b2' });
    const lateHeard = hear(late);
    const second = await post({ body: 'done' });
    await waitFor('every device heard the second broadcast', () => heard.every((h) => h.length === 2) && lateHeard.length === 1);
    expect(lateHeard).toEqual([second.json.result]);
    expect(heard.map((h) => h.map((m) => m.body))).toEqual([['maintenance at noon', 'done'], ['maintenance at noon', 'done'], ['maintenance at noon', 'done']]);
  });

  it('sendSysMsg sends a custom system notification as any account, online only or kept for the next login', async () => {
    const [from, to] = [freshAccount('shop'), freshAccount('carol')];
    const sysPost = async (body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${engine.port}/v1/admin/sendSysMsg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as any };
    };
    const live: Array<Events['customsysmsg']> = [];
    const online = await conns.client(to, { deviceId: 'c1' });
    online.on('customsysmsg', (d) => live.push(d));
    const sent = await sysPost({ from, scene: 'p2p', to, content: 'typing' });
    expect(sent.status).toBe(200);
    expect(sent.json.result).toMatchObject({ type: 'custom', from, to, content: 'typing', fromDeviceId: 'admin' });
    await waitFor('the online device hears it', () => live.length === 1);
    expect(live[0]).toMatchObject({ from, content: 'typing' });

    const kept = await sysPost({ from, scene: 'p2p', to, content: 'your order shipped', sendToOnlineUsersOnly: false });
    expect(kept.status).toBe(200);
    await waitFor('the online device hears the kept one too', () => live.length === 2);
    const later: Array<Events['offlinecustomsysmsgs']> = [];
    const fresh = await conns.client(to, { deviceId: 'c2', on: { offlinecustomsysmsgs: (d: Events['offlinecustomsysmsgs']) => later.push(d) } });
    await fresh.synced;
    expect(later.flat().map((m) => m.content)).toEqual(['your order shipped']);

    const bad = await sysPost({ scene: 'p2p', to, content: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('from');
  });

  it('refuses a body that is missing (400) or too long (413), naming it', async () => {
    const missing = await post({});
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toContain('body');
    const long = await post({ body: 'x'.repeat(5001) });
    expect(long.status).toBe(413);
    expect(long.json.error.message).toContain('body');
  });
});
