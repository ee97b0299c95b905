import assert from 'node:assert/strict';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { evalFhirPathTyped, toTypedValue, tryGetDataType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { mtmStructureDefinitions } from '../../src/conformance';
import { loadBaseDefinitions } from '../../src/fhir/definitions';
import { compileSimpleRule } from '../../src/validation/simple-fhirpath';
import { baseResources, invalidVariants, mutatedResources } from './differential-corpus';

/**
 * The presence rules compiled to closures (contained.contained.empty(), a.exists() or b.exists(),
 * extension.exists() != value.exists(), ...) give, on every input, what the engine each stands in
 * for gives: @medplum/core's FHIRPath in the compiled structural stage, fhirpath.js in our own
 * constraint checks.
 */
describe('presence rules compiled to closures agree with the FHIRPath engines they replace', function () {
  this.timeout(300_000);
  loadBaseDefinitions();

  /** Root constraints per resource type: the R4 base's and every MTM profile's. */
  const rules = new Map<string, Set<string>>();
  const add = (type: string, expression: string | undefined): void => {
    if (!expression) return;
    if (!rules.has(type)) rules.set(type, new Set());
    rules.get(type)?.add(expression);
  };
  for (const sd of mtmStructureDefinitions()) for (const c of sd.snapshot?.element?.[0]?.constraint ?? []) add(sd.type as string, c.expression);
  const corpus = [...baseResources(), ...invalidVariants()];
  const all = [...corpus, ...mutatedResources(corpus.slice(0, 60), 60)];
  for (const { resource } of all) for (const c of tryGetDataType(resource.resourceType)?.constraints ?? []) add(resource.resourceType, c.expression);
  for (const c of tryGetDataType('Extension')?.constraints ?? []) add('Extension', c.expression);

  const extensionsIn = (value: unknown, found: unknown[] = []): unknown[] => {
    if (Array.isArray(value)) for (const v of value) extensionsIn(v, found);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if ((k === 'extension' || k === 'modifierExtension') && Array.isArray(v)) for (const e of v) if (e && typeof e === 'object') found.push(e);
        extensionsIn(v, found);
      }
    }
    return found;
  };

  function contexts(): { type: string; value: unknown }[] {
    const out: { type: string; value: unknown }[] = [];
    for (const { resource } of all) {
      out.push({ type: resource.resourceType, value: resource });
      for (const e of extensionsIn(resource)) out.push({ type: 'Extension', value: e });
    }
    return out;
  }

  it('compiles the common invariants (dom-2, dom-4, dom-5, ext-1, our profiles\' presence rules) and none it cannot decide', () => {
    for (const e of ['contained.contained.empty()', 'contained.meta.security.empty()', 'extension.exists() != value.exists()', 'dosage.text.exists()']) {
      assert.ok(compileSimpleRule(e, 'medplum'), e);
    }
    for (const e of ["code.coding.system contains 'x'", 'start <= end', '%resource.id.exists()', 'a.where(b).exists()', 'Patient.name.exists()', 'a.exists(b)']) {
      assert.equal(compileSimpleRule(e, 'medplum'), undefined, e);
    }
  });

  for (const semantics of ['medplum', 'fhirpath.js'] as const) {
    it(`gives ${semantics}'s result for every compiled rule on every corpus resource and extension`, () => {
      let compared = 0;
      const differences: string[] = [];
      for (const { type, value } of contexts()) {
        for (const expression of rules.get(type) ?? []) {
          const rule = compileSimpleRule(expression, semantics);
          if (!rule) continue;
          let want: unknown[];
          try {
            want =
              semantics === 'medplum'
                ? evalFhirPathTyped(expression, [type === 'Extension' ? { type, value } : toTypedValue(value as Resource)], {}).map((v) => v.value)
                : (fhirpath.evaluate(value, { base: type, expression }, undefined, r4model) as unknown[]);
          } catch {
            continue;
          }
          compared++;
          const got = rule(value);
          if (want.length !== 1 || want[0] !== got) differences.push(`${type} ${expression} on ${JSON.stringify(value).slice(0, 160)}: engine ${JSON.stringify(want)}, rule ${got}`);
        }
      }
      assert.ok(compared > 5000, `only ${compared} comparisons`);
      assert.deepEqual(differences.slice(0, 10), []);
    });
  }
});
