import assert from 'node:assert/strict';
import type { CodeSystem, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { loadConformanceResources, MTM_BASE, mtmProfileTypes, mtmSearchParameters } from '../../src/conformance';
import { createResourceValidator } from '../../src/validation';
import { Terminology } from '../../src/validation/terminology';

describe('conformance resources (profiles/)', () => {
  const resources = loadConformanceResources();
  const byType = (type: string) => resources.filter((r) => r.resourceType === type);

  it('holds the profiles, our ValueSets and CodeSystems, SearchParameters and the OperationDefinitions', () => {
    assert.ok(byType('StructureDefinition').length >= 8);
    assert.ok(byType('ValueSet').length >= 6);
    assert.ok(byType('CodeSystem').length >= 3);
    assert.ok(byType('SearchParameter').length >= 3);
    const codes = new Set(byType('OperationDefinition').map((r) => (r as { code?: string }).code));
    for (const code of ['reconcile', 'smp-query', 'smp-submit', 'validate', 'mtm-eligibility', 'mtm-eligibility-status', 'mtm-opt-out', 'mtm-review', 'mtm-interventions', 'cmr-summary', 'document', 'mtm-part-d-report']) assert.ok(codes.has(code), code);
  });

  it('every resource has an id, a name and a url under the one canonical base, matching its type and id', () => {
    for (const r of resources as (Resource & { url?: string; name?: string })[]) {
      assert.ok(r.id && r.name, `${r.resourceType}/${r.id} has id and name`);
      assert.equal(r.url, `${MTM_BASE}/${r.resourceType}/${r.id}`);
    }
  });

  it('returns fresh copies, so a caller changing one does not change the next caller\'s', () => {
    (loadConformanceResources()[0] as { id?: string }).id = 'changed';
    assert.notEqual(loadConformanceResources()[0].id, 'changed');
  });

  it('lists each profile with the type it constrains, for CapabilityStatement.supportedProfile', () => {
    assert.equal(mtmProfileTypes().get(`${MTM_BASE}/StructureDefinition/mtm-review-task`), 'Task');
    assert.equal(mtmProfileTypes().get(`${MTM_BASE}/StructureDefinition/mtm-program-enrolment`), 'EpisodeOfCare');
    assert.equal(mtmProfileTypes().size, byType('StructureDefinition').length);
  });

  it('every profile is valid as a StructureDefinition and every resource as what it is', () => {
    const validator = createResourceValidator({ lenientUnknownProfiles: false });
    for (const r of resources) {
      const result = validator.validate(r);
      const errors = result.issues.filter((i) => i.severity === 'error');
      assert.deepEqual(errors, [], `${r.resourceType}/${r.id}`);
    }
  });

  it('every required binding in our profiles points at a ValueSet we can expand', () => {
    const terminology = new Terminology(resources.filter((r): r is ValueSet | CodeSystem => r.resourceType === 'ValueSet' || r.resourceType === 'CodeSystem'));
    for (const sd of byType('StructureDefinition') as StructureDefinition[]) {
      for (const e of sd.snapshot?.element ?? []) {
        if (e.binding?.strength === 'required' && e.binding.valueSet) {
          assert.ok(terminology.valueSet(e.binding.valueSet), `${e.id}: ${e.binding.valueSet}`);
        }
      }
    }
  });

  it('the SearchParameters have what the search engine needs', () => {
    for (const sp of mtmSearchParameters()) {
      assert.ok(sp.code && sp.base?.length && sp.type && sp.expression, sp.id);
    }
  });
});
