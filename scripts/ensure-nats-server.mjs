#!/usr/bin/env node
/**
 * Makes sure the pinned nats-server is available for the NATS test suites and
 * prints its path. Idempotent: when `<repo>/.tools/bin/nats-server` already
 * reports the pinned version, nothing is done; otherwise it is built with
 * `go install` into `.tools/bin` (gitignored). `NATS_SERVER_BIN`, when set to
 * a binary of the pinned version, is used as is.
 *
 * Exit status 1, with a message saying what to do, when no binary can be had.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSION = 'v2.12.3';
const MODULE = `github.com/nats-io/nats-server/v2@${VERSION}`;
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(repo, '.tools', 'bin');
const bin = join(binDir, 'nats-server');

/** The version a binary reports (`nats-server: v2.12.3`), or undefined when it cannot run. */
function versionOf(path) {
  try {
    const out = execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /v\d+\.\d+\.\d+\S*/.exec(out)?.[0];
  } catch {
    return undefined;
  }
}

function fail(message) {
  process.stderr.write(`ensure-nats-server: ${message}\n`);
  process.exit(1);
}

const fromEnv = process.env.NATS_SERVER_BIN;
if (fromEnv) {
  const version = versionOf(fromEnv);
  if (version === VERSION) {
    process.stdout.write(`${fromEnv}\n`);
    process.exit(0);
  }
  process.stderr.write(
    `ensure-nats-server: NATS_SERVER_BIN=${fromEnv} reports ${version ?? 'nothing'}, not ${VERSION}; using .tools/bin instead\n`,
  );
}

if (existsSync(bin)) {
  const version = versionOf(bin);
  if (version === VERSION) {
    process.stdout.write(`${bin}\n`);
    process.exit(0);
  }
  process.stderr.write(`ensure-nats-server: ${bin} reports ${version ?? 'nothing'}, reinstalling ${VERSION}\n`);
}

let goVersion;
try {
  goVersion = execFileSync('go', ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
} catch {
  fail(
    `nats-server ${VERSION} is needed by the NATS test suites and Go is not installed to build it. ` +
      `Install Go (https://go.dev/dl/) and run this again, or set NATS_SERVER_BIN to a nats-server ${VERSION} binary.`,
  );
}

mkdirSync(binDir, { recursive: true });
process.stderr.write(`ensure-nats-server: go install ${MODULE} (${goVersion})\n`);
try {
  execFileSync('go', ['install', MODULE], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: binDir },
  });
} catch (err) {
  fail(`go install ${MODULE} failed: ${err instanceof Error ? err.message : String(err)}`);
}

const installed = versionOf(bin);
if (installed !== VERSION) fail(`${bin} reports ${installed ?? 'nothing'} after go install, expected ${VERSION}`);
process.stdout.write(`${bin}\n`);
