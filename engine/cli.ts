/**
 * Process entry: `parley [start|edge|actors|config] [--flags]`. The only place
 * that reads the environment and argv.
 */
import { ConfigError, describeConfig, parseConfig } from './config.ts';
import type { Role } from './node.ts';
import { logger } from './logger.ts';
import { signDevToken } from './auth/jwt-verifier.ts';
import { devSecret } from './auth/dev-secret.ts';

const ROLES = ['start', 'edge', 'actors', 'config', 'token'] as const;

function usage(): string {
  return [
    'usage: parley [start|edge|actors|config] [--flag value ...]',
    '  start   edge and actors in one process (embedded, or on NATS when PARLEY_NATS_URL is set)',
    '  edge    WebSocket gateway only (needs PARLEY_NATS_URL)',
    '  actors  actor host only (needs PARLEY_NATS_URL)',
    '  config  print the effective configuration',
    '  token <account> [--ttl-sec n]  print a development login token signed with PARLEY_JWT_SECRET',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const first = argv[0];
  const explicit = first !== undefined && !first.startsWith('--');
  const command = explicit ? first : 'start';
  if (command === 'help' || command === '-h') {
    console.log(usage());
    return;
  }
  if (!(ROLES as readonly string[]).includes(command)) {
    console.error(`unknown command '${command}'\n${usage()}`);
    process.exit(2);
  }
  if (command === 'token') {
    await printToken(argv.slice(1));
    return;
  }
  let config;
  try {
    config = parseConfig(process.env, explicit ? argv.slice(1) : argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`parley: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  if (command === 'config') {
    console.log(describeConfig(config));
    return;
  }
  // Loaded only for the serving roles, so `config` and `token` start instantly.
  const { startNode } = await import('./node.ts');
  const node = await startNode(command as Role, config);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    node.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error('stop failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function printToken(args: string[]): Promise<void> {
  const account = args[0];
  const ttlAt = args.indexOf('--ttl-sec');
  const ttlSec = ttlAt === -1 ? 86_400 : Number(args[ttlAt + 1]);
  const secret = process.env.PARLEY_JWT_SECRET || devSecret(process.env.PARLEY_DATA_DIR || './data', false) || '';
  if (account === undefined || account.startsWith('--') || secret === '' || !Number.isInteger(ttlSec) || ttlSec <= 0) {
    console.error('usage: parley token <account> [--ttl-sec n]  (signs with PARLEY_JWT_SECRET, or the development secret in PARLEY_DATA_DIR)');
    process.exit(2);
  }
  console.log(await signDevToken(secret, account, ttlSec));
}

main(process.argv.slice(2)).catch((err) => {
  logger.error('parley failed to start', { err });
  process.exit(1);
});
