import { describe, expect, it } from 'vitest';
import { decode, encode, encodeMapOfRaw } from '../../engine/protocol/codec.ts';
import { RESULT_PREFIX } from '../../engine/actor/call.ts';
import { ERRORS, ParleyError, errorNameOf } from '../../engine/protocol/errors.ts';
import { parseRequest, parseSessionId } from '../../engine/protocol/methods.ts';
import { parseConfig, describeConfig, ConfigError } from '../../engine/config.ts';
import { addressOfLogSubject, fenceSubject, logSubject, p2pAddress, partitionOf, subjectToken } from '../../engine/subjects.ts';

describe('error table', () => {
  it('has the codes of PROTOCOL.md', () => {
    expect(ERRORS.BAD_REQUEST.code).toBe(414);
    expect(ERRORS.UNAUTHORIZED.code).toBe(302);
    expect(ERRORS.UNAVAILABLE.code).toBe(415);
    expect(ERRORS.TIMEOUT.code).toBe(408);
    expect(ERRORS.BLOCKED.code).toBe(7101);
    expect(errorNameOf(812)).toBe('MUTED');
  });

  it('round-trips through the wire form', () => {
    const err = new ParleyError('NOT_FOUND', 'no team 42');
    const back = ParleyError.fromWire(decode(encode(err.toWire())));
    expect(back).toBeInstanceOf(ParleyError);
    expect([back.name, back.code, back.message]).toEqual(['NOT_FOUND', 404, 'no team 42']);
    expect(ParleyError.fromWire({ code: 999, name: 'WHAT' }).name).toBe('INTERNAL');
  });
});

describe('codec', () => {
  it('writes standard msgpack without extension types', () => {
    const bytes = encode({ id: 1, m: 'x', a: { gone: undefined, list: [1, 'a'] } });
    // fixmap(3) "id" 1 "m" "x" "a" fixmap(1) "list" [1, "a"]
    expect(Buffer.from(bytes).toString('hex')).toBe('83a2696401a16da178a16181a46c6973749201a161');
    expect(decode(bytes)).toEqual({ id: 1, m: 'x', a: { list: [1, 'a'] } });
  });

  it('writes an actor result with the prefix the edge forwards without decoding', () => {
    for (const r of [1, 'x', { seq: 1 }, [1, 2], null]) {
      expect([...encode({ r }).subarray(0, 3)]).toEqual(RESULT_PREFIX);
    }
    // No result: no `r` member at all.
    expect([...encode({ r: undefined })]).toEqual([0x80]);
  });

  it('wraps already encoded values in a map without decoding them', () => {
    const bytes = encodeMapOfRaw([
      ['id', encode(7)],
      ['r', encode({ seq: 1 })],
    ]);
    expect(decode(bytes)).toEqual({ id: 7, r: { seq: 1 } });
  });

  it('refuses bytes that are not exactly one value', () => {
    expect(() => decode(new Uint8Array([0x93, 1]))).toThrow();
    expect(() => decode(new TextEncoder().encode('{"id":1}'))).toThrow();
  });
});

describe('method schemas', () => {
  it('fills reference defaults', () => {
    expect(parseRequest('getServerSessions', undefined)).toEqual({ limit: 100, minTimestamp: 0, maxTimestamp: 0, needLastMsg: true });
  });

  it('names the argument at fault', () => {
    const cases: [string, unknown, RegExp][] = [
      ['sendText', { scene: 'p2p', to: 'bob' }, /`text` is required/],
      ['sendText', { scene: 'p2p', to: 'bob', text: 5 }, /`text` must be a string/],
      ['sendText', { scene: 'group', to: 'bob', text: 'x' }, /`scene` must be one of/],
      ['getHistoryMsgs', { scene: 'p2p', to: 'bob', limit: 0 }, /`limit` must be between 1 and 100/],
      ['getHistoryMsgs', { scene: 'p2p', to: 'bob', msgTypes: ['text', 'nope'] }, /`msgTypes\[1\]`/],
      ['resetSessionUnread', { sessionId: 'bob' }, /`sessionId` must be a session id/],
      ['login', { token: '' }, /`token` must not be empty/],
    ];
    for (const [m, a, re] of cases) {
      expect(() => parseRequest(m, a), `${m} ${JSON.stringify(a)}`).toThrow(re);
    }
  });

  it('refuses unknown methods and non-map arguments', () => {
    expect(() => parseRequest('launchRocket', {})).toThrow(/unknown method `launchRocket`/);
    expect(() => parseRequest('sendText', [1, 2])).toThrow(/must be a map/);
  });

  it('splits session ids', () => {
    expect(parseSessionId('p2p-alice')).toEqual({ scene: 'p2p', to: 'alice' });
    expect(parseSessionId('superTeam-12-3')).toEqual({ scene: 'superTeam', to: '12-3' });
    expect(parseSessionId('room-1')).toBeUndefined();
  });
});

describe('configuration', () => {
  it('reads defaults, then environment, then flags', () => {
    const config = parseConfig({ PARLEY_PORT: '9000', PARLEY_PARTITIONS: '32' }, ['--port', '9100', '--allow-uws-fallback']);
    expect(config.port).toBe(9100);
    expect(config.partitions).toBe(32);
    expect(config.allowUwsFallback).toBe(true);
    expect(config.dataDir).toBe('./data');
    expect(config.loginTimeoutMs).toBe(10_000);
  });

  it('names what is wrong', () => {
    expect(() => parseConfig({ PARLEY_PORT: 'abc' })).toThrow(ConfigError);
    expect(() => parseConfig({ PARLEY_PORT: 'abc' })).toThrow(/PARLEY_PORT must be an integer/);
    expect(() => parseConfig({}, ['--nope'])).toThrow(/unknown flag --nope/);
  });

  it('prints every variable and masks the secret', () => {
    const text = describeConfig(parseConfig({ PARLEY_JWT_SECRET: 'shh' }));
    expect(text).toContain('PARLEY_PORT=8080');
    expect(text).toContain('PARLEY_JWT_SECRET=(set)');
    expect(text).not.toContain('shh');
  });
});

describe('subjects and partitions', () => {
  it('hashes addresses stably into partitions', () => {
    expect(partitionOf('user:alice', 64)).toBe(partitionOf('user:alice', 64));
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => partitionOf(`user:u${i}`, 64)));
    expect(seen.size).toBe(64);
  });

  it('makes any identifier one safe subject token', () => {
    expect(subjectToken('alice_1')).toBe('alice_1');
    for (const id of ['a.b', 'a*', '>', 'with space', 'ünï']) {
      expect(subjectToken(id)).toMatch(/^~[A-Za-z0-9_-]+$/);
    }
    expect(subjectToken('a.b')).not.toBe(subjectToken('a_b'));
  });

  it('maps a Log subject back to its actor address', () => {
    for (const address of ['conv:alice|bob', 'user:a.b c', 'user:ünï', 'user:x']) {
      expect(addressOfLogSubject(logSubject(address, 7))).toBe(address);
    }
    expect(addressOfLogSubject(fenceSubject(7))).toBeUndefined();
  });

  it('sorts the pair of a p2p address', () => {
    expect(p2pAddress('bob', 'alice')).toBe('conv:alice|bob');
    expect(p2pAddress('alice', 'bob')).toBe('conv:alice|bob');
  });
});
