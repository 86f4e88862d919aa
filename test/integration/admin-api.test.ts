/**
 * The admin HTTP API over real HTTP, in both modes: keys (two, for
 * rotation; a wrong one and none are refused), the OpenAPI document, body
 * validation with the wire schemas, an admin `sendMsg` that reaches the
 * recipient's socket and history in the same `seq` stream as client sends,
 * methods run as a given account, and the per-key rate limit. Off without
 * keys.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Message } from '../../engine/protocol/methods.ts';
import { startEngine } from '../helpers/engine.ts';
import type { TestEngine } from '../helpers/engine.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { setupOrFail } from '../helpers/setup-or-fail.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';

const KEYS = ['admin-key-old-0123456789', 'admin-key-new-9876543210'];

/** POSTs `body` to an admin method with `key` (null: no Authorization header). */
async function post(port: number, method: string, body: unknown, key: string | null = KEYS[1]!): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/admin/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describeBothModes('admin API', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_ADMIN_API_KEY: KEYS.join(','), PARLEY_ADMIN_RATE_PER_SEC: '40' } });
  const conns = useConnections(() => engine.url);

  it('refuses a missing or wrong key with 401, takes either configured key, and serves its OpenAPI document without one', async () => {
    expect((await post(engine.port, 'getServerSessions', { account: 'x' }, null)).status).toBe(401);
    const wrong = await post(engine.port, 'getServerSessions', { account: 'x' }, 'nope');
    expect(wrong).toMatchObject({ status: 401, json: { error: { name: 'UNAUTHORIZED' } } });
    for (const key of KEYS) expect((await post(engine.port, 'getServerSessions', { account: freshAccount('k') }, key)).status).toBe(200);
    const doc = await (await fetch(`http://127.0.0.1:${engine.port}/v1/admin/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/admin/sendMsg');
  });

  it('sends as any account into the same seq stream as client sends, reaching the socket and the history', async () => {
    const alice = freshAccount('alice');
    const bob = freshAccount('bob');
    const b = await conns.client(bob, { deviceId: 'b1' });
    const a = await conns.client(alice, { deviceId: 'a1' });
    const got: Message[] = [];
    b.on('msg', (m) => got.push(m));
    const first = await a.sendText({ scene: 'p2p', to: bob, text: 'from the client' });
    const sent = await post(engine.port, 'sendMsg', { from: alice, scene: 'p2p', to: bob, type: 'text', text: 'from the backend', custom: '{"k":1}' });
    expect(sent.status, JSON.stringify(sent.json)).toBe(200);
    expect(sent.json.result).toMatchObject({ from: alice, to: bob, text: 'from the backend', seq: first.seq + 1, custom: '{"k":1}', fromClientType: 'server' });
    await waitFor('both messages delivered', () => got.length === 2);
    expect(got.map((m) => m.text)).toEqual(['from the client', 'from the backend']);
    const history = await post(engine.port, 'getHistoryMsgs', { account: bob, scene: 'p2p', to: alice });
    expect(history.json.result.msgs.map((m: Message) => m.seq)).toEqual([first.seq + 1, first.seq]);
    const sessions = await post(engine.port, 'getServerSessions', { account: bob });
    expect(sessions.json.result.sessionList[0]).toMatchObject({ id: `p2p-${alice}`, unread: 2 });
    expect((await post(engine.port, 'resetSessionsUnread', { account: bob, sessionIds: [`p2p-${alice}`] })).json.result.sessionList[0].unread).toBe(0);
  });

  it("creates and dismisses supergroups for the host's backend, which clients may not (by default)", async () => {
    const owner = freshAccount('owner');
    const member = freshAccount('member');
    const client = await conns.client(owner);
    const refused = await rejectionOf(client.createSuperTeam({ name: 'from a client' }));
    expect(refused).toMatchObject({ name: 'FORBIDDEN' });
    const created = await post(engine.port, 'createSuperTeam', { account: owner, name: 'from the backend', beInviteMode: 'noVerify', accounts: [member] });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const teamId = created.json.result.team.teamId as string;
    const members = await post(engine.port, 'getSuperTeamMembersByJoinTime', { account: owner, teamId });
    expect(members.status, JSON.stringify(members.json)).toBe(200);
    expect(JSON.stringify(members.json.result)).toContain(member);
    const dismissed = await post(engine.port, 'dismissSuperTeam', { account: owner, teamId });
    expect(dismissed.status, JSON.stringify(dismissed.json)).toBe(200);
  });

  it('validates bodies with the wire schemas, naming what is wrong, with the HTTP status of the error', async () => {
    const alice = freshAccount('alice');
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['sendMsg', { scene: 'p2p', to: 'bob', type: 'text', text: 'x' }, 400, /`from` is required/],
      ['sendMsg', { from: alice, scene: 'p2p', to: 'bob', type: 'telegram', text: 'x' }, 400, /`type` must be one of 'text'/],
      ['sendMsg', { from: alice, scene: 'p2p', to: 'b|ob', type: 'text', text: 'x' }, 400, /`to` must be an identifier/],
      ['sendMsg', { from: alice, scene: 'p2p', to: 'bob', type: 'text', text: 'x'.repeat(5001) }, 413, /`text` must be at most 5000/],
      ['getServerSession', { account: alice, scene: 'p2p', to: 'nobody' }, 404, /no session/],
      ['getHistoryMsgs', '{not json', 400, /not JSON/],
      ['noSuchMethod', {}, 404, /no admin method/],
    ];
    for (const [method, body, status, message] of cases) {
      const r = await post(engine.port, method, body);
      expect(r.status, `${method} ${JSON.stringify(r.json)}`).toBe(status);
      expect(r.json.error.message).toMatch(message);
    }
  });

  it('limits each key to its rate, answering 429', async () => {
    const answers = await Promise.all(Array.from({ length: 150 }, () => post(engine.port, 'getServerSessions', { account: 'rate' }, KEYS[0]!)));
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.json.error.name).toBe('RATE_LIMITED');
  });
});

describe('admin API without keys', () => {
  let engine: TestEngine | undefined;
  setupOrFail(async () => {
    engine = await startEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('is off: every admin path answers 404', async () => {
    expect((await post(engine!.port, 'getServerSessions', { account: 'x' })).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${engine!.port}/v1/admin/openapi.json`)).status).toBe(404);
  });
});
