import assert from 'node:assert/strict';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { createResourceValidator } from '../../src/validation';
import type { ValidationResult } from '../../src/validation';
import type { CorpusItem } from './differential-corpus';
import { baseResources, invalidVariants, mutatedResources, primitiveExtensions } from './differential-corpus';

/**
 * The compiled structural stage against the reference (Medplum's generic validator), through the
 * whole pipeline: for every input, the same validity and the same set of issues, compared by
 * severity, code and expression (not message text, which is worded per stage).
 */
const reference = createResourceValidator({ lenientUnknownProfiles: false, structuralStage: 'medplum' });
const compiled = createResourceValidator({ lenientUnknownProfiles: false, structuralStage: 'compiled' });

const issueKey = (i: OperationOutcomeIssue): string => `${i.severity} ${i.code} ${i.expression?.[0] ?? '-'}`;
/** Each issue's key, numbered when it repeats: two problems at one place are not one. */
const keys = (r: ValidationResult): string[] => {
  const seen = new Map<string, number>();
  return r.issues.map((i) => {
    const key = issueKey(i);
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n === 1 ? key : `${key} #${n}`;
  });
};

function disagreements(items: CorpusItem[], invalid = { count: 0 }): string[] {
  const found: string[] = [];
  for (const item of items) {
    const want = reference.validate(item.resource);
    const got = compiled.validate(item.resource);
    if (!want.valid) invalid.count++;
    const missing = keys(want).filter((k) => !keys(got).includes(k));
    const extra = keys(got).filter((k) => !keys(want).includes(k));
    if (want.valid !== got.valid || missing.length || extra.length) {
      found.push(`${item.name}: valid ${want.valid}/${got.valid}; only the reference: [${missing.join('; ')}]; only compiled: [${extra.join('; ')}]`);
    }
  }
  return found;
}

const show = (found: string[]): string => `${found.length} disagreement(s):\n${found.slice(0, 15).join('\n')}`;

describe('the compiled structural stage reports what Medplum\'s validator reports', function () {
  this.timeout(600_000);
  const bases = baseResources();

  it('on every example resource and every resource inside an example Bundle', () => {
    assert.ok(bases.length >= 20, `only ${bases.length} examples found`);
    const found = disagreements(bases);
    assert.deepEqual(found, [], show(found));
  });

  it('on every invalid variant of examples/invalid/variants.json', () => {
    const variants = invalidVariants();
    assert.ok(variants.length >= 10);
    const found = disagreements(variants);
    assert.deepEqual(found, [], show(found));
  });

  it('on a generated corpus: each element dropped, mistyped, miscoded, nulled, blanked, repeated; unknown properties added', () => {
    const corpus = mutatedResources(bases, 100);
    assert.ok(corpus.length >= 4000, `only ${corpus.length} mutations generated`);
    const invalid = { count: 0 };
    const found = disagreements(corpus, invalid);
    assert.deepEqual(found, [], show(found));
    // The corpus must exercise both outcomes, or agreeing would prove little.
    assert.ok(invalid.count > corpus.length / 2 && invalid.count < corpus.length, `${invalid.count} of ${corpus.length} invalid`);
  });

  it('on primitive values with extensions (_x twins): beside the value, instead of it, in a primitive array', () => {
    const corpus = primitiveExtensions(bases);
    assert.ok(corpus.length >= 1000, `only ${corpus.length} generated`);
    const found = disagreements(corpus);
    assert.deepEqual(found, [], show(found));
  });
});
