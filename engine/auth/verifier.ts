/**
 * Login token verification. The host application mints tokens; a verifier
 * turns one into the account it names. The in-process default is
 * `JwtHs256Verifier` (jwt-verifier.ts); others (JWKS, an HTTP callback to the
 * host) implement the same interface.
 */
import { ParleyError } from '../protocol/errors.ts';
import { MAX_ID_CHARS } from '../protocol/methods.ts';
import { identifierProblem } from '../protocol/schema.ts';

export interface TokenVerifier {
  /** Resolves with the token's account, or rejects with ParleyError('UNAUTHORIZED', reason). */
  verify(token: string): Promise<{ account: string }>;
}

/** Longest account accepted, in UTF-16 code units (the wire schema's identifier limit). */
export const MAX_ACCOUNT_CHARS = MAX_ID_CHARS;

/**
 * Checks that `account` can be an account under the wire's one identifier
 * rule (schema.ts `identifierProblem`: 1..128 letters, digits or `_-.@+=`; no
 * `|`, whitespace, control characters or lone surrogates). Returns it or
 * throws UNAUTHORIZED naming the `sub` claim and what is wrong with it.
 */
export function checkAccount(account: unknown): string {
  if (typeof account !== 'string' || account.length === 0) {
    throw new ParleyError('UNAUTHORIZED', 'the token names no account (`sub` is missing or empty)');
  }
  const problem = identifierProblem(account, MAX_ACCOUNT_CHARS);
  if (problem !== undefined) throw new ParleyError('UNAUTHORIZED', `the token's \`sub\` is not a valid account: it ${problem}`);
  return account;
}
