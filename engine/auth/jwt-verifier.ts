/**
 * The default verifier: a JWT signed with HS256 and the shared secret
 * (`PARLEY_JWT_SECRET`). The account is `sub`, under the wire's identifier
 * rule; `exp` and `nbf` are honoured with a small clock tolerance, and an
 * `iat` more than `MAX_IAT_SKEW_SEC` ahead is refused. Only HS256 is
 * accepted, so a token can never pick its own algorithm (`none`, or an
 * asymmetric one keyed by the secret).
 */
import { SignJWT, jwtVerify } from 'jose';
import { ParleyError } from '../protocol/errors.ts';
import { checkAccount } from './verifier.ts';
import type { TokenVerifier } from './verifier.ts';

/** How far in the future a token's `iat` may be and still be accepted, seconds (clocks of the minting host and this one differ). */
export const MAX_IAT_SKEW_SEC = 60;

export interface JwtHs256Options {
  /** Accepted clock skew for `exp` / `nbf`, seconds. Default 5. */
  clockToleranceSec?: number;
  /** Reject tokens without `exp`. Default false (a missing `exp` never expires). */
  requireExp?: boolean;
}

const REASONS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'the token has expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'the token signature is invalid',
  ERR_JOSE_ALG_NOT_ALLOWED: 'the token must be signed with HS256',
  ERR_JWS_INVALID: 'the token is not a valid JWT',
  ERR_JWT_INVALID: 'the token is not a valid JWT',
};

export class JwtHs256Verifier implements TokenVerifier {
  private readonly key: Uint8Array;
  private readonly clockToleranceSec: number;
  private readonly requireExp: boolean;

  /** `secret` is the shared HS256 secret as text; an empty one makes every login fail. */
  constructor(secret: string, options: JwtHs256Options = {}) {
    this.key = new TextEncoder().encode(secret);
    this.clockToleranceSec = options.clockToleranceSec ?? 5;
    this.requireExp = options.requireExp ?? false;
  }

  async verify(token: string): Promise<{ account: string }> {
    if (this.key.length === 0) throw new ParleyError('UNAUTHORIZED', 'logins are disabled: no JWT secret is configured');
    if (typeof token !== 'string' || token === '') throw new ParleyError('UNAUTHORIZED', 'the token is missing');
    let sub: unknown;
    let iat: unknown;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        clockTolerance: this.clockToleranceSec,
        ...(this.requireExp ? { requiredClaims: ['exp'] } : {}),
      });
      sub = payload.sub;
      iat = payload.iat;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const reason =
        (typeof code === 'string' ? REASONS[code] : undefined) ??
        (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? `the token's claims are invalid: ${(err as Error).message}` : 'the token is not valid');
      throw new ParleyError('UNAUTHORIZED', reason, { cause: err });
    }
    // jose compares `iat` with the clock only under `maxTokenAge`. An `iat` far ahead means a minting clock that is
    // wrong or a token made to look fresh for longer than it was issued for: neither should log in.
    if (typeof iat === 'number' && iat > Date.now() / 1000 + MAX_IAT_SKEW_SEC) {
      throw new ParleyError('UNAUTHORIZED', `the token's \`iat\` is more than ${MAX_IAT_SKEW_SEC} s in the future`);
    }
    return { account: checkAccount(sub) };
  }
}

/** Mints an HS256 token for `account` valid for `ttlSec` seconds; for tests, tools and development. */
export async function signDevToken(secret: string, account: string, ttlSec: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(account)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSec)
    .sign(new TextEncoder().encode(secret));
}
