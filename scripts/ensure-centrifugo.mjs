#!/usr/bin/env node
/**
 * Makes sure the pinned Centrifugo (a peer system of the benches) is
 * available and prints its path. Idempotent: when
 * `<repo>/.tools/peers/centrifugo` already reports the pinned version,
 * nothing is done; otherwise it is built with `go install` into
 * `.tools/peers` (gitignored). `CENTRIFUGO_BIN`, when set to a binary of the
 * pinned version, is used as is.
 *
 * Exit status 1, with a message saying what to do, when no binary can be had.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSION = 'v6.9.1';
const MODULE = `github.com/centrifugal/centrifugo/v6@${VERSION}`;
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(repo, '.tools', 'peers');
const bin = join(binDir, 'centrifugo');

/**
 * The module version a binary was built from, as `go version -m` reads it
 * from the build info (a `go install` build reports v0.0.0 to `centrifugo
 * version`, which release builds stamp by linker flag), or undefined.
 */
function versionOf(path) {
  try {
    const out = execFileSync('go', ['version', '-m', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /^\s*mod\s+github\.com\/centrifugal\/centrifugo\/v6\s+(v\S+)/m.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

function fail(message) {
  process.stderr.write(`ensure-centrifugo: ${message}\n`);
  process.exit(1);
}

const fromEnv = process.env.CENTRIFUGO_BIN;
if (fromEnv && versionOf(fromEnv) === VERSION) {
  process.stdout.write(`${fromEnv}\n`);
  process.exit(0);
}
if (existsSync(bin) && versionOf(bin) === VERSION) {
  process.stdout.write(`${bin}\n`);
  process.exit(0);
}
try {
  execFileSync('go', ['version'], { stdio: 'ignore' });
} catch {
  fail(`Centrifugo ${VERSION} is a peer of the benches and Go is not installed to build it. Install Go, or set CENTRIFUGO_BIN, or run the bench with --no-peers.`);
}
mkdirSync(binDir, { recursive: true });
process.stderr.write(`ensure-centrifugo: go install ${MODULE} (a few minutes the first time)\n`);
try {
  execFileSync('go', ['install', MODULE], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: binDir } });
} catch (err) {
  fail(`go install ${MODULE} failed: ${err instanceof Error ? err.message : String(err)}`);
}
const installed = versionOf(bin);
if (installed !== VERSION) fail(`${bin} reports ${installed ?? 'nothing'} after go install, expected ${VERSION}`);
process.stdout.write(`${bin}\n`);
