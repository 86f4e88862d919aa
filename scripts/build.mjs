#!/usr/bin/env node
/**
 * Compiles engine/, edge/, actors/ and client/ into dist/ with
 * `tsc -p tsconfig.build.json` (type-checked, source maps next to each file).
 *
 *   node scripts/build.mjs              build now
 *   node scripts/build.mjs --if-stale   build only when a source changed since the last build
 *
 * Plain JavaScript on purpose: the launcher (engine/bin/parley.mjs) imports it
 * before anything TypeScript can run. The build goes to a directory of its own
 * and replaces dist/ only when it succeeded, so a running engine never loads a
 * half-written tree; a lock file keeps two processes from building at once.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this script belongs to. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The compiled tree. */
export const DIST = join(ROOT, 'dist');
/** The compiled process entry. */
export const ENTRY = join(DIST, 'engine', 'cli.js');
/** Written last into a finished build: each source file's mtime and content hash when the build started. */
const STAMP = join(DIST, '.build-stamp.json');
const LOCK = join(ROOT, 'dist.lock');
/** What the build reads: every file under these, and these files. */
const SOURCE_DIRS = ['engine', 'edge', 'actors', 'client'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json'];
/** How long to wait for another process's build, ms. */
const LOCK_WAIT_MS = 5 * 60_000;

/** A build that could not be made; `message` says what to run instead. */
export class BuildError extends Error {}

function addFiles(rel, into) {
  let st;
  try {
    st = statSync(join(ROOT, rel));
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(join(ROOT, rel)).sort()) addFiles(`${rel}/${name}`, into);
  } else {
    into[rel] = st.mtimeMs;
  }
}

/** Each source file (path relative to the checkout) with its mtime, ms. A few dozen `stat` calls. */
function sourceMtimes() {
  const files = {};
  for (const p of [...SOURCE_DIRS, ...SOURCE_FILES]) addFiles(p, files);
  return files;
}

const contentHash = (rel) => createHash('sha256').update(readFileSync(join(ROOT, rel))).digest('base64url');

/**
 * Why dist/ needs building, or undefined when it is up to date: a source file
 * added, removed, or changed since the last build started. A file whose
 * mtime is what the build recorded is taken as unchanged; one with another
 * mtime (newer, or older: restored, copied without its dates, a skewed clock)
 * is read and compared by content, so only a real edit builds again.
 */
export function staleReason() {
  let built;
  try {
    built = JSON.parse(readFileSync(STAMP, 'utf8')).files;
  } catch {
    return 'dist/ has not been built';
  }
  const now = sourceMtimes();
  for (const [path, mtime] of Object.entries(now)) {
    const was = built[path];
    if (was === undefined) return `${path} was added since the last build`;
    if (was.mtime !== mtime && was.sha256 !== contentHash(path)) return `${path} changed since the last build`;
  }
  for (const path of Object.keys(built)) if (now[path] === undefined) return `${path} was removed since the last build`;
  return undefined;
}

function tscPath() {
  try {
    return createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return true; // a lock still being written
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function withLock(fn) {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw new BuildError(`cannot build dist/ here (${err.message}); run \`npm run build\` as a user who can write ${ROOT}`);
    }
    let holder;
    try {
      holder = Number(readFileSync(LOCK, 'utf8'));
    } catch {
      continue; // released between our open and read
    }
    if (!alive(holder)) {
      rmSync(LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new BuildError(`another build (pid ${holder}) has held ${LOCK} for ${LOCK_WAIT_MS / 1000} s`);
    sleepSync(100);
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

function compile(log) {
  const tsc = tscPath();
  if (tsc === undefined) {
    throw new BuildError(
      'TypeScript is not installed here (it is a dev dependency), so dist/ cannot be built. ' +
        'Run `npm install` (with dev dependencies) and `npm run build`, or ship a dist/ built by `npm run build`.',
    );
  }
  const out = join(ROOT, `dist.tmp-${process.pid}`);
  const old = join(ROOT, `dist.old-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  // Read before tsc starts: a source saved while it runs makes the next check build again.
  const files = {};
  for (const [path, mtime] of Object.entries(sourceMtimes())) files[path] = { mtime, sha256: contentHash(path) };
  log(`building dist/ with tsc -p tsconfig.build.json`);
  // tsc prints its diagnostics on stdout; they go to stderr so that `parley token` output stays clean.
  const res = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (res.status !== 0) {
    rmSync(out, { recursive: true, force: true });
    throw new BuildError(`tsc -p tsconfig.build.json failed (${res.error?.message ?? `exit ${res.status ?? res.signal}`}); see its errors above`);
  }
  writeFileSync(join(out, '.build-stamp.json'), `${JSON.stringify({ builtAt: new Date(started).toISOString(), node: process.version, files }, null, 1)}\n`);
  if (existsSync(DIST)) renameSync(DIST, old);
  try {
    renameSync(out, DIST);
  } catch (err) {
    // Another build put a dist/ in place in between: it is as fresh as ours.
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    rmSync(out, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  log(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Builds dist/ (always, or with `ifStale` only when `staleReason()` says so)
 * and returns the compiled entry's path. Throws BuildError when it cannot.
 * `log` gets one line per step; default: stderr.
 */
export function build({ ifStale = false, log = (line) => process.stderr.write(`parley: ${line}\n`) } = {}) {
  if (ifStale && staleReason() === undefined) return ENTRY;
  withLock(() => {
    const why = staleReason();
    if (ifStale && why === undefined) return; // built by another process while we waited
    if (why !== undefined) log(why);
    compile(log);
  });
  return ENTRY;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--if-stale');
  if (unknown.length > 0) {
    console.error(`build: unknown argument ${unknown[0]}\nusage: node scripts/build.mjs [--if-stale]`);
    process.exit(2);
  }
  try {
    build({ ifStale: args.includes('--if-stale') });
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    console.error(`build: ${err.message}`);
    process.exit(1);
  }
}
