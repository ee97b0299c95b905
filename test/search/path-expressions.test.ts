import assert from 'node:assert/strict';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { mtmSearchParameters } from '../../src/conformance';
import { compileExpression } from '../../src/search/expressions';
import { valuesOf } from '../../src/search/extract';
import { compilePathExpression } from '../../src/search/path-expressions';
import { SearchParameterRegistry } from '../../src/search/registry';
import { exampleFiles, readExample } from '../examples/example-files';

/** Resources that exercise choice types, primitive arrays, nested backbones and filtered paths. */
const VARIED: Resource[] = [
  {
    resourceType: 'Patient',
    id: 'p1',
    name: [{ family: 'Holloway', given: ['Margaret', 'Ann'], prefix: ['Mrs'] }, { text: 'Peggy Holloway' }],
    telecom: [{ system: 'phone', value: '555-0101' }, { system: 'email', value: 'm@example.org' }],
    address: [{ line: ['1 Elm St'], city: 'Springfield', postalCode: '01101', country: 'US' }],
    birthDate: '1946-03-02',
    deceasedDateTime: '2026-01-05T10:00:00Z',
    gender: 'female',
    identifier: [{ system: 'urn:oid:2.16.840.1.113883.4.1', value: '123-45-6789', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] } }],
    generalPractitioner: [{ reference: 'Practitioner/pr1' }, { reference: 'Organization/o1' }],
    meta: { tag: [{ system: 'urn:t', code: 'x' }], profile: ['http://example.org/p'] },
  },
  { resourceType: 'Patient', id: 'p2', deceasedBoolean: true, _birthDate: { extension: [{ url: 'urn:x', valueString: 'unknown' }] } } as Resource,
  {
    resourceType: 'MedicationStatement',
    id: 'ms1',
    status: 'active',
    medicationReference: { reference: 'Medication/m1' },
    subject: { reference: 'Group/g1' },
    effectiveDateTime: '2026-11-01',
    context: { reference: 'Encounter/e1' },
    partOf: [{ reference: 'MedicationAdministration/a1' }],
  },
  {
    resourceType: 'Observation',
    id: 'o1',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }], text: 'Systolic' },
    subject: { reference: 'https://other.example/fhir/Patient/p9/_history/2' },
    valueQuantity: { value: 132, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
    effectivePeriod: { start: '2026-11-01T08:00:00Z', end: '2026-11-01T08:05:00Z' },
    component: [{ code: { text: 'x' }, valueCodeableConcept: { coding: [{ system: 'urn:s', code: 'c' }] } }],
  },
  {
    resourceType: 'CarePlan',
    id: 'cp1',
    status: 'active',
    intent: 'plan',
    subject: { type: 'Patient', identifier: { system: 'urn:mrn', value: '42' } },
    period: { start: '2026-10-01' },
    activity: [{ detail: { status: 'in-progress', code: { coding: [{ system: 'http://snomed.info/sct', code: '182836005' }] }, scheduledTiming: { event: ['2026-12-01'] } } }],
    supportingInfo: [{ reference: 'DetectedIssue/d1' }],
  },
  {
    resourceType: 'Task',
    id: 't1',
    status: 'completed',
    intent: 'order',
    for: { reference: 'Patient/p1' },
    executionPeriod: { start: '2026-09-01', end: '2026-09-02' },
    output: [{ type: { text: 'summary' }, valueReference: { reference: 'Composition/c1' } }],
    input: [{ type: { coding: [{ system: 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-parameter', code: 'delivery-method' }] }, valueCodeableConcept: { coding: [{ system: 'urn:d', code: 'phone' }] } }],
  },
];

function corpus(): Resource[] {
  const resources: Resource[] = [...VARIED];
  for (const file of exampleFiles()) {
    const resource = readExample(file);
    resources.push(resource);
    if (resource.resourceType === 'Bundle') for (const entry of (resource as Bundle).entry ?? []) if (entry.resource) resources.push(entry.resource);
  }
  return resources;
}

/** What a parameter indexes for a resource: the entries, order and duplicates aside. */
function indexed(type: Parameters<typeof valuesOf>[0], nodes: ReturnType<ReturnType<typeof compileExpression>>): string[] {
  return [...new Set(nodes.flatMap((node) => valuesOf(type, node)).map((v) => JSON.stringify(v, Object.keys(v).sort())))].sort();
}

describe('Direct evaluation of simple search expressions', () => {
  const registry = new SearchParameterRegistry(mtmSearchParameters());

  it('indexes exactly what fhirpath.js indexes, for every parameter of every resource in the corpus', () => {
    let compared = 0;
    for (const resource of corpus()) {
      for (const param of registry.forType(resource.resourceType).values()) {
        if (!param.expression || param.type === 'composite') continue;
        const direct = compilePathExpression(param.expression, resource.resourceType);
        if (!direct) continue;
        const reference = compileExpression(param.expression);
        assert.deepEqual(indexed(param.type, direct(resource)), indexed(param.type, reference(resource)), `${resource.resourceType}.${param.code}: ${param.expression}`);
        compared++;
      }
    }
    assert.ok(compared > 500, `only ${compared} comparisons`);
  });

  it('covers the parameters MTM clients search on, including patient, code and the custom ones', () => {
    const direct = (type: string, code: string) => !!compilePathExpression(registry.get(type, code)?.expression as string, type);
    for (const [type, code] of [
      ['MedicationStatement', 'patient'],
      ['MedicationStatement', 'code'],
      ['MedicationStatement', 'subject'],
      ['MedicationStatement', 'effective'],
      ['List', 'code'],
      ['CarePlan', 'category'],
      ['Task', 'period'],
      ['Patient', 'email'],
      ['Patient', 'death-date'],
    ]) {
      assert.ok(direct(type, code), `${type}.${code} is evaluated by fhirpath.js`);
    }
  });

  it('leaves to fhirpath.js what it does not understand', () => {
    assert.equal(compilePathExpression('Patient.deceased.exists() and Patient.deceased != false', 'Patient'), undefined);
    assert.equal(compilePathExpression('Patient.name.where(given.count() > 1)', 'Patient'), undefined);
    assert.equal(compilePathExpression('Patient.noSuchElement', 'Patient'), undefined);
    assert.equal(compilePathExpression('Bundle.entry[0].resource', 'Bundle'), undefined);
  });
});
