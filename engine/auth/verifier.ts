/**
 * Login token verification. The host application mints tokens; a verifier
 * turns one into the account it names. The in-process default is
 * `JwtHs256Verifier` (jwt-verifier.ts); others (JWKS, an HTTP callback to the
 * host) implement the same interface.
 */
import { ParleyError } from '../protocol/errors.ts';

export interface TokenVerifier {
  /** Resolves with the token's account, or rejects with ParleyError('UNAUTHORIZED', reason). */
  verify(token: string): Promise<{ account: string }>;
}

/** Longest account accepted, in UTF-16 code units (the wire schema's identifier limit). */
export const MAX_ACCOUNT_CHARS = 128;

// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Checks that `account` can be an account: 1..128 characters, no `|` (it
 * separates the pair in `conv:<a>|<b>`) and no control characters. Returns it
 * or throws UNAUTHORIZED naming why.
 */
export function checkAccount(account: unknown): string {
  if (typeof account !== 'string' || account.length === 0) {
    throw new ParleyError('UNAUTHORIZED', 'the token names no account (`sub` is missing or empty)');
  }
  if (account.length > MAX_ACCOUNT_CHARS) {
    throw new ParleyError('UNAUTHORIZED', `the token's account is longer than ${MAX_ACCOUNT_CHARS} characters`);
  }
  if (account.includes('|')) throw new ParleyError('UNAUTHORIZED', "the token's account must not contain '|'");
  if (CONTROL.test(account)) throw new ParleyError('UNAUTHORIZED', "the token's account must not contain control characters");
  return account;
}
