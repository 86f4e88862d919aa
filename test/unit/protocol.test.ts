import { describe, expect, it } from 'vitest';
import { decode, decodeRequest, encode, encodeArrayOfRaw, encodeMapOfRaw } from '../../engine/protocol/codec.ts';
import { RESULT_PREFIX } from '../../engine/actor/call.ts';
import { ERRORS, ParleyError, errorNameOf } from '../../engine/protocol/errors.ts';
import { parseRequest, parseSessionId } from '../../engine/protocol/methods.ts';
import { parseConfig, describeConfig, ConfigError } from '../../engine/config.ts';
import { DEFER_WRITE_MS, TOUCH_LINGER_MS } from '../../engine/actor/host.ts';
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

  it('joins already encoded items into one list of any length', () => {
    for (const n of [0, 3, 15, 16, 65535, 65536]) {
      const items = Array.from({ length: n }, (_, i) => ({ seq: i, t: 'msg' }));
      expect(decode(encodeArrayOfRaw(items.map((item) => encode(item))))).toEqual(items);
    }
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

  it('sets how long session updates linger, defaulting to the host\'s', () => {
    expect(parseConfig({}).touchLingerMs).toBe(TOUCH_LINGER_MS);
    expect(parseConfig({ PARLEY_TOUCH_LINGER_MS: '0' }).touchLingerMs).toBe(0);
    expect(parseConfig({}, ['--touch-linger-ms', '12']).touchLingerMs).toBe(12);
    expect(() => parseConfig({ PARLEY_TOUCH_LINGER_MS: '-1' })).toThrow(/PARLEY_TOUCH_LINGER_MS/);
    expect(parseConfig({}).deferWriteMs).toBe(DEFER_WRITE_MS);
    expect(parseConfig({ PARLEY_DEFER_WRITE_MS: '0' }).deferWriteMs).toBe(0);
    expect(parseConfig({}, ['--defer-write-ms', '50']).deferWriteMs).toBe(50);
    expect(() => parseConfig({ PARLEY_DEFER_WRITE_MS: '1001' })).toThrow(/PARLEY_DEFER_WRITE_MS/);
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

/** Bytes of `{id: 1, m: 'sendText', a: {scene: <ext>, to: 'bob', text: 'x'}}` with `ext` spliced in raw. */
function frameWith(member: string, raw: number[], base: Record<string, unknown> = { scene: 'p2p', to: 'bob', text: 'x' }): Uint8Array {
  const marker = '\u0001MARK\u0001';
  const bytes = encode({ id: 1, m: 'sendText', a: { ...base, [member]: marker } });
  const needle = encode(marker);
  const at = Buffer.from(bytes).indexOf(Buffer.from(needle));
  return new Uint8Array([...bytes.subarray(0, at), ...raw, ...bytes.subarray(at + needle.length)]);
}

function frameError(bytes: Uint8Array): ParleyError & { requestId: number } {
  try {
    decodeRequest(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ParleyError);
    return err as ParleyError & { requestId: number };
  }
  throw new Error('decodeRequest accepted the frame');
}

describe('strict decoding of client frames', () => {
  it('decodes standard msgpack like decode does', () => {
    const value = { id: 3, m: 'sendText', a: { scene: 'p2p', to: 'bob', text: 'héllo', n: [1, -2, 3.5, null, true], b: new Uint8Array([1, 2]) } };
    expect(decodeRequest(encode(value))).toEqual(decode(encode(value)));
  });

  it('refuses every extension type, naming the member and keeping the request id', () => {
    const exts: [string, number[]][] = [
      ['BigInt', [0xd4, 0x42, 0x05]],
      ['timestamp', [0xd6, 0xff, 0, 0, 0, 1]],
      ['record definition', [0xd4, 0x72, 0x40]],
      ['Set', [0xd4, 0x73, 0x00]],
      ['ext 8', [0xc7, 0x01, 0x05, 0x00]],
      ['ext 16', [0xc8, 0x00, 0x01, 0x05, 0x00]],
      ['ext 32', [0xc9, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00]],
      ['fixext 2', [0xd5, 0x01, 0, 0]],
      ['fixext 8', [0xd7, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]],
      ['fixext 16', [0xd8, 0x01, ...new Array(16).fill(0)]],
      ['0xc1', [0xc1]],
    ];
    for (const [what, raw] of exts) {
      const err = frameError(frameWith('scene', raw));
      expect(err.name, what).toBe('BAD_REQUEST');
      expect(err.message, what).toMatch(/`scene`/);
      expect(err.requestId, what).toBe(1);
    }
    const inList = frameError(frameWith('msgTypes', [0x92, 0xa4, ...Buffer.from('text'), 0xd4, 0x42, 0x05]));
    expect(inList.message).toMatch(/`msgTypes\[1\]`/);
    // `a` itself as a timestamp, a Set, a RegExp or a typed array.
    for (const raw of [[0xd6, 0xff, 0, 0, 0, 1], [0xd4, 0x73, 0x90], [0xd4, 0x78, 0x92, 0xa1, 0x78, 0xa0], [0xc7, 0x03, 0x74, 0x01, 0x00, 0x00]]) {
      const bytes = new Uint8Array([0x83, 0xa2, 0x69, 0x64, 0x05, 0xa1, 0x6d, 0xa8, ...Buffer.from('sendText'), 0xa1, 0x61, ...raw]);
      const err = frameError(bytes);
      expect(err.message).toMatch(/^`a` /);
      expect(err.requestId).toBe(5);
    }
  });

  it('refuses non-string map keys, trailing bytes and truncated values', () => {
    expect(frameError(new Uint8Array([0x82, 0xa2, 0x69, 0x64, 0x07, 0x01, 0x02])).message).toMatch(/key/);
    const trailing = frameError(new Uint8Array([...encode({ id: 7, m: 'getServerTime' }), 0x01]));
    expect([trailing.name, trailing.requestId]).toEqual(['BAD_REQUEST', 7]);
    expect(frameError(new Uint8Array([0x93, 1])).name).toBe('BAD_REQUEST');
    expect(frameError(new Uint8Array([])).name).toBe('BAD_REQUEST');
  });

  it('refuses nesting deeper than the limit without overflowing the stack', () => {
    const deep = new Uint8Array(200_000).fill(0x91);
    deep[deep.length - 1] = 0xc0;
    expect(frameError(deep).message).toMatch(/deep/);
  });
});

describe('identifiers', () => {
  const bad = ['a|b', 'a\u0000b', 'a\nb', 'a\u007fb', 'a\u0085b', 'a\ud800', '\udc00b', 'a b', 'a\u00a0b', 'a\u2028b', '', 'x'.repeat(129)];

  it('refuses what no account can be, in every argument that names one', () => {
    for (const v of bad) {
      const shown = JSON.stringify(v).slice(0, 30);
      expect(() => parseRequest('sendText', { scene: 'p2p', to: v, text: 'x' }), shown).toThrow(/`to`/);
      expect(() => parseRequest('getHistoryMsgs', { scene: 'p2p', to: v }), shown).toThrow(/`to`/);
      expect(() => parseRequest('getServerSession', { scene: 'team', to: v }), shown).toThrow(/`to`/);
      expect(() => parseRequest('login', { token: 't', deviceId: v }), shown).toThrow(/`deviceId`/);
      expect(() => parseRequest('sendText', { scene: 'p2p', to: 'bob', text: 'x', idClient: v }), shown).toThrow(/`idClient`/);
      expect(() => parseRequest('resetSessionUnread', { sessionId: `p2p-${v}` }), shown).toThrow(/`sessionId`/);
      expect(() => parseRequest('login', { token: 't', cursors: { seqs: { [`team-${v}`]: 1 } } }), shown).toThrow(/`cursors.seqs`/);
    }
    expect(() => parseRequest('sendText', { scene: 'p2p', to: 'x'.repeat(65), text: 'x', idClient: 'x'.repeat(65) })).toThrow(/`idClient`/);
  });

  it('accepts ordinary identifiers', () => {
    for (const v of ['bob', 'alice.smith@example.com', 'a-b_c+d=e', '12', '用户-1', 'x'.repeat(128)]) {
      expect(parseRequest('sendText', { scene: 'p2p', to: v, text: 'x' })).toMatchObject({ to: v });
      expect(parseRequest('resetSessionUnread', { sessionId: `superTeam-${v}` })).toEqual({ sessionId: `superTeam-${v}` });
    }
    expect(parseRequest('login', { token: 't', deviceId: 'dev-1', cursors: { seqs: { 'p2p-bob': 3 } } })).toMatchObject({ deviceId: 'dev-1' });
  });

  it('refuses a recipient carrying a pair separator, naming `to`', () => {
    expect(() => parseRequest('sendText', { scene: 'p2p', to: 'bob|alice', text: 'x' })).toThrow(/`to`.*\|/);
    expect(() => parseRequest('sendText', { scene: 'p2p', to: '0|alice', text: 'x' })).toThrow(/`to`/);
  });
});

describe('schema error messages', () => {
  it('name the argument and describe the value by its type', () => {
    const cases: [unknown, RegExp][] = [
      [new Date(0), /^`a` must be a map of arguments for `sendText`, got a timestamp/],
      [new Set([1, 2]), /^`a` .*got a set of 2 items/],
      [/x/g, /^`a` .*got a regular expression/],
      [new Float64Array(3), /^`a` .*got a Float64Array of 3 items/],
      [new Uint8Array(4), /^`a` .*got binary of 4 bytes/],
      [[1, 2], /^`a` .*got a list of 2 items/],
      ['abc', /^`a` .*got a string of 3 characters/],
    ];
    for (const [a, re] of cases) expect(() => parseRequest('sendText', a), String(re)).toThrow(re);
    expect(() => parseRequest('sendText', { scene: 'p2p', to: new Map(), text: 'x' })).toThrow(/`to` must be a string, got a map/);
  });

  it('never stringify a value: self-referencing or exotic values in a literal', () => {
    const self: Record<string, unknown> = {};
    self.self = self;
    for (const v of [self, 10n, Symbol('s'), new Date(0), () => 1]) {
      let err: unknown;
      try {
        parseRequest('sendText', { scene: v, to: 'bob', text: 'x' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ParleyError);
      expect((err as ParleyError).name).toBe('BAD_REQUEST');
      expect((err as ParleyError).message).toMatch(/^`scene` must be one of/);
    }
  });

  it('cut an echoed string to a short prefix and give its length', () => {
    const long = 'q'.repeat(200_000);
    const messages = [
      () => parseRequest('sendText', { scene: long, to: 'bob', text: 'x' }),
      () => parseRequest('login', { token: 't', deviceType: long }),
      () => parseRequest(long, {}),
      () => parseRequest('sendText', { scene: 'p2p', to: long, text: 'x' }),
      () => parseRequest('login', { token: 't', cursors: { seqs: { [long]: 1 } } }),
    ].map((f) => {
      try {
        f();
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    });
    for (const message of messages) {
      expect(message.length, message.slice(0, 80)).toBeLessThan(300);
      expect(message).not.toBe('accepted');
    }
    expect(messages[0]).toMatch(/`scene` must be one of .*got `q{40}…` \(200000 characters\)/);
    expect(messages[2]).toMatch(/unknown method `q{40}…` \(200000 characters\)/);
  });
});
