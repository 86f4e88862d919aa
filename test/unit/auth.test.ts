import { describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT } from 'jose';
import { JwtHs256Verifier, MAX_IAT_SKEW_SEC, signDevToken } from '../../engine/auth/jwt-verifier.ts';
import { checkAccount } from '../../engine/auth/verifier.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';

const SECRET = 'unit-test-secret-0123456789abcdef';
const key = new TextEncoder().encode(SECRET);

async function rejection(p: Promise<unknown>): Promise<ParleyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ParleyError);
  expect((err as ParleyError).name).toBe('UNAUTHORIZED');
  return err as ParleyError;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

describe('JwtHs256Verifier', () => {
  const verifier = new JwtHs256Verifier(SECRET);

  it('accepts a good token and returns the subject as the account', async () => {
    const token = await signDevToken(SECRET, 'alice', 60);
    await expect(verifier.verify(token)).resolves.toEqual({ account: 'alice' });
  });

  it('accepts a token without exp unless exp is required', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').sign(key);
    await expect(verifier.verify(token)).resolves.toEqual({ account: 'bob' });
    const strict = new JwtHs256Verifier(SECRET, { requireExp: true });
    await rejection(strict.verify(token));
  });

  it('rejects a bad signature', async () => {
    const token = await signDevToken('another-secret', 'alice', 60);
    const err = await rejection(verifier.verify(token));
    expect(err.message).toMatch(/signature/);
  });

  it('rejects an expired token, beyond the clock tolerance', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(now() - 60)
      .sign(key);
    const err = await rejection(verifier.verify(token));
    expect(err.message).toMatch(/expired/);
  });

  it('tolerates a token that expired within the clock tolerance', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(now() - 1)
      .sign(key);
    await expect(verifier.verify(token)).resolves.toEqual({ account: 'alice' });
  });

  it('rejects a token without sub, or with an empty one', async () => {
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now() + 60).sign(key);
    expect((await rejection(verifier.verify(noSub))).message).toMatch(/sub/);
    const emptySub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('').sign(key);
    expect((await rejection(verifier.verify(emptySub))).message).toMatch(/sub/);
  });

  it('rejects any algorithm other than HS256, including none', async () => {
    const hs512 = await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('alice').sign(key);
    expect((await rejection(verifier.verify(hs512))).message).toMatch(/HS256/);
    const none = new UnsecuredJWT({}).setSubject('alice').encode();
    await rejection(verifier.verify(none));
  });

  it('rejects garbage and an empty token', async () => {
    await rejection(verifier.verify('not.a.jwt'));
    await rejection(verifier.verify(''));
  });

  it('rejects every token when no secret is configured', async () => {
    const token = await signDevToken(SECRET, 'alice', 60);
    const err = await rejection(new JwtHs256Verifier('').verify(token));
    expect(err.message).toMatch(/secret/);
  });

  it('rejects accounts that cannot be addressed', async () => {
    for (const [account, why] of [
      ['a|b', /\|/],
      ['tab\there', /control/],
      ['x'.repeat(129), /128/],
    ] as const) {
      const token = await signDevToken(SECRET, account, 60);
      expect((await rejection(verifier.verify(token))).message).toMatch(why);
    }
    const longest = await signDevToken(SECRET, 'y'.repeat(128), 60);
    await expect(verifier.verify(longest)).resolves.toEqual({ account: 'y'.repeat(128) });
  });
});

describe('JwtHs256Verifier claims', () => {
  const verifier = new JwtHs256Verifier(SECRET);

  it('refuses a `sub` that is not an identifier, naming the claim', async () => {
    for (const sub of ['alice\ud800', '\udc00', 'a b', 'a\u0000', 'a\u0085', 'a\nb']) {
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().sign(key);
      expect((await rejection(verifier.verify(token))).message, JSON.stringify(sub)).toMatch(/`sub`/);
    }
  });

  it('refuses a token issued in the future beyond the allowed skew', async () => {
    const later = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt(now() + 365 * 24 * 3600).sign(key);
    expect((await rejection(verifier.verify(later))).message).toMatch(/`iat`/);
    const justAhead = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt(now() + MAX_IAT_SKEW_SEC - 5).sign(key);
    await expect(verifier.verify(justAhead)).resolves.toEqual({ account: 'alice' });
  });
});

describe('checkAccount', () => {
  it('accepts ordinary and non-ASCII accounts', () => {
    expect(checkAccount('alice.smith@example.com')).toBe('alice.smith@example.com');
    expect(checkAccount('用户-1')).toBe('用户-1');
  });

  it('rejects non-strings', () => {
    expect(() => checkAccount(42)).toThrow(ParleyError);
    expect(() => checkAccount('a\u007fb')).toThrow(/control/);
  });
});

describe('JwtVerifier keys', () => {
  it('accepts only the algorithms of the configured keys, naming them', async () => {
    const { generateKeyPair, exportSPKI } = await import('jose');
    const { JwtVerifier } = await import('../../engine/auth/jwt-verifier.ts');
    const ec = await generateKeyPair('ES256', { extractable: true });
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const verifier = new JwtVerifier({ publicKeyPem: await exportSPKI(ec.publicKey) });
    const good = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('eve').sign(ec.privateKey);
    await expect(verifier.verify(good)).resolves.toEqual({ account: 'eve' });
    const rs = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('eve').sign(rsa.privateKey);
    expect((await rejection(verifier.verify(rs))).message).toMatch(/`RS256` is not allowed here \(allowed: ES256\)/);
    const hs = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('eve').sign(key);
    expect((await rejection(verifier.verify(hs))).message).toMatch(/not allowed/);
    expect(verifier.description).toMatch(/PEM public key \(ES256\)/);
  });
});
