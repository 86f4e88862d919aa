/**
 * The SDK runs in browsers: everything client/index.ts imports, however
 * deep, must avoid Node's modules and globals.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE_GLOBALS = /\b(Buffer|process|require|__dirname|__filename|setImmediate)\b/;
/** Packages the SDK may import: browser-capable ones only. */
// TypeBox is plain ECMAScript with no Node dependency: the argument schemas and their compiled checks.
const ALLOWED_PACKAGES = new Set(['msgpackr', 'typebox', 'typebox/compile', 'typebox/format']);

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    // Type-only imports vanish at run time.
    if (!/^\s*(?:import|export)\s+type\s/.test(m[0])) specs.push(m[1]!);
  }
  return specs;
}

function closure(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  }
  return { files: [...files], packages: [...packages] };
}

describe('the SDK is browser-safe', () => {
  const { files, packages } = closure(resolve(ROOT, 'client/index.ts'));

  it('imports no Node module and only browser-capable packages', () => {
    expect(files.length).toBeGreaterThan(3);
    for (const p of packages) {
      expect(p.startsWith('node:') || builtinModules.includes(p), `${p} is a Node module`).toBe(false);
      expect(ALLOWED_PACKAGES.has(p), `${p} is not known to work in browsers`).toBe(true);
    }
  });

  it('uses no Node globals', () => {
    for (const file of files) {
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
        .replace(/(['"`])(?:\\.|(?!\1).)*\1/g, "''");
      expect(NODE_GLOBALS.exec(code)?.[0], file).toBeUndefined();
    }
  });
});
