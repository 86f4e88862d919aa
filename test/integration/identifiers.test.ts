/**
 * Identifiers and strict decoding over the wire, in both modes: arguments and
 * token claims that no account, device or message id can have are refused
 * with the error named in PROTOCOL.md before anything is stored, extension
 * types never reach the schemas, and error messages name the argument without
 * echoing the input.
 */
import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { encode } from '../../engine/protocol/codec.ts';
import { tokenFor, TEST_SECRET } from '../helpers/engine.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { RawClient } from '../helpers/raw-client.ts';

let accountSeq = 0;
function account(name: string): string {
  return `${name}${++accountSeq}x${Date.now().toString(36)}`;
}

/** Bad characters an identifier must refuse: pipe, NUL, newline, DEL, a C1 control, lone surrogates, a space. */
const BAD = ['|', '\u0000', '\n', '\u007f', '\u0085', '\ud800', '\udfff', ' '];

/** `{id, m, a}` with `raw` (already encoded bytes) as the value of `a[member]`. */
function frameWith(id: number, m: string, a: Record<string, unknown>, member: string, raw: number[]): Uint8Array {
  const marker = '\u0001MARK\u0001';
  const bytes = encode({ id, m, a: { ...a, [member]: marker } });
  const needle = encode(marker);
  const at = Buffer.from(bytes).indexOf(Buffer.from(needle));
  return new Uint8Array([...bytes.subarray(0, at), ...raw, ...bytes.subarray(at + needle.length)]);
}

const BIGINT_EXT = [0xd4, 0x42, 0x05];
const TIMESTAMP_EXT = [0xd6, 0xff, 0, 0, 0, 1];
const RECORD_EXT = [0xd4, 0x72, 0x40, 0x91, 0xa1, 0x78, 0x40, 0x01];

describeBothModes('identifiers and strict frames', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  function raw(): Promise<RawClient> {
    return conns.raw();
  }

  async function loggedIn(acct: string, deviceId?: string): Promise<RawClient> {
    const r = await raw();
    const login = await r.request('login', { token: await tokenFor(acct), ...(deviceId === undefined ? {} : { deviceId }) });
    expect(login.r, JSON.stringify(login.e)).toMatchObject({ account: acct });
    await r.event('syncdone');
    return r;
  }

  /** A fresh login, a send and a history read all work. */
  async function healthy(): Promise<void> {
    const alice = account('alice');
    const bob = account('bob');
    const r = await loggedIn(alice);
    const sent = await r.request('sendText', { scene: 'p2p', to: bob, text: 'still fine' });
    expect(sent.r, JSON.stringify(sent.e)).toMatchObject({ from: alice, to: bob, seq: 1 });
    const history = await r.request('getHistoryMsgs', { scene: 'p2p', to: bob });
    expect(history.r.msgs.map((m: { text: string }) => m.text)).toEqual(['still fine']);
  }

  it('refuses bad characters in `to`, `idClient`, `sessionId` and the cursors, naming the argument', async () => {
    const me = account('me');
    const peer = account('peer');
    const r = await loggedIn(me);
    for (const c of BAD) {
      const shown = JSON.stringify(c);
      for (const [m, a, named] of [
        ['sendText', { scene: 'p2p', to: `${peer}${c}x`, text: 'x' }, 'to'],
        ['getHistoryMsgs', { scene: 'p2p', to: `${peer}${c}` }, 'to'],
        ['getServerSession', { scene: 'p2p', to: `${c}${peer}` }, 'to'],
        ['sendText', { scene: 'p2p', to: peer, text: 'x', idClient: `c${c}1` }, 'idClient'],
        ['resetSessionUnread', { sessionId: `p2p-${peer}${c}` }, 'sessionId'],
      ] as const) {
        const f = await r.request(m, a);
        expect(f.e, `${m} ${named} ${shown}`).toMatchObject({ name: 'BAD_REQUEST' });
        expect(f.e!.message, `${m} ${named} ${shown}`).toContain(`\`${named}\``);
      }
    }
    // Nothing was stored: the peer has no session with me.
    const sessions = await r.request('getServerSessions', {});
    expect(sessions.r.sessionList).toEqual([]);
  });

  it('refuses a recipient that would split the pair at the wrong `|`', async () => {
    const me = account('me');
    const peer = account('peer');
    const r = await loggedIn(me);
    for (const to of [`${peer}|${me}`, `0|${me}`]) {
      const f = await r.request('sendText', { scene: 'p2p', to, text: 'x' });
      expect(f.e).toMatchObject({ name: 'BAD_REQUEST' });
      expect(f.e!.message).toMatch(/^`to` /);
      expect(f.e!.message).not.toContain(me);
    }
  });

  it('refuses bad device ids and cursor keys at login, and the socket may log in again', async () => {
    const me = account('me');
    for (const c of BAD) {
      const r = await raw();
      const f = await r.request('login', { token: await tokenFor(me), deviceId: `dev${c}1` });
      expect(f.e, JSON.stringify(c)).toMatchObject({ name: 'BAD_REQUEST' });
      expect(f.e!.message).toContain('`deviceId`');
      const key = await r.request('login', { token: await tokenFor(me), cursors: { seqs: { [`p2p-x${c}`]: 1 } } });
      expect(key.e, JSON.stringify(c)).toMatchObject({ name: 'BAD_REQUEST' });
      expect(key.e!.message).toContain('`cursors.seqs`');
      const ok = await r.request('login', { token: await tokenFor(me), deviceId: 'dev-1' });
      expect(ok.r).toMatchObject({ account: me, deviceId: 'dev-1' });
      r.terminate();
    }
  });

  it('refuses a token whose `sub` ends in a lone surrogate, before the socket is logged in', async () => {
    const key = new TextEncoder().encode(TEST_SECRET);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(`${account('sur')}\ud800`).setIssuedAt().sign(key);
    const r = await raw();
    const f = await r.request('login', { token });
    expect(f.e).toMatchObject({ name: 'UNAUTHORIZED' });
    expect(f.e!.message).toContain('`sub`');
    expect((await r.closed).code).toBe(4001);
    expect(r.received.some((x) => x.ev === 'syncdone')).toBe(false);
  });

  it('refuses a token issued a year in the future', async () => {
    const key = new TextEncoder().encode(TEST_SECRET);
    const iat = Math.floor(Date.now() / 1000) + 365 * 24 * 3600;
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(account('early')).setIssuedAt(iat).sign(key);
    const r = await raw();
    const f = await r.request('login', { token });
    expect(f.e).toMatchObject({ name: 'UNAUTHORIZED' });
    expect(f.e!.message).toContain('`iat`');
    expect((await r.closed).code).toBe(4001);
  });

  it('refuses extension types in `scene`, a `msgTypes` item and login `deviceType` with BAD_REQUEST, not INTERNAL', async () => {
    const me = account('me');
    const r = await loggedIn(me);
    let id = 100;
    for (const ext of [BIGINT_EXT, TIMESTAMP_EXT, RECORD_EXT]) {
      r.sendBytes(frameWith(++id, 'sendText', { scene: 'p2p', to: 'bob', text: 'x' }, 'scene', ext));
      const scene = await r.next((f) => f.id === id);
      expect(scene.e).toMatchObject({ name: 'BAD_REQUEST' });
      expect(scene.e!.message).toContain('`scene`');
      // A well-formed frame in between, so the socket is not closed as sending malformed frames in a row.
      expect(typeof (await r.request('getServerTime')).r).toBe('number');
      r.sendBytes(frameWith(++id, 'getHistoryMsgs', { scene: 'p2p', to: 'bob' }, 'msgTypes', [0x92, 0xa4, ...Buffer.from('text'), ...ext]));
      const item = await r.next((f) => f.id === id);
      expect(item.e).toMatchObject({ name: 'BAD_REQUEST' });
      expect(item.e!.message).toContain('`msgTypes[1]`');
      expect(typeof (await r.request('getServerTime')).r).toBe('number');

      const fresh = await raw();
      fresh.sendBytes(frameWith(1, 'login', { token: await tokenFor(me) }, 'deviceType', ext));
      const login = await fresh.next((f) => f.id === 1);
      expect(login.e).toMatchObject({ name: 'BAD_REQUEST' });
      expect(login.e!.message).toContain('`deviceType`');
      const again = await fresh.request('login', { token: await tokenFor(me), deviceType: 'ios' });
      expect(again.r).toMatchObject({ account: me });
      fresh.terminate();
    }
    await healthy();
  });

  it('names `a` and describes it by type when it is not a map, and cuts what it echoes', async () => {
    const r = await loggedIn(account('me'));
    const head = [0x83, 0xa2, 0x69, 0x64, 0x05, 0xa1, 0x6d, 0xa8, ...Buffer.from('sendText'), 0xa1, 0x61];
    for (const a of [TIMESTAMP_EXT, [0xd4, 0x73, 0x90], [0xd4, 0x78, 0x92, 0xa1, 0x78, 0xa0], [0xc7, 0x03, 0x74, 0x01, 0x00, 0x00]]) {
      r.sendBytes(new Uint8Array([...head, ...a]));
      const f = await r.next((x) => x.id === 5);
      expect(f.e).toMatchObject({ name: 'BAD_REQUEST' });
      expect(f.e!.message).toMatch(/^`a` /);
      expect(typeof (await r.request('getServerTime')).r).toBe('number');
    }
    const list = await r.request('sendText', [1, 2, 3]);
    expect(list.e!.message).toMatch(/^`a` must be a map .*a list of 3 items/);

    const long = 'q'.repeat(200_000);
    for (const [m, a] of [
      ['sendText', { scene: long, to: 'bob', text: 'x' }],
      [long, {}],
    ] as const) {
      const f = await r.request(m, a);
      expect(f.e).toMatchObject({ name: 'BAD_REQUEST' });
      expect(f.e!.message.length).toBeLessThan(300);
      expect(f.e!.message).toContain('(200000 characters)');
    }
    const fresh = await raw();
    const login = await fresh.request('login', { token: await tokenFor(account('me')), deviceType: long });
    expect(login.e!.message).toMatch(/^`deviceType` must be one of .*\(200000 characters\)$/);
    const before = await (await raw()).request(long, {});
    expect(before.e).toMatchObject({ name: 'UNAUTHORIZED' });
    expect(before.e!.message.length).toBeLessThan(300);
  });
});
