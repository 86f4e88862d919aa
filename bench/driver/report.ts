/**
 * The report of a bench run: one JSON file with everything, SVG charts drawn
 * by Vega-Lite (compiled to Vega and rendered headless in Node), and a
 * Markdown page with the machine, the Parley figures, their ratios to the
 * ceilings of the same run, the peers and the CPU per delivered message of
 * every system.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { findNatsServer } from '../../test/helpers/nats-server.ts';
import type { ScenarioResult } from './run-scenario.ts';
import type { CeilingResult } from '../ceilings/run-ceilings.ts';
import type { PeerResult } from '../peers/run-peers.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  natsServer: string;
}

export interface Suite {
  machine: Machine;
  results: ScenarioResult[];
  ceilings: CeilingResult[];
  peers: PeerResult[];
}

export function machine(): Machine {
  let natsServer = 'unknown';
  try {
    natsServer = execFileSync(findNatsServer(), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // Reported as unknown.
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    kernel: release(),
    node: process.version,
    natsServer,
  };
}

/** Renders a Vega-Lite spec to SVG text. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function timeChart(title: string, yTitle: string, values: { t: number; metric: string; value: number }[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 560,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'seconds since start' },
      y: { field: 'value', type: 'quantitative', title: yTitle },
      color: { field: 'metric', type: 'nominal', title: null },
    },
  };
}

function barChart(title: string, xTitle: string, values: { system: string; value: number }[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 480,
    height: { step: 22 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'system', type: 'nominal', sort: '-x', title: null },
      x: { field: 'value', type: 'quantitative', title: xTitle },
    },
  };
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits }));

function headlineOf(r: ScenarioResult): string {
  const parts: string[] = [];
  for (const [name, c] of Object.entries(r.counters)) if (['acked', 'delivered', 'logins', 'synced', 'pages'].includes(name)) parts.push(`${name} ${fmt(c.rate)}/s`);
  for (const [name, t] of Object.entries(r.trends)) parts.push(`${name} p50 ${fmt(t.p50, 1)} / p99 ${fmt(t.p99, 1)} ms`);
  if (r.counters.held !== undefined) parts.push(`held ${fmt(r.counters.held.count)}`);
  return parts.join(', ');
}

/** Parley figures over their ceilings of the same run. */
export function ratios(suite: Suite): { figure: string; value: string; ceiling: string; ratio: string }[] {
  const ceiling = (name: string) => suite.ceilings.find((c) => c.name === name);
  const rows: ReturnType<typeof ratios> = [];
  // Delivery is set beside the topic fan-out ceiling (frames a bare uWS server
  // delivers to subscribers), or the echo ceiling when no fan-out was measured.
  const socket = ceiling('uWS fan-out') ?? ceiling('uWS echo');
  for (const r of suite.results.filter((x) => x.scenario === 'p2p-throughput')) {
    const store = ceiling(r.mode === 'cluster' ? 'JetStream append' : 'LMDB puts');
    const delivered = r.counters.delivered?.rate ?? 0;
    const acked = r.counters.acked?.rate ?? 0;
    if (socket) rows.push({ figure: `delivered msgs/s (${r.mode})`, value: fmt(delivered), ceiling: `${socket.name} ${fmt(socket.rate)}/s`, ratio: (delivered / socket.rate).toFixed(3) });
    if (store) rows.push({ figure: `persisted msgs/s (${r.mode})`, value: fmt(acked), ceiling: `${store.name} ${fmt(store.rate)}/s`, ratio: (acked / store.rate).toFixed(3) });
    if (socket && r.cpuUsPerDelivered !== undefined)
      rows.push({
        figure: `server CPU µs per delivered msg (${r.mode})`,
        value: fmt(r.cpuUsPerDelivered, 1),
        ceiling: `${socket.name} ${fmt(socket.cpuUsPerOp, 2)} µs`,
        ratio: `${(r.cpuUsPerDelivered / socket.cpuUsPerOp).toFixed(1)}×`,
      });
  }
  // Supergroup fan-out is a topic publish on the edge: set beside the bare uWS topic publish of the same run.
  const topic = ceiling('uWS fan-out');
  for (const r of suite.results.filter((x) => x.scenario === 'superteam-fanout')) {
    const delivered = r.counters.delivered?.rate ?? 0;
    if (topic) rows.push({ figure: `supergroup delivered msgs/s (${r.mode})`, value: fmt(delivered), ceiling: `${topic.name} ${fmt(topic.rate)}/s`, ratio: (delivered / topic.rate).toFixed(3) });
  }
  return rows;
}

function markdown(suite: Suite, name: string, charts: Map<string, string[]>): string {
  const m = suite.machine;
  const lines = [
    `# Parley bench report: ${name}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}; Node ${m.node}; ${m.natsServer}.`,
    'Everything ran on this machine over 127.0.0.x: the systems under test and the load driver share its cores, so read',
    'the CPU columns (server CPU µs per delivered message) beside the rates.',
    '',
    '## Parley',
    '',
    '| scenario | mode | figures | server CPU µs/msg | driver cores | edge RssAnon/conn¹ | saturated | checks |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of suite.results) {
    const failed = r.judged.filter((j) => !j.ok).map((j) => `${j.rule} (was ${j.value})`);
    lines.push(
      `| ${r.scenario} | ${r.mode} | ${headlineOf(r)} | ${fmt(r.cpuUsPerDelivered, 1)} | ${fmt(r.processes.driver?.cores, 2)} | ` +
        `${r.rssPerConnection === undefined ? '-' : `${fmt(r.rssPerConnection / 1024, 1)} KiB`} | ${r.saturated.split(' ')[0]} | ${failed.length === 0 ? 'pass' : `FAIL: ${failed.join('; ')}`} |`,
    );
  }
  lines.push(
    '',
    '¹ Growth of the edge processes\' anonymous resident memory per held connection, read without a forced GC, so an upper',
    'bound; `bench/idle-connections.ts` measures it after a full GC with the user actors passivated.',
  );
  const rows = ratios(suite);
  if (rows.length > 0) {
    lines.push('', '## Ratios to the same-run ceilings', '', '| figure | Parley | ceiling | ratio |', '|---|---|---|---|');
    for (const row of rows) lines.push(`| ${row.figure} | ${row.value} | ${row.ceiling} | ${row.ratio} |`);
  }
  if (suite.ceilings.length > 0) {
    lines.push('', '## Ceilings', '', '| ceiling | ops/s | serving CPU µs/op | client CPU µs/op | what |', '|---|---|---|---|---|');
    for (const c of suite.ceilings) lines.push(`| ${c.name} | ${fmt(c.rate)} | ${fmt(c.cpuUsPerOp, 2)} | ${fmt(c.clientCpuUsPerOp, 2)} | ${c.describe} |`);
  }
  if (suite.peers.length > 0) {
    lines.push('', '## Peers', '', '| system | scenario | delivered msgs/s | latency p50 / p99 ms | server CPU µs/msg | client CPU µs/msg | missing / dup / order errors | saturated |', '|---|---|---|---|---|---|---|---|');
    for (const p of suite.peers)
      lines.push(`| ${p.system} | ${p.scenario} | ${fmt(p.rate)} | ${fmt(p.p50, 1)} / ${fmt(p.p99, 1)} | ${fmt(p.serverCpuUsPerMsg, 1)} | ${fmt(p.clientCpuUsPerMsg, 1)} | ${p.missing} / ${p.duplicates} / ${p.orderErrors} | ${p.saturated} |`);
  }
  lines.push('', '## Charts', '');
  for (const [title, files] of charts) {
    lines.push(`### ${title}`, '');
    for (const f of files) lines.push(`![${title}](${f})`, '');
  }
  lines.push('## Checks and thresholds', '');
  for (const r of suite.results) {
    lines.push(`- ${r.scenario} (${r.mode}): ${r.judged.map((j) => `\`${j.rule}\` ${j.ok ? 'ok' : `**failed** (${j.value})`}`).join(', ')}`);
    for (const e of r.errors.slice(0, 3)) lines.push(`  - error: ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `<name>.json`, the charts and `<name>.md` into `dir`; returns the Markdown path. */
export async function writeReport(dir: string, name: string, suite: Suite): Promise<string> {
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(suite, null, 2));
  const charts = new Map<string, string[]>();
  for (const r of suite.results) {
    const files: string[] = [];
    const rates = r.series.filter((s) => s.metric.endsWith('/s') && !/missing|duplicates|orderErrors|errors|closedEarly/.test(s.metric));
    const latencies = r.series.filter((s) => !s.metric.endsWith('/s'));
    if (rates.length > 0) {
      const file = `${name}-${r.scenario}-${r.mode}-rates.svg`;
      writeFileSync(join(dir, file), await renderSvg(timeChart(`${r.scenario} (${r.mode}): per second`, 'count per second', rates)));
      files.push(file);
    }
    if (latencies.length > 0) {
      const file = `${name}-${r.scenario}-${r.mode}-latency.svg`;
      writeFileSync(join(dir, file), await renderSvg(timeChart(`${r.scenario} (${r.mode}): p50 and p99 per second`, 'ms', latencies)));
      files.push(file);
    }
    if (files.length > 0) charts.set(`${r.scenario} (${r.mode})`, files);
  }
  const cpu = [
    ...suite.results.filter((r) => r.cpuUsPerDelivered !== undefined && r.scenario.startsWith('p2p')).map((r) => ({ system: `Parley ${r.mode} ${r.scenario}`, value: r.cpuUsPerDelivered! })),
    ...suite.ceilings.map((c) => ({ system: `ceiling: ${c.name}`, value: c.cpuUsPerOp })),
    ...suite.peers.map((p) => ({ system: `${p.system} ${p.scenario}`, value: p.serverCpuUsPerMsg })),
  ].filter((v) => Number.isFinite(v.value));
  if (cpu.length > 0) {
    const file = `${name}-cpu-per-message.svg`;
    writeFileSync(join(dir, file), await renderSvg(barChart('Server CPU µs per delivered message (or per op for a ceiling)', 'CPU µs', cpu)));
    charts.set('CPU per message, every system', [file]);
  }
  const path = join(dir, `${name}.md`);
  writeFileSync(path, markdown(suite, name, charts));
  return path;
}
