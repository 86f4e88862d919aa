/**
 * The production path: `parley` (engine/bin/parley.mjs) runs the compiled
 * dist/ tree, builds it when a source changed since the last build, and when
 * it cannot build says what to run instead of running the sources some other
 * way. Which modules the engine loaded is read from V8's coverage output
 * (NODE_V8_COVERAGE), which lists every script a process ran.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { RawClient } from '../helpers/raw-client.ts';
import { spawnEngine, tempDir, tokenFor } from '../helpers/engine.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
/** A cold tsc run on a small machine, ms. */
const BUILD_TIMEOUT_MS = 180_000;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** The file paths of every script the processes that wrote coverage into `dir` ran. */
function scriptsRun(dir: string): string[] {
  const paths = new Set<string>();
  for (const name of readdirSync(dir)) {
    const { result } = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { result: { url: string }[] };
    for (const { url } of result) if (url.startsWith('file:')) paths.add(fileURLToPath(url));
  }
  return [...paths];
}

describe('compiled engine', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: BUILD_TIMEOUT_MS });
  }, BUILD_TIMEOUT_MS);

  it('starts from dist/, answers /healthz, serves a login and a sendText over the wire, and stops on SIGTERM', async () => {
    const dataDir = tempDir();
    const coverage = tempDir('parley-coverage-');
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    cleanup.push(() => rmSync(coverage, { recursive: true, force: true }));
    const engine = await spawnEngine({ dataDir, compiled: true, env: { NODE_V8_COVERAGE: coverage } });
    cleanup.push(() => engine.kill('SIGKILL'));

    const alice = await RawClient.open(engine.url);
    const bob = await RawClient.open(engine.url);
    cleanup.push(() => (alice.terminate(), bob.terminate()));
    expect((await alice.request('login', { token: await tokenFor('alice') })).r.account).toBe('alice');
    expect((await bob.request('login', { token: await tokenFor('bob') })).r.account).toBe('bob');
    const sent = await alice.request('sendText', { scene: 'p2p', to: 'bob', text: 'compiled hello' });
    expect(sent.e).toBeUndefined();
    expect(sent.r).toMatchObject({ scene: 'p2p', to: 'bob', text: 'compiled hello' });
    const delivered = await bob.event('msg');
    expect(delivered.d).toMatchObject({ from: 'alice', text: 'compiled hello', seq: sent.r.seq });

    engine.process.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
    const ran = scriptsRun(coverage);
    const ours = ran.filter((p) => p.startsWith(ROOT) && !p.includes('/node_modules/'));
    expect(ours).toEqual(expect.arrayContaining([join(ROOT, 'dist/engine/cli.js'), join(ROOT, 'dist/engine/node.js'), join(ROOT, 'dist/edge/edge.js')]));
    expect(ours.filter((p) => p.endsWith('.ts'))).toEqual([]);
    expect(ran.filter((p) => p.includes('/node_modules/tsx/'))).toEqual([]);
  });
});

describe('parley launcher', () => {
  /** A checkout of its own: the launcher, the build script, both tsconfigs and a one-line engine/cli.ts. */
  function checkout(withTypeScript: boolean): { root: string; launch: () => Promise<{ stdout: string; stderr: string }>; writeCli: (text: string) => void } {
    const root = tempDir('parley-launcher-');
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    for (const f of ['engine/bin/parley.mjs', 'scripts/build.mjs', 'tsconfig.json', 'tsconfig.build.json']) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      copyFileSync(join(ROOT, f), join(root, f));
    }
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'launcher-check', private: true, type: 'module' }));
    if (withTypeScript) symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
    const writeCli = (text: string) =>
      writeFileSync(join(root, 'engine/cli.ts'), `const ranFrom: string = import.meta.url;\nconsole.log(${JSON.stringify(text)}, ranFrom);\n`);
    writeCli('v1');
    const launch = () => run(process.execPath, [join(root, 'engine/bin/parley.mjs')], { cwd: root });
    return { root, launch, writeCli };
  }

  it('builds dist/ on the first run and after a source changes, and runs the compiled entry', async () => {
    const { root, launch, writeCli } = checkout(true);
    const entry = pathToFileURL(join(root, 'dist/engine/cli.js')).href;

    const first = await launch();
    expect(first.stdout.trim()).toBe(`v1 ${entry}`);
    expect(first.stderr).toContain('dist/ has not been built');

    const again = await launch();
    expect(again.stdout.trim()).toBe(`v1 ${entry}`);
    expect(again.stderr).toBe('');

    // Dated anew (a copy that did not keep its dates) but the same content: still up to date.
    utimesSync(join(root, 'engine/cli.ts'), new Date(), new Date(Date.now() - 86_400_000));
    const touched = await launch();
    expect(touched.stdout.trim()).toBe(`v1 ${entry}`);
    expect(touched.stderr).toBe('');

    writeCli('v2');
    const changed = await launch();
    expect(changed.stdout.trim()).toBe(`v2 ${entry}`);
    expect(changed.stderr).toContain('engine/cli.ts changed since the last build');
  }, BUILD_TIMEOUT_MS);

  it('says what to run when it cannot build, and runs nothing', async () => {
    const { launch } = checkout(false);
    const failed = await launch().then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(failed).toMatchObject({ code: 1, stdout: '' });
    expect(failed!.stderr).toContain('npm run build');
    expect(failed!.stderr).toContain('TypeScript is not installed');
  });
});
