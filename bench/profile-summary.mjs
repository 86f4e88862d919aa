// Summarises a .cpuprofile by self time (idle left out): per file, then per function.
//   node bench/profile-summary.mjs <file.cpuprofile> [top=25] [filter]
// With `filter`, the function list keeps only functions whose file contains it.
import { readFileSync } from 'node:fs';

const [file, topArg = '25', filter] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top] [filter]');
  process.exit(2);
}
const top = Number(topArg);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
let total = 0;
const byFile = new Map();
const byFn = new Map();
for (const [id, us] of selfUs) {
  const { callFrame } = byId.get(id);
  if (callFrame.functionName === '(idle)') continue;
  total += us;
  const where = callFrame.url === '' ? `(${callFrame.functionName || 'native'})` : callFrame.url.replace(/^file:\/\/.*?\/(dist\/|node_modules\/)/, '$1');
  byFile.set(where, (byFile.get(where) ?? 0) + us);
  const fn = `${callFrame.functionName || '(anonymous)'} ${where}:${callFrame.lineNumber + 1}`;
  if (filter === undefined || where.includes(filter)) byFn.set(fn, (byFn.get(fn) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`total sampled ${(total / 1e6).toFixed(2)} s`);
console.log('-- self time by file');
for (const [f, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(us), f);
console.log('-- self time by function');
for (const [f, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(us), f);
