import assert from 'node:assert/strict';
import { applyPatch } from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { Resource } from '@medplum/fhirtypes';
import { createResourceValidator } from '../../src/validation';
import { readExample } from '../examples/example-files';

interface Variant {
  name: string;
  rule: string;
  base: string;
  patch: Operation[];
  expect: { expression: string; diagnostics: string }[];
  warn?: { expression: string; diagnostics: string }[];
}

const { variants } = readExample<{ variants: Variant[] }>('invalid/variants.json');
const validator = createResourceValidator({ lenientUnknownProfiles: false });

describe('variants (examples/invalid/variants.json): each breaks one profile rule and gets exactly its issue, or is accepted because HL7 SMP allows it', () => {
  for (const variant of variants) {
    it(`${variant.name}: ${variant.rule}`, () => {
      const resource = applyPatch(readExample(variant.base), variant.patch, true, false).newDocument as Resource;
      const result = validator.validate(resource);
      const errors = result.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
      const shown = errors.map((i) => `${i.expression?.[0]}: ${i.diagnostics}`).join('\n');
      assert.equal(result.valid, variant.expect.length === 0, shown);
      assert.equal(errors.length, variant.expect.length, `expected ${variant.expect.length} error(s), got:\n${shown}`);
      for (const expected of variant.expect) {
        const match = errors.find((i) => i.expression?.[0] === expected.expression && i.diagnostics?.includes(expected.diagnostics));
        assert.ok(match, `no error at ${expected.expression} containing "${expected.diagnostics}"; got:\n${shown}`);
      }
      const warnings = result.issues.filter((i) => i.severity === 'warning');
      for (const expected of variant.warn ?? []) {
        const match = warnings.find((i) => i.expression?.[0] === expected.expression && i.diagnostics?.includes(expected.diagnostics));
        assert.ok(match, `no warning at ${expected.expression} containing "${expected.diagnostics}"; got:\n${JSON.stringify(warnings)}`);
      }
    });
  }

  it('the base examples themselves are valid', () => {
    for (const base of new Set(variants.map((v) => v.base))) assert.equal(validator.validate(readExample(base)).valid, true, base);
  });
});
