/**
 * The development secret: when the embedded engine starts without
 * `PARLEY_JWT_SECRET`, it signs and verifies logins with a random secret kept
 * in the data directory, so a first `npm start` serves logins at once and
 * `parley token <account>` can mint tokens for it. Cluster roles never use it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEV_SECRET_FILE = 'dev-jwt-secret';

/** Reads the data directory's development secret, creating it (mode 0600) when absent. */
export function devSecret(dataDir: string, create: boolean): string | undefined {
  const path = join(dataDir, DEV_SECRET_FILE);
  try {
    const secret = readFileSync(path, 'utf8').trim();
    if (secret !== '') return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!create) return undefined;
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}
