/**
 * The bench runner: `npm run bench -- <scenario>|all [flags]`.
 *
 *   --mode embedded|cluster|both   topology (default: both for `all`, else embedded)
 *   --duration s  --vus n  --warmup s   override the scenario's options
 *   --set key=value                     override any other scenario option (window, rate, …)
 *   --smoke                             small numbers, correctness checks only (CI)
 *   --workers n                         driver worker threads (default: cores - 1, at least 1)
 *   --no-ceilings  --no-peers           skip the same-run ceilings / peer systems
 *   --report-dir d                      write the suite report (Markdown, charts, JSON) into d instead of bench/results
 *
 * For each scenario and mode it starts the topology, runs the scenario with
 * the load driver, samples CPU and RSS of every process it started, stops
 * everything and writes bench/results/<scenario>-<mode>-<timestamp>.json.
 * Then the ceilings and peers (unless skipped or smoke), and one Markdown
 * report with SVG charts for the whole run. Exits 1 when a check or
 * threshold failed.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { logger } from '../engine/logger.ts';
import { runScenario } from './driver/run-scenario.ts';
import type { ScenarioResult } from './driver/run-scenario.ts';
import type { Scenario, ScenarioOptions } from './driver/scenario.ts';
import { startParleyTopology } from './driver/topology.ts';
import type { Mode, Topology } from './driver/topology.ts';
import { runCeilings } from './ceilings/run-ceilings.ts';
import type { CeilingResult } from './ceilings/run-ceilings.ts';
import { runPeers } from './peers/run-peers.ts';
import type { PeerResult } from './peers/run-peers.ts';
import { machine, writeReport } from './driver/report.ts';

logger.setLevel('warn');
const HERE = import.meta.dirname;
const SCENARIOS = join(HERE, 'scenarios');
const RESULTS = join(HERE, 'results');

interface Args {
  target: string;
  modes: Mode[];
  overrides: Partial<ScenarioOptions>;
  smoke: boolean;
  workers?: number;
  ceilings: boolean;
  peers: boolean;
  reportDir: string;
}

function parseArgs(argv: string[]): Args {
  const target = argv[0];
  if (target === undefined || target.startsWith('--')) usage('name a scenario or `all`');
  const flag = (name: string) => {
    const at = argv.indexOf(`--${name}`);
    return at === -1 ? undefined : argv[at + 1];
  };
  const number = (name: string) => {
    const v = flag(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) usage(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  const mode = flag('mode') ?? (target === 'all' ? 'both' : 'embedded');
  if (!['embedded', 'cluster', 'both'].includes(mode)) usage(`--mode must be embedded, cluster or both, got ${mode}`);
  const overrides: Partial<ScenarioOptions> = {};
  for (const key of ['duration', 'vus', 'warmup'] as const) if (number(key) !== undefined) overrides[key] = number(key)!;
  argv.forEach((a, i) => {
    if (a !== '--set') return;
    const [key, value] = (argv[i + 1] ?? '').split('=');
    if (key === undefined || value === undefined || !Number.isFinite(Number(value))) usage(`--set takes key=number, got ${argv[i + 1]}`);
    overrides[key!] = Number(value);
  });
  const smoke = argv.includes('--smoke');
  return {
    target: target!,
    modes: mode === 'both' ? ['embedded', 'cluster'] : [mode as Mode],
    overrides,
    smoke,
    workers: number('workers'),
    ceilings: !smoke && !argv.includes('--no-ceilings'),
    peers: !smoke && !argv.includes('--no-peers'),
    reportDir: resolve(flag('report-dir') ?? RESULTS),
  };
}

function usage(problem: string): never {
  const names = readdirSync(SCENARIOS).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  console.error(`bench: ${problem}\nusage: npm run bench -- <${names.join('|')}|all> [--mode embedded|cluster|both] [--duration s] [--vus n] [--smoke]`);
  process.exit(2);
}

async function loadScenario(name: string): Promise<{ path: string; scenario: Scenario }> {
  const path = join(SCENARIOS, `${name}.ts`);
  try {
    return { path, scenario: ((await import(pathToFileURL(path).href)) as { default: Scenario }).default };
  } catch (err) {
    usage(`no scenario '${name}' (${err instanceof Error ? err.message.split('\n')[0] : err})`);
  }
}

/**
 * Scenarios that hold connections open need one descriptor per socket in the
 * driver and one in the edge: their VUs are bounded by the open-file limit
 * (less a margin), with a warning saying so.
 */
function boundByOpenFiles(scenario: Scenario, options: ScenarioOptions): ScenarioOptions {
  if (scenario.connections === undefined) return options;
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  const most = Number.isFinite(limit) ? limit - 2000 : options.vus;
  if (options.vus <= most) return options;
  process.stderr.write(`${scenario.name}: ${options.vus} connections asked, ${most} held (open-file limit ${limit}; raise it with ulimit -n)\n`);
  return { ...options, vus: most };
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);

/** Source addresses for the driver's sockets: 127.0.0.1 … 127.0.0.8 (all reach 127.0.0.1 on Linux). */
const LOCAL_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}`);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const names =
    args.target === 'all' ? readdirSync(SCENARIOS).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort() : [args.target];
  mkdirSync(RESULTS, { recursive: true });
  const results: ScenarioResult[] = [];
  // A smoke run starts one topology per mode and runs every scenario on it
  // (their accounts are unique to each scenario run); a full run starts a
  // fresh topology for each scenario, so one scenario's state cannot weigh
  // on the next one's figures.
  const runs = args.smoke
    ? args.modes.flatMap((mode) => names.map((name) => ({ name, mode })))
    : names.flatMap((name) => args.modes.map((mode) => ({ name, mode })));
  let shared: Topology | undefined;
  try {
    for (const [i, { name, mode }] of runs.entries()) {
      const { path, scenario } = await loadScenario(name);
      const options = boundByOpenFiles(scenario, { ...scenario.options, ...scenario.byMode?.[mode], ...(args.smoke ? scenario.smoke : {}), ...args.overrides } as ScenarioOptions);
      const label = `[${i + 1}/${runs.length}] ${name} (${mode})`;
      const reuse = args.smoke && scenario.engineEnv === undefined;
      if (shared !== undefined && (!reuse || shared.mode !== mode)) {
        await shared.stop();
        shared = undefined;
      }
      if (shared === undefined) process.stderr.write(`${label}: starting the ${mode} topology\n`);
      const topology = shared ?? (await startParleyTopology(mode, scenario.engineEnv));
      if (reuse) shared = topology;
      let result: ScenarioResult;
      try {
        result = await runScenario({ scenarioPath: path, scenario, options, topology, smoke: args.smoke, workers: args.workers, localAddresses: LOCAL_ADDRESSES, label });
      } finally {
        if (!reuse) await topology.stop();
      }
      const file = join(RESULTS, `${name}-${mode}-${stamp()}.json`);
      writeFileSync(file, JSON.stringify(result, null, 2));
      results.push(result);
      const failed = result.judged.filter((j) => !j.ok);
      process.stderr.write(
        `${label}: ${result.passed ? 'ok' : 'FAILED'} ${scenario.headline.map((h) => `${h}=${valueText(result, h)}`).join(' ')}` +
          `${result.cpuUsPerDelivered === undefined ? '' : ` serverCpuUs/msg=${result.cpuUsPerDelivered}`}` +
          `${result.rssPerConnection === undefined ? '' : ` rss/conn=${result.rssPerConnection}B`} -> ${file}\n`,
      );
      for (const f of failed) process.stderr.write(`  failed: ${f.rule} (was ${f.value})\n`);
      for (const e of result.errors.slice(0, 5)) process.stderr.write(`  error: ${e}\n`);
    }
  } finally {
    await shared?.stop();
  }
  let ceilings: CeilingResult[] = [];
  let peers: PeerResult[] = [];
  if (args.ceilings) ceilings = await runCeilings(args.smoke);
  if (args.peers) peers = await runPeers(args.overrides);
  mkdirSync(args.reportDir, { recursive: true });
  const report = await writeReport(args.reportDir, `${args.target}-${args.smoke ? 'smoke-' : ''}${stamp()}`, { machine: machine(), results, ceilings, peers });
  process.stderr.write(`report: ${report}\n`);
  const passed = results.every((r) => r.passed);
  process.stderr.write(passed ? 'bench: every check and threshold held\n' : 'bench: some checks or thresholds FAILED\n');
  process.exit(passed ? 0 : 1);
}

export function valueText(result: ScenarioResult, key: string): string {
  const [metric, stat = 'count'] = [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)];
  const v = result.counters[metric]?.[stat as 'rate'] ?? result.trends[metric]?.[stat as 'p99'];
  return v === undefined ? '-' : String(+v.toFixed(2));
}

if (resolve(process.argv[1] ?? '') === resolve(import.meta.filename)) {
  // Exiting runs the exit hooks that stop every process the run started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
