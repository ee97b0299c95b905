import assert from 'node:assert/strict';
import type { ValueSet } from '@medplum/fhirtypes';
import { Terminology } from '../../src/validation/terminology';

const vs = (id: string, compose: ValueSet['compose']): ValueSet => ({ resourceType: 'ValueSet', status: 'active', url: `http://example.org/ValueSet/${id}`, compose });
const ACT = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

describe('ValueSet membership for required bindings', () => {
  const terminology = new Terminology([
    vs('listed', { include: [{ system: 'http://loinc.org', concept: [{ code: '10183-2' }] }] }),
    vs('whole-system', { include: [{ system: 'http://snomed.info/sct' }] }),
    vs('mitigation', { include: [{ system: ACT, filter: [{ property: 'concept', op: 'is-a', value: '_ActDetectedIssueManagementCode' }] }], exclude: [{ system: ACT, concept: [{ code: '14' }] }] }),
    vs('imports', { include: [{ valueSet: ['http://example.org/ValueSet/listed'] }] }),
  ]);

  it('checks codes listed in the ValueSet, also for systems we cannot enumerate (LOINC)', () => {
    const listed = terminology.valueSet('http://example.org/ValueSet/listed');
    assert.equal(listed?.has('http://loinc.org', '10183-2'), true);
    assert.equal(listed?.has('http://loinc.org', '10160-0'), false);
    assert.equal(listed?.has('http://snomed.info/sct', '10183-2'), false);
  });

  it('accepts any code of a whole system it cannot enumerate (SNOMED CT): a matching system suffices', () => {
    assert.equal(terminology.valueSet('http://example.org/ValueSet/whole-system')?.has('http://snomed.info/sct', '84114007'), true);
    assert.equal(terminology.valueSet('http://example.org/ValueSet/whole-system')?.has('http://loinc.org', '1'), false);
  });

  it('expands is-a filters over a bundled CodeSystem hierarchy, minus exclusions', () => {
    const mitigation = terminology.valueSet('http://example.org/ValueSet/mitigation');
    assert.equal(mitigation?.has(ACT, '13'), true, 'nested under 8');
    assert.equal(mitigation?.has(ACT, '14'), false, 'excluded');
    assert.equal(mitigation?.has(ACT, 'DRG'), false, 'another branch');
  });

  it('follows imported ValueSets, ignores version suffixes, and checks a bare code against every system', () => {
    assert.equal(terminology.valueSet('http://example.org/ValueSet/imports|1.0')?.has(undefined, '10183-2'), true);
    assert.equal(terminology.valueSet('http://hl7.org/fhir/ValueSet/medication-statement-status|4.0.1')?.has(undefined, 'active'), true);
  });

  it('knows nothing of a ValueSet it does not have (and the checker then leaves the value alone)', () => {
    assert.equal(terminology.valueSet('http://example.org/ValueSet/absent'), undefined);
  });
});
