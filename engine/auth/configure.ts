/**
 * Chooses the login verifier from the configuration: the HTTP callback
 * (exclusive), or JWTs with every key configured (secret, PEM public key,
 * JWKS). With nothing configured the embedded engine creates a development
 * secret and the cluster roles refuse logins. A combination that cannot work
 * fails the start with a sentence naming the variables.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.ts';
import type { Config } from '../config.ts';
import { logger } from '../logger.ts';
import { CallbackVerifier } from './callback-verifier.ts';
import { DEV_SECRET_FILE, devSecret } from './dev-secret.ts';
import { JwtVerifier } from './jwt-verifier.ts';
import { REFUSE_ALL } from './verifier.ts';
import type { TokenVerifier } from './verifier.ts';

/** `PARLEY_JWT_PUBLIC_KEY` is the PEM itself, or a path to a file holding it. */
function pemOf(value: string): string {
  if (value.includes('-----BEGIN')) return value.replace(/\\n/g, '\n');
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new ConfigError(`PARLEY_JWT_PUBLIC_KEY is neither a PEM key nor a readable file: ${(err as Error).message}`);
  }
}

export interface ChosenVerifier {
  verifier: TokenVerifier;
  /** The configuration as the edge should see it (the development secret filled in, when one was made). */
  config: Config;
}

/** The verifier `config` asks for; `cluster` roles never invent a development secret. */
export async function verifierFromConfig(config: Config, cluster: boolean): Promise<ChosenVerifier> {
  const jwtVars = [
    ['PARLEY_JWT_SECRET', config.jwtSecret],
    ['PARLEY_JWT_PUBLIC_KEY', config.jwtPublicKey],
    ['PARLEY_JWKS_URL', config.jwksUrl],
  ].filter(([, v]) => v !== '');
  if (config.authCallbackUrl !== '') {
    if (jwtVars.length > 0) {
      throw new ConfigError(`PARLEY_AUTH_CALLBACK_URL cannot be combined with ${jwtVars.map(([n]) => n).join(' and ')}: the callback decides every login alone`);
    }
    try {
      return { verifier: new CallbackVerifier({ url: config.authCallbackUrl, timeoutMs: config.authCallbackTimeoutMs, cacheMs: config.authCallbackCacheMs }), config };
    } catch (err) {
      throw new ConfigError(`PARLEY_AUTH_CALLBACK_URL is not a URL: ${(err as Error).message}`);
    }
  }
  let effective = config;
  if (jwtVars.length === 0) {
    if (cluster) {
      logger.warn('no login verifier is configured (PARLEY_JWT_SECRET, PARLEY_JWT_PUBLIC_KEY, PARLEY_JWKS_URL or PARLEY_AUTH_CALLBACK_URL): logins are refused and /readyz answers 503');
      return { verifier: REFUSE_ALL, config };
    }
    effective = { ...config, jwtSecret: devSecret(config.dataDir, true)! };
    logger.warn(`no login verifier is configured: logins use the development secret in ${join(config.dataDir, DEV_SECRET_FILE)}; mint a token with \`npm start -- token <account>\``);
  }
  try {
    const verifier = await JwtVerifier.create({
      secret: effective.jwtSecret,
      publicKeyPem: effective.jwtPublicKey === '' ? undefined : pemOf(effective.jwtPublicKey),
      jwksUrl: effective.jwksUrl === '' ? undefined : effective.jwksUrl,
      issuer: effective.jwtIssuer === '' ? undefined : effective.jwtIssuer,
      audience: effective.jwtAudience === '' ? undefined : effective.jwtAudience,
    });
    return { verifier, config: effective };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const variable = /JWKS/.test((err as Error).message) ? 'PARLEY_JWKS_URL' : 'PARLEY_JWT_PUBLIC_KEY';
    throw new ConfigError(`${variable}: ${(err as Error).message}`);
  }
}
