/**
 * Writes the README's method and event tables from the declarations
 * (engine/protocol/methods/ and engine/protocol/events.ts), between the
 * `<!-- generated:… -->` markers. `--check` writes nothing and exits 1 when
 * the README is out of date; the unit tests run the same comparison.
 *
 *   node --import tsx scripts/generate-docs.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { declarationOf, registry } from '../engine/protocol/methods.ts';
import type { MethodName } from '../engine/protocol/methods.ts';
import { events } from '../engine/protocol/events.ts';
import type { Schema } from '../engine/protocol/schema.ts';

export const README = resolve(import.meta.dirname, '../README.md');

const RETRY_TEXT = { idClient: 'by `idClient`', idempotent: 'yes', never: 'no' } as const;

function argumentList(shape: Readonly<Record<string, Schema<unknown>>>): string {
  const names = Object.entries(shape).map(([name, schema]) => {
    if (!schema.optional) return `\`${name}\``;
    const fallback = (schema.json as { default?: unknown }).default;
    return fallback === undefined ? `\`${name}?\`` : `\`${name}?=${JSON.stringify(fallback)}\``;
  });
  return names.length === 0 ? '—' : names.join(', ');
}

/** The method table: one row per declared method. */
export function methodTable(): string {
  const rows = (Object.keys(registry) as MethodName[]).map((m) => {
    const d = declarationOf(m);
    const errors = d.errors.length === 0 ? '—' : d.errors.map((e) => `\`${e}\``).join(', ');
    return `| \`${m}\` | ${d.owner} | ${argumentList(d.args.shape)} | ${RETRY_TEXT[d.retry]} | ${errors} | ${d.doc} |`;
  });
  return ['| method | answered by | arguments | repeated after a timeout | errors | what it does |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

/** The event table: one row per declared event. */
export function eventTable(): string {
  const rows = Object.entries(events).map(([name, e]) => `| \`${name}\` | ${e.doc} |`);
  return ['| event | what it carries |', '|---|---|', ...rows].join('\n');
}

/** `text` with the part between the markers named `name` replaced by `body`. */
export function withSection(text: string, name: string, body: string): string {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start < 0 || end < start) throw new Error(`README.md has no ${open} … ${close} section`);
  return `${text.slice(0, start + open.length)}\n${body}\n${text.slice(end)}`;
}

/** The README as the declarations make it. */
export function generatedReadme(current: string): string {
  return withSection(withSection(current, 'methods', methodTable()), 'events', eventTable());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const current = readFileSync(README, 'utf8');
  const next = generatedReadme(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md is out of date: run `npm run docs`');
      process.exit(1);
    }
  } else if (next !== current) {
    writeFileSync(README, next);
    console.log('README.md: method and event tables written');
  }
}
