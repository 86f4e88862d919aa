/**
 * Scraping `/metrics` and linting it with Prometheus's `promtool check
 * metrics`. A missing promtool fails the caller (`.ci/run` installs it with
 * Debian's `prometheus` package); it never skips.
 */
import { spawnSync } from 'node:child_process';

/** The text `/metrics` answers on `port`, after checking its status and content type. */
export async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain')) throw new Error(`/metrics has content type '${type}'`);
  return res.text();
}

/** promtool's findings on `text` (one per line), failing when promtool cannot run. */
export function promtoolFindings(text: string): string[] {
  const bin = process.env.PROMTOOL ?? 'promtool';
  const run = spawnSync(bin, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  if (run.error !== undefined) throw new Error(`promtool could not run (install Debian's prometheus package, or set PROMTOOL): ${run.error.message}`);
  // 0: clean; 3: lint findings (printed on stderr); anything else: promtool itself failed.
  if (run.status !== 0 && run.status !== 3) throw new Error(`promtool exited with ${run.status}: ${run.stderr}`);
  return `${run.stdout}\n${run.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** The value of the sample `name{labels}` (labels as written, e.g. `method="sendText",error="none"`), or undefined. */
export function sample(text: string, name: string, labels = ''): number | undefined {
  const head = labels === '' ? `${name} ` : `${name}{${labels}} `;
  for (const line of text.split('\n')) if (line.startsWith(head)) return Number(line.slice(head.length).split(' ')[0]);
  return undefined;
}
