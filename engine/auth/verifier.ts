/**
 * Login token verification. The host application mints tokens (or answers
 * a callback); a verifier turns one into the account it names. The
 * verifiers are chosen by configuration (configure.ts): JWTs signed with a
 * shared secret, a PEM public key or a JWKS (jwt-verifier.ts), or an HTTP
 * callback to the host (callback-verifier.ts). An embedding application may
 * pass its own.
 */
import { ParleyError } from '../protocol/errors.ts';
import { MAX_ID_CHARS } from '../protocol/objects.ts';
import type { DeviceType } from '../protocol/objects.ts';
import { identifierProblem } from '../protocol/schema.ts';

/** What the edge knows of a login besides its token. */
export interface LoginContext {
  deviceId: string;
  deviceType: DeviceType;
  /** The client's address as the edge saw it. */
  ip: string;
}

export interface VerifiedLogin {
  account: string;
  /** When the token stops being valid, ms since the epoch, if it says. */
  expiresAt?: number;
}

export interface TokenVerifier {
  /**
   * Resolves with the token's account, or rejects with ParleyError
   * UNAUTHORIZED (the token is refused, and why) or UNAVAILABLE (the
   * verifier could not decide now: a key server or the host is unreachable).
   */
  verify(token: string, context?: LoginContext): Promise<VerifiedLogin>;
  /** False when it refuses every login (nothing configured): `/readyz` then answers 503. Default true. */
  readonly enabled?: boolean;
  /** One line for the start-up log: which verifier, with which keys (never a secret). */
  readonly description?: string;
}

/** Longest account accepted, in UTF-16 code units (the wire schema's identifier limit). */
export const MAX_ACCOUNT_CHARS = MAX_ID_CHARS;

/**
 * Checks that `account` can be an account under the wire's one identifier
 * rule (schema.ts `identifierProblem`: 1..128 letters, digits or `_-.@+=`; no
 * `|`, whitespace, control characters or lone surrogates). Returns it or
 * throws UNAUTHORIZED naming `what` (the `sub` claim, by default) and what is
 * wrong with it.
 */
export function checkAccount(account: unknown, what = "the token's `sub`"): string {
  if (typeof account !== 'string' || account.length === 0) {
    throw new ParleyError('UNAUTHORIZED', what === "the token's `sub`" ? 'the token names no account (`sub` is missing or empty)' : `${what} names no account`);
  }
  const problem = identifierProblem(account, MAX_ACCOUNT_CHARS);
  if (problem !== undefined) throw new ParleyError('UNAUTHORIZED', `${what} is not a valid account: it ${problem}`);
  return account;
}

/** A verifier that refuses every login: what the cluster roles run with no verifier configured. */
export const REFUSE_ALL: TokenVerifier = {
  enabled: false,
  description: 'none configured: logins are refused',
  verify: () => Promise.reject(new ParleyError('UNAUTHORIZED', 'logins are disabled: no token verifier is configured')),
};
