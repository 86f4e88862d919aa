/**
 * The README's method and event tables are generated from the declarations:
 * this fails when a method or event was added or changed without running
 * `npm run docs`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, generatedReadme } from '../../scripts/generate-docs.ts';

describe('generated documentation', () => {
  it('README.md has the method and event tables the declarations make', () => {
    const current = readFileSync(README, 'utf8');
    expect(current === generatedReadme(current), 'README.md is out of date: run `npm run docs`').toBe(true);
  });
});
