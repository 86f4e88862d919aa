/**
 * The two paths of a map schema's `parse` must agree: the compiled TypeBox
 * check (after the reshaping pass) and the member-by-member walk that names
 * the argument at fault. For every method, valid, broken and arbitrary
 * arguments get the same verdict from both, the same value when accepted and
 * the same error when refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { methods } from '../../engine/protocol/methods.ts';
import type { ObjectSchema } from '../../engine/protocol/schema.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import { brokenValue, validValue } from '../fuzz/arbitraries.ts';

type Verdict = { ok: true; value: unknown } | { ok: false; name: string; message: string };

function verdict(run: () => unknown): Verdict {
  try {
    return { ok: true, value: run() };
  } catch (err) {
    if (!(err instanceof ParleyError)) throw err;
    return { ok: false, name: err.name, message: err.message };
  }
}

const overrides = { token: fc.string({ minLength: 1, maxLength: 16 }) };

describe('map schemas: compiled check and explaining walk agree', () => {
  for (const [m, schema] of Object.entries(methods) as [string, ObjectSchema<never>][]) {
    it(m, () => {
      const args = fc.oneof(
        validValue(schema, '', overrides),
        brokenValue(schema, '', overrides).map((b) => b.value),
        fc.anything({ maxDepth: 3 }),
        fc.dictionary(fc.constantFrom(...Object.keys(schema.shape), 'other'), fc.anything({ maxDepth: 2 })),
      );
      fc.assert(
        fc.property(args, (a) => {
          expect(verdict(() => schema.parse(a, ''))).toEqual(verdict(() => schema.explain(a, '')));
        }),
        { numRuns: 400, seed: 7 },
      );
    });
  }
});
