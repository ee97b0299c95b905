import assert from 'node:assert/strict';
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { evalFhirPathTyped, toTypedValue, tryGetDataType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { mtmStructureDefinitions } from '../../src/conformance';
import { loadBaseDefinitions } from '../../src/fhir/definitions';
import { compileShortCircuit } from '../../src/validation/early-answers';
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
  // Element constraints of Timing.repeat (tim-1 to tim-10) and Bundle.entry (bdl-5, bdl-8): most start with a presence rule.
  for (const c of tryGetDataType('Timing')?.elements.repeat?.constraints ?? []) add('Timing.repeat', c.expression);
  for (const c of tryGetDataType('Bundle')?.elements.entry?.constraints ?? []) add('Bundle.entry', c.expression);

  /** The type names the compiled stage gives these values (@medplum/core's backbone type names), so that it reads their elements as there. */
  const MEDPLUM_TYPE: Record<string, string> = { 'Timing.repeat': 'TimingRepeat', 'Bundle.entry': 'BundleEntry' };

  /** The values of the given keys anywhere in the value (extension objects, Timing.repeat objects). */
  const valuesAt = (value: unknown, keys: string[], found: unknown[] = []): unknown[] => {
    if (Array.isArray(value)) for (const v of value) valuesAt(v, keys, found);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (keys.includes(k)) for (const e of Array.isArray(v) ? v : [v]) if (e && typeof e === 'object' && !Array.isArray(e)) found.push(e);
        valuesAt(v, keys, found);
      }
    }
    return found;
  };

  function contexts(): { type: string; value: unknown }[] {
    const out: { type: string; value: unknown }[] = [];
    for (const { resource } of all) {
      out.push({ type: resource.resourceType, value: resource });
      for (const e of valuesAt(resource, ['extension', 'modifierExtension'])) out.push({ type: 'Extension', value: e });
      for (const r of valuesAt(valuesAt(resource, ['timing']), ['repeat'])) out.push({ type: 'Timing.repeat', value: r });
    }
    for (const { resource } of all) {
      if (resource.resourceType === 'Bundle') for (const e of (resource as { entry?: unknown[] }).entry ?? []) if (e && typeof e === 'object') out.push({ type: 'Bundle.entry', value: e });
    }
    // A versioned fullUrl (bdl-8 fails), which no example has; values with extensions (_x), which the engine compares otherwise.
    const note = { extension: [{ url: 'http://example.org/note', valueString: 'x' }] };
    for (const fullUrl of ['http://example.org/fhir/Patient/1/_history/2', 'http://example.org/fhir/Patient/1', '/_history/']) {
      out.push({ type: 'Bundle.entry', value: { fullUrl, resource: { resourceType: 'Patient', id: '1' } } });
      out.push({ type: 'Bundle.entry', value: { fullUrl, _fullUrl: note, resource: { resourceType: 'Patient', id: '1' } } });
    }
    for (const mode of ['working', 'changes', 'snapshot']) {
      const list = { resourceType: 'List', status: 'current', mode, entry: [{ item: { reference: 'Patient/1' }, date: '2020-01-01', deleted: false }] };
      out.push({ type: 'List', value: list }, { type: 'List', value: { ...list, _mode: note } });
    }
    out.push({ type: 'Timing.repeat', value: { frequency: 1, period: -1, _period: note, periodUnit: 'd' } });
    // The corpus has no zero or tiny durations: the bounds of tim-4 (duration >= 0) and tim-5 (period >= 0).
    for (const x of [0, -0, 1e-12, -1e-12, 0.5, -0.5, 2147483647]) out.push({ type: 'Timing.repeat', value: { frequency: 1, period: x, periodUnit: 'd', duration: x, durationUnit: 'h' } });
    return out;
  }

  it('compiles the common invariants (dom-2, dom-4, dom-5, ext-1, our profiles\' presence rules) and none it cannot decide', () => {
    for (const e of ['contained.contained.empty()', 'contained.meta.security.empty()', 'extension.exists() != value.exists()', 'dosage.text.exists()', "coding.exists() implies coding.system contains 'x'"]) {
      assert.ok(compileSimpleRule(e, 'medplum'), e);
    }
    // A comparison with a number after a presence rule is answered too, when the value is one JSON number.
    assert.equal(compileShortCircuit('period.exists() implies period >= 0', 'medplum')?.({ period: -1 }), false);
    assert.equal(compileShortCircuit('period.exists() implies period >= 0', 'medplum')?.({ period: '1' }), undefined);
    assert.equal(compileShortCircuit("mode = 'working' or entry.date.empty()", 'medplum')?.({ mode: 'working' }), true);
    assert.equal(compileShortCircuit("fullUrl.exists() implies fullUrl.contains('/_history/').not()", 'medplum')?.({ fullUrl: 'a/_history/1' }), false);
    for (const e of ["code.coding.system contains 'x' = true", 'start <= end', '%resource.id.exists()', 'a.where(b).exists()', 'Patient.name.exists()', 'a.exists(b)']) {
      assert.equal(compileSimpleRule(e, 'medplum'), undefined, e);
    }
  });

  for (const semantics of ['medplum', 'fhirpath.js'] as const) {
    it(`gives ${semantics}'s result for every compiled rule, and every early answer, on every corpus resource, extension, Timing.repeat and Bundle.entry`, () => {
      let compared = 0;
      const differences: string[] = [];
      for (const { type, value } of contexts()) {
        for (const expression of rules.get(type) ?? []) {
          const rule = compileSimpleRule(expression, semantics);
          const early = rule ? undefined : compileShortCircuit(expression, semantics);
          const got = rule ? rule(value) : early?.(value);
          if (got === undefined) continue;
          let want: unknown[];
          try {
            want =
              semantics === 'medplum'
                ? evalFhirPathTyped(expression, [type === 'Extension' || type.includes('.') ? { type: MEDPLUM_TYPE[type] ?? type, value } : toTypedValue(value as Resource)], {}).map((v) => v.value)
                : (fhirpath.evaluate(value, { base: type, expression }, undefined, r4model) as unknown[]);
          } catch (error) {
            // The compiled stage reports an engine's failure; an early answer must leave such a value to the engine.
            // (%resource and the like are not set here: the engine fails for want of them alone.)
            if (early && !expression.includes('%')) differences.push(`${type} ${expression} on ${JSON.stringify(value).slice(0, 160)}: engine fails (${String(error).slice(0, 60)}), early answer ${got}`);
            continue;
          }
          compared++;
          if (want.length !== 1 || want[0] !== got) differences.push(`${type} ${expression} on ${JSON.stringify(value).slice(0, 160)}: engine ${JSON.stringify(want)}, rule ${got}`);
        }
      }
      assert.ok(compared > 5000, `only ${compared} comparisons`);
      assert.deepEqual(differences.slice(0, 10), []);
    });
  }
});
