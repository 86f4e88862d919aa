/**
 * Login tokens for the fuzz suite: good ones for accounts drawn from the
 * identifier rule (other scripts, the longest allowed), and bad ones a login
 * must refuse with UNAUTHORIZED (a `sub` no account can have, an `iat` far in
 * the future, a wrong signature, an expired token, garbage).
 */
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { decode } from '../../engine/protocol/codec.ts';
import { MAX_ID_CHARS } from '../../engine/protocol/methods.ts';
import { TEST_SECRET, tokenFor } from '../helpers/engine.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { validIdentifier, writeMsgpackRequest } from './arbitraries.ts';
import type { FuzzFrame, Overrides } from './arbitraries.ts';

export interface FuzzTokens {
  /** Arbitraries for members a schema walk cannot invent: `token` from the good and bad tokens. */
  readonly overrides: Overrides;
  /** A login request with a good token. */
  login(): FuzzFrame;
  /** `frame` (a login) with its expectation adjusted to the token it carries. */
  expectFor(frame: FuzzFrame): FuzzFrame;
}

const key = new TextEncoder().encode(TEST_SECRET);
const now = () => Math.floor(Date.now() / 1000);

async function signed(sub: string, opts: { iat?: number; exp?: number; secret?: Uint8Array } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(opts.iat ?? now())
    .setExpirationTime(opts.exp ?? now() + 3600)
    .sign(opts.secret ?? key);
}

/**
 * Mints the tokens; `seed` picks the good accounts. A `generation` above 0
 * prefixes them (`g<n>-`), so a long run can move on to fresh accounts
 * whose state has not grown with everything sent so far.
 */
export async function fuzzTokens(seed: number, generation = 0): Promise<FuzzTokens> {
  const drawn = fc.sample(validIdentifier(MAX_ID_CHARS), { seed, numRuns: 12 }).map((a) => (generation === 0 ? a : `g${generation}-${a}`));
  const accounts = [...new Set(drawn.filter((a) => a.length <= MAX_ID_CHARS)), `g${generation}-fuzz`];
  const good = await Promise.all(accounts.map((a) => tokenFor(a)));
  const badSub = await Promise.all(['x\ud800', '\udc00', 'a|b', '0|x', 'nul\u0000', 'new\nline', 'del\u007f', 'c1\u0085', 'a b', 'z'.repeat(MAX_ID_CHARS + 1)].map((s) => signed(s)));
  const future = [await signed('early', { iat: now() + 365 * 24 * 3600, exp: now() + 400 * 24 * 3600 })];
  const other = [await signed('alice', { secret: new TextEncoder().encode('not-the-secret') }), await signed('alice', { exp: now() - 3600, iat: now() - 7200 }), 'garbage.token.here'];
  const mentions = new Map<string, string | undefined>();
  for (const t of badSub) mentions.set(t, 'sub');
  for (const t of future) mentions.set(t, 'iat');
  for (const t of other) mentions.set(t, undefined);
  const all = [...good, ...badSub, ...future, ...other];
  let n = 0;
  return {
    overrides: { token: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: fc.constantFrom(...all) }) },
    login(): FuzzFrame {
      const token = good[n++ % good.length]!;
      return writeMsgpackRequest('login', { token }, { kind: 'valid' });
    },
    expectFor(frame: FuzzFrame): FuzzFrame {
      if (frame.expect === undefined || typeof frame.bytes === 'string') return frame;
      if (frame.expect.kind === 'broken') {
        return frame.expect.path === 'token' ? { ...frame, expect: { ...frame.expect, names: [...frame.expect.names, 'UNAUTHORIZED'] } } : frame;
      }
      const token = (decode(frame.bytes) as { a?: { token?: unknown } }).a?.token;
      if (typeof token === 'string' && mentions.has(token)) return { ...frame, expect: { kind: 'broken', path: mentions.get(token), names: ['UNAUTHORIZED'] } };
      return frame;
    },
  };
}

/** A fresh account logs in, sends, and reads the message back from history. */
export async function healthCheck(url: string): Promise<void> {
  const suffix = Date.now().toString(36);
  const me = `health-${suffix}`;
  const c = await RawClient.open(url);
  try {
    const login = await c.request('login', { token: await tokenFor(me) });
    if (login.r?.account !== me) throw new Error(`login after the fuzz run failed: ${JSON.stringify(login.e)}`);
    await c.event('syncdone');
    const sent = await c.request('sendText', { scene: 'p2p', to: `peer-${suffix}`, text: 'after the fuzz run' });
    if (sent.r?.seq !== 1) throw new Error(`send after the fuzz run failed: ${JSON.stringify(sent.e)}`);
    const history = await c.request('getHistoryMsgs', { scene: 'p2p', to: `peer-${suffix}` });
    const texts = (history.r?.msgs ?? []).map((m: { text?: string }) => m.text);
    if (texts.join() !== 'after the fuzz run') throw new Error(`history after the fuzz run: ${JSON.stringify(history)}`);
  } finally {
    c.terminate();
  }
}
