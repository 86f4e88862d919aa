/**
 * Validation cost of `sendText` arguments, in one run: the member-by-member
 * walk of engine/protocol/schema.ts alone (the hand-written validator, which
 * now only explains a refusal: the baseline), what `parse` runs (TypeBox's
 * compiled check after the reshaping pass), and the schema libraries that
 * were candidates, written with the same rules: identifiers by the one
 * identifier rule, limits, literals, optional flags, unknown members dropped.
 * ns per call and the ratio to the baseline.
 *
 *   node --import tsx bench/validate-candidates.ts [--calls 500000]
 */
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import * as Format from 'typebox/format';
import * as z from 'zod';
import * as v from 'valibot';
import { methods } from '../engine/protocol/methods.ts';
import { identifierProblem } from '../engine/protocol/schema.ts';

const calls = Number(process.argv[process.argv.indexOf('--calls') + 1] || 500_000);
const args = { scene: 'p2p', to: 'bob', text: 'hello there, how are you today?', idClient: '0123456789abcdef0123456789abcdef', needMsgReceipt: true, extra: 1 };

const isId = (value: string) => identifierProblem(value, 128) === undefined;
Format.Set('parley-id', isId);
const SCENES = ['p2p', 'team', 'superTeam'] as const;
const flag = () => Type.Optional(Type.Boolean());
const tb = Type.Object({
  scene: Type.Union(SCENES.map((s) => Type.Literal(s))),
  to: Type.String({ maxLength: 128, format: 'parley-id' }),
  idClient: Type.Optional(Type.String({ maxLength: 64, format: 'parley-id' })),
  custom: Type.Optional(Type.String({ maxLength: 4096 })),
  subType: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })),
  needMsgReceipt: flag(), isHistoryable: flag(), isRoamingable: flag(), isSyncable: flag(), isPushable: flag(), isOfflinable: flag(), isUnreadable: flag(),
  pushContent: Type.Optional(Type.String({ maxLength: 500 })),
  pushPayload: Type.Optional(Type.String({ maxLength: 4096 })),
  resend: flag(),
  text: Type.String({ minLength: 1, maxLength: 5000 }),
});
const tbCheck = Compile(tb);
const tbKeys = Object.keys(tb.properties);
/** TypeBox needs a pass that keeps the known members and drops nil ones; the compiled check follows. */
function tbParse(a: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = {};
  for (const k of tbKeys) {
    const x = a[k];
    if (x !== undefined && x !== null) out[k] = x;
  }
  if (!tbCheck.Check(out)) throw new Error('bad');
  return out;
}

const zid = (max: number) => z.string().max(max).refine(isId);
const zflag = () => z.boolean().nullish();
const zs = z.object({
  scene: z.enum(SCENES),
  to: zid(128),
  idClient: zid(64).nullish(),
  custom: z.string().max(4096).nullish(),
  subType: z.number().int().min(1).max(2 ** 31 - 1).nullish(),
  needMsgReceipt: zflag(), isHistoryable: zflag(), isRoamingable: zflag(), isSyncable: zflag(), isPushable: zflag(), isOfflinable: zflag(), isUnreadable: zflag(),
  pushContent: z.string().max(500).nullish(),
  pushPayload: z.string().max(4096).nullish(),
  resend: zflag(),
  text: z.string().min(1).max(5000),
});

const vid = (max: number) => v.pipe(v.string(), v.maxLength(max), v.check(isId));
const vflag = () => v.nullish(v.boolean());
const vs = v.object({
  scene: v.picklist(SCENES),
  to: vid(128),
  idClient: v.nullish(vid(64)),
  custom: v.nullish(v.pipe(v.string(), v.maxLength(4096))),
  subType: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(2 ** 31 - 1))),
  needMsgReceipt: vflag(), isHistoryable: vflag(), isRoamingable: vflag(), isSyncable: vflag(), isPushable: vflag(), isOfflinable: vflag(), isUnreadable: vflag(),
  pushContent: v.nullish(v.pipe(v.string(), v.maxLength(500))),
  pushPayload: v.nullish(v.pipe(v.string(), v.maxLength(4096))),
  resend: vflag(),
  text: v.pipe(v.string(), v.minLength(1), v.maxLength(5000)),
});

const candidates: Array<[string, (a: Record<string, unknown>) => unknown]> = [
  ['hand-written walk (explain)', (a) => methods.sendText.explain(a, '')],
  ['Parley parse (TypeBox)', (a) => methods.sendText.parse(a, '')],
  ['TypeBox 1 compiled, bare', tbParse],
  ['Zod 4', (a) => zs.parse(a)],
  ['Valibot 1', (a) => v.parse(vs, a)],
];

function measure(fn: (a: Record<string, unknown>) => unknown): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) if (fn({ ...args }) !== undefined) sink++;
  const ns = Number(process.hrtime.bigint() - start) / calls;
  if (sink !== calls) throw new Error('a candidate refused good arguments');
  return ns;
}
// The argument copy is part of every loop: measured alone, then taken off.
const copyNs = measure((a) => a);
for (const [, fn] of candidates) measure(fn); // warm-up
const rows = candidates.map(([name, fn]) => [name, Math.min(measure(fn), measure(fn)) - copyNs] as const);
const base = rows[0]![1];
console.log(`sendText validation, ${calls} calls each (copy of the arguments, ${copyNs.toFixed(0)} ns, taken off)`);
for (const [name, ns] of rows) console.log(`${name.padEnd(26)} ${ns.toFixed(0).padStart(6)} ns   ×${(ns / base).toFixed(2)}`);
