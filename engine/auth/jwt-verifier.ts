/**
 * JWT verification with the keys the configuration names: a shared secret
 * (HS256/384/512, `PARLEY_JWT_SECRET`), a PEM public key (RS*, PS*, ES*,
 * EdDSA, as the key's type allows, `PARLEY_JWT_PUBLIC_KEY`), and a JWKS
 * (`PARLEY_JWKS_URL`). They combine: the token's `alg` and `kid` pick the
 * key, and only the algorithms of the configured keys are accepted, so a
 * token can never choose its own (`none`, or an asymmetric one keyed by the
 * secret). The account is `sub`, under the wire's identifier rule; `exp` and
 * `nbf` are honoured with a small clock tolerance, an `iat` more than
 * `MAX_IAT_SKEW_SEC` ahead is refused, and `iss` / `aud` are checked when
 * configured.
 *
 * The JWKS is fetched before the first login is served and kept. A token
 * naming a `kid` the set does not hold makes one refetch, at most once per
 * `jwksRefetchMs` (the start-up fetch does not count), so rotating the keys
 * needs no restart. jose's remote key set is not used because its cooldown
 * counts the first fetch, which would refuse tokens signed with a key
 * rotated in just after the start.
 */
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWTHeaderParameters } from 'jose';
import { ParleyError } from '../protocol/errors.ts';
import { echo } from '../protocol/schema.ts';
import { checkAccount } from './verifier.ts';
import type { TokenVerifier, VerifiedLogin } from './verifier.ts';

/** How far in the future a token's `iat` may be and still be accepted, seconds (clocks of the minting host and this one differ). */
export const MAX_IAT_SKEW_SEC = 60;
/** Least time between two JWKS refetches caused by unknown `kid`s, ms. */
export const JWKS_REFETCH_MS = 10_000;
/** How long a JWKS fetch may take, ms. */
const JWKS_FETCH_TIMEOUT_MS = 5000;

const HS_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGORITHMS: Readonly<Record<string, string>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
/** What a JWKS may sign with. */
const JWKS_ALGORITHMS = [...RSA_ALGORITHMS, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface JwtKeys {
  /** Shared secret for HS256/384/512. */
  secret?: string;
  /** Only these HS algorithms (default all three). */
  hsAlgorithms?: readonly (typeof HS_ALGORITHMS)[number][];
  /** A PEM (SPKI) public key, or a certificate's public key. */
  publicKeyPem?: string;
  /** Where the JWKS is served. */
  jwksUrl?: string;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Required `aud` (one of the token's), when set. */
  audience?: string;
  /** Accepted clock skew for `exp` / `nbf`, seconds. Default 5. */
  clockToleranceSec?: number;
  /** Refuse tokens without `exp`. Default false (a missing `exp` never expires). */
  requireExp?: boolean;
  /** Least time between refetches of the JWKS for an unknown `kid`, ms. Default `JWKS_REFETCH_MS`. */
  jwksRefetchMs?: number;
}

/** The algorithms a PEM public key can verify, by its type. */
function algorithmsOfKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return RSA_ALGORITHMS;
    case 'ec': {
      const alg = EC_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''];
      return alg === undefined ? [] : [alg];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}

/** A JWKS kept in memory, fetched again (rate-limited) when a token names a key it lacks. */
class JwksCache {
  private set: ReturnType<typeof createLocalJWKSet> | undefined;
  private kids = new Set<string>();
  private lastRefetch = -Infinity;
  private refetching: Promise<void> | undefined;

  readonly url: string;
  private readonly refetchMs: number;

  constructor(url: string, refetchMs: number) {
    this.url = url;
    this.refetchMs = refetchMs;
  }

  async load(): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.url, { signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    } catch (err) {
      throw new ParleyError('UNAVAILABLE', `the JWKS at ${this.url} could not be fetched: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) throw new ParleyError('UNAVAILABLE', `the JWKS at ${this.url} answered HTTP ${res.status}`);
    const jwks = (await res.json().catch(() => undefined)) as JSONWebKeySet | undefined;
    if (jwks === undefined || !Array.isArray(jwks.keys)) throw new ParleyError('UNAVAILABLE', `the JWKS at ${this.url} is not a JSON key set`);
    this.set = createLocalJWKSet(jwks);
    this.kids = new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
  }

  has(kid: string | undefined): boolean {
    return kid === undefined ? this.kids.size > 0 : this.kids.has(kid);
  }

  /** Fetches the set again unless it was refetched within `refetchMs`; concurrent callers share one fetch. */
  async refetch(): Promise<boolean> {
    if (this.refetching !== undefined) {
      await this.refetching;
      return true;
    }
    if (Date.now() - this.lastRefetch < this.refetchMs) return false;
    this.lastRefetch = Date.now();
    this.refetching = this.load().finally(() => (this.refetching = undefined));
    await this.refetching;
    return true;
  }

  key(header: JWTHeaderParameters): ReturnType<ReturnType<typeof createLocalJWKSet>> {
    if (this.set === undefined) throw new ParleyError('UNAVAILABLE', `the JWKS at ${this.url} is not loaded`);
    return this.set(header);
  }
}

function reasonOf(err: unknown, allowed: readonly string[], keys: JwtKeys): string {
  const code = (err as { code?: unknown }).code;
  const claim = (err as { claim?: unknown }).claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the token has expired (`exp` is in the past)';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the token signature is invalid';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return `the token's algorithm is not allowed here (allowed: ${allowed.join(', ')})`;
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'no configured key matches the token (`kid` unknown)';
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'the token names no `kid` and several keys of the JWKS could verify it';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'nbf') return 'the token is not valid yet (`nbf` is in the future)';
      if (claim === 'iss') return `the token's \`iss\` is not ${keys.issuer ?? 'the configured issuer'}`;
      if (claim === 'aud') return `the token's \`aud\` does not include ${keys.audience ?? 'the configured audience'}`;
      if (claim === 'exp') return 'the token has no `exp`, which this server requires';
      return `the token's claims are invalid: ${(err as Error).message}`;
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'the token is not a valid JWT';
    default:
      return 'the token is not valid';
  }
}

export class JwtVerifier implements TokenVerifier {
  readonly enabled: boolean;
  readonly description: string;
  private readonly secret: Uint8Array | undefined;
  private readonly publicKey: KeyObject | undefined;
  private readonly publicKeyAlgorithms: readonly string[];
  private readonly jwks: JwksCache | undefined;
  private readonly allowed: readonly string[];
  private readonly keys: JwtKeys;

  /** Use `JwtVerifier.create` when a JWKS is configured: it is fetched before the first login. */
  constructor(keys: JwtKeys) {
    this.keys = keys;
    const secret = keys.secret ?? '';
    this.secret = secret === '' ? undefined : new TextEncoder().encode(secret);
    if (keys.publicKeyPem !== undefined && keys.publicKeyPem !== '') {
      try {
        this.publicKey = createPublicKey(keys.publicKeyPem);
      } catch (err) {
        throw new Error(`the JWT public key is not a PEM public key or certificate: ${(err as Error).message}`, { cause: err });
      }
      this.publicKeyAlgorithms = algorithmsOfKey(this.publicKey);
      if (this.publicKeyAlgorithms.length === 0) throw new Error(`the JWT public key's type (${this.publicKey.asymmetricKeyType}) signs no JWT algorithm`);
    } else {
      this.publicKeyAlgorithms = [];
    }
    this.jwks = keys.jwksUrl === undefined || keys.jwksUrl === '' ? undefined : new JwksCache(keys.jwksUrl, keys.jwksRefetchMs ?? JWKS_REFETCH_MS);
    const hs = this.secret === undefined ? [] : [...(keys.hsAlgorithms ?? HS_ALGORITHMS)];
    this.allowed = [...new Set([...hs, ...this.publicKeyAlgorithms, ...(this.jwks === undefined ? [] : JWKS_ALGORITHMS)])];
    this.enabled = this.allowed.length > 0;
    const parts = [
      ...(this.secret === undefined ? [] : [`shared secret (${hs.join('/')})`]),
      ...(this.publicKey === undefined ? [] : [`PEM public key (${this.publicKeyAlgorithms.join('/')})`]),
      ...(this.jwks === undefined ? [] : [`JWKS ${this.jwks.url}`]),
    ];
    this.description = parts.length === 0 ? 'JWT: no key configured, logins are refused' : `JWT: ${parts.join(', ')}`;
  }

  /** A verifier whose JWKS, when configured, is loaded: a set that cannot be fetched fails the start. */
  static async create(keys: JwtKeys): Promise<JwtVerifier> {
    const verifier = new JwtVerifier(keys);
    await verifier.jwks?.load();
    return verifier;
  }

  async verify(token: string): Promise<VerifiedLogin> {
    if (!this.enabled) throw new ParleyError('UNAUTHORIZED', 'logins are disabled: no JWT secret or key is configured');
    if (typeof token !== 'string' || token === '') throw new ParleyError('UNAUTHORIZED', 'the token is missing');
    let header: JWTHeaderParameters;
    try {
      header = decodeProtectedHeader(token) as JWTHeaderParameters;
    } catch (err) {
      throw new ParleyError('UNAUTHORIZED', 'the token is not a valid JWT', { cause: err });
    }
    const alg = typeof header.alg === 'string' ? header.alg : '';
    if (alg === '' || alg.toLowerCase() === 'none') throw new ParleyError('UNAUTHORIZED', 'unsigned tokens (`alg: none`) are refused');
    if (!this.allowed.includes(alg)) {
      throw new ParleyError('UNAUTHORIZED', `the token's algorithm ${echo(alg)} is not allowed here (allowed: ${this.allowed.join(', ')})`);
    }
    if (this.jwks !== undefined && typeof header.kid === 'string' && !this.jwks.has(header.kid) && this.fromJwks(alg, header.kid)) {
      // A key rotated in since the last fetch: look again, at most once per refetch interval.
      await this.jwks.refetch().catch(() => false);
    }
    let sub: unknown;
    let iat: unknown;
    try {
      const { payload } = await jwtVerify(token, (h) => this.keyFor(h), {
        algorithms: [...this.allowed],
        clockTolerance: this.keys.clockToleranceSec ?? 5,
        ...(this.keys.issuer ? { issuer: this.keys.issuer } : {}),
        ...(this.keys.audience ? { audience: this.keys.audience } : {}),
        ...(this.keys.requireExp ? { requiredClaims: ['exp'] } : {}),
      });
      sub = payload.sub;
      iat = payload.iat;
    } catch (err) {
      if (err instanceof ParleyError) throw err;
      throw new ParleyError('UNAUTHORIZED', reasonOf(err, this.allowed, this.keys), { cause: err });
    }
    // jose compares `iat` with the clock only under `maxTokenAge`. An `iat` far ahead means a minting clock that is
    // wrong or a token made to look fresh for longer than it was issued for: neither should log in.
    if (typeof iat === 'number' && iat > Date.now() / 1000 + MAX_IAT_SKEW_SEC) {
      throw new ParleyError('UNAUTHORIZED', `the token's \`iat\` is more than ${MAX_IAT_SKEW_SEC} s in the future`);
    }
    return { account: checkAccount(sub) };
  }

  /**
   * Whether the JWKS holds the key of an `alg` / `kid`: when no PEM key
   * verifies `alg`, or when the set knows the `kid` (a token the PEM key can
   * check, without a `kid` or with one the set lacks, is the PEM key's, and
   * costs no refetch).
   */
  private fromJwks(alg: string, kid: string | undefined): boolean {
    if (this.jwks === undefined || !JWKS_ALGORITHMS.includes(alg)) return false;
    if (!this.publicKeyAlgorithms.includes(alg)) return true;
    return kid !== undefined && this.jwks.has(kid);
  }

  /** The key the token's header names: the secret for HS*, else the JWKS key of its `kid`, else the PEM key. */
  private keyFor(header: JWTHeaderParameters): Uint8Array | KeyObject | ReturnType<JwksCache['key']> {
    const alg = header.alg;
    if (alg.startsWith('HS')) {
      if (this.secret === undefined) throw new ParleyError('UNAUTHORIZED', `${alg} tokens are not accepted: no JWT secret is configured`);
      return this.secret;
    }
    if (this.fromJwks(alg, header.kid)) return this.jwks!.key(header);
    if (this.publicKey !== undefined && this.publicKeyAlgorithms.includes(alg)) return this.publicKey;
    throw new ParleyError('UNAUTHORIZED', `no configured key verifies ${alg} tokens${header.kid === undefined ? '' : ` with \`kid\` ${echo(header.kid)}`}`);
  }
}

/** The HS256-only verifier of a shared secret; an empty secret makes every login fail. */
export class JwtHs256Verifier extends JwtVerifier {
  constructor(secret: string, options: Pick<JwtKeys, 'clockToleranceSec' | 'requireExp'> = {}) {
    super({ ...options, secret, hsAlgorithms: ['HS256'] });
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
