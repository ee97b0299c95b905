import assert from 'node:assert/strict';
import type { Bundle, List, MedicationStatement, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { createResourceValidator } from '../../src/validation';
import { exampleFiles, readExample } from './example-files';

const validator = createResourceValidator({ lenientUnknownProfiles: false });
const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';

/**
 * The NPI's check digit (CMS, "Requirements for National Provider Identifier check digit"): the Luhn
 * formula over the 10 digits prefixed with 80840, the card issuer prefix of US health applications.
 */
function hasValidNpiCheckDigit(npi: string): boolean {
  if (!/^[0-9]{10}$/.test(npi)) return false;
  let sum = 0;
  [...`80840${npi}`].reverse().forEach((c, i) => {
    const d = Number(c) * (i % 2 === 1 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  });
  return sum % 10 === 0;
}

/** Every identifier value with the NPI system, anywhere in the JSON. */
function npisIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) npisIn(item, found);
  else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record.system === NPI_SYSTEM && typeof record.value === 'string') found.push(record.value);
    for (const child of Object.values(record)) npisIn(child, found);
  }
  return found;
}

const problems = (issues: OperationOutcomeIssue[]): string =>
  issues.map((i) => `${i.severity} ${i.expression?.[0] ?? ''}: ${i.diagnostics}`).join('\n');

describe('examples/', () => {
  for (const file of exampleFiles()) {
    it(`${file} is valid, with no issue at all`, () => {
      const resource = readExample(file);
      const result = validator.validate(resource);
      assert.deepEqual(result.issues, [], problems(result.issues));
      assert.equal(result.valid, true);
    });

    it(`${file}: every NPI has a valid check digit, as systems that receive it check`, () => {
      for (const npi of npisIn(readExample(file))) assert.ok(hasValidNpiCheckDigit(npi), `NPI ${npi} fails its check digit`);
    });

    const sample = readExample(file);
    if (sample.resourceType === 'Bundle') {
      it(`${file}: every entry is valid on its own, as the server validates it, against its MTM profile`, () => {
        for (const entry of (sample as Bundle).entry ?? []) {
          const resource = entry.resource as Resource;
          const result = validator.validate(resource, { mode: 'create' });
          assert.deepEqual(result.issues, [], `${resource.resourceType}: ${problems(result.issues)}`);
          if (['MedicationStatement', 'List', 'CarePlan', 'DetectedIssue', 'Task'].includes(resource.resourceType)) {
            assert.equal(result.appliedProfiles.length, 1, `${resource.resourceType} should conform to one MTM profile`);
          }
        }
      });
      it(`${file}: a transaction of conditional creates (POST with ifNoneExist on an identifier)`, () => {
        const bundle = sample as Bundle;
        assert.equal(bundle.type, 'transaction');
        for (const entry of bundle.entry ?? []) {
          assert.match(entry.fullUrl ?? '', /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
          assert.equal(entry.request?.method, 'POST');
          assert.match(entry.request?.ifNoneExist ?? '', /^identifier=.+\|.+/);
        }
      });
    }
  }

  describe('the discharge scenario', () => {
    const medicines = (file: string): Map<string, { status: string; dose: number; flag?: string }> => {
      const bundle = readExample<Bundle>(file);
      const byUrl = new Map((bundle.entry ?? []).map((e) => [e.fullUrl, e.resource]));
      const list = bundle.entry?.find((e) => e.resource?.resourceType === 'List')?.resource as List;
      const result = new Map<string, { status: string; dose: number; flag?: string }>();
      for (const entry of list.entry ?? []) {
        const ms = byUrl.get(entry.item.reference) as MedicationStatement;
        const rxnorm = ms.medicationCodeableConcept?.coding?.find((c) => c.system === 'http://www.nlm.nih.gov/research/umls/rxnorm');
        result.set(rxnorm?.code as string, {
          status: ms.status,
          dose: ms.dosage?.[0].doseAndRate?.[0].doseQuantity?.value as number,
          flag: entry.flag?.coding?.[0].code,
        });
      }
      return result;
    };

    it('the discharge list differs from the prior current list by one changed dose, one stopped and two new medicines', () => {
      const before = medicines('discharge/current-medication-list.bundle.json');
      const after = medicines('discharge/discharge-transaction.bundle.json');
      const active = (m: typeof after) => [...m].filter(([, v]) => v.status === 'active').map(([code]) => code);
      const added = active(after).filter((code) => !before.has(code));
      const stopped = active(before).filter((code) => !active(after).includes(code));
      const changed = active(after).filter((code) => before.has(code) && before.get(code)?.dose !== after.get(code)?.dose);
      assert.equal(before.size, 8);
      assert.equal(after.size, 10);
      assert.deepEqual(added.sort(), ['198440', '313096'], 'new: acetaminophen 500 mg and spironolactone 25 mg');
      assert.deepEqual(stopped, ['197361'], 'stopped: amlodipine 5 mg');
      assert.deepEqual(changed, ['310429'], 'changed dose: furosemide 20 mg -> 40 mg');
      assert.equal(after.get('310429')?.flag, '02');
      assert.equal(after.get('197361')?.flag, '05');
      assert.equal(after.get('313096')?.flag, '04');
    });

    it('the discharge list is coded LOINC 10183-2', () => {
      const bundle = readExample<Bundle>('discharge/discharge-transaction.bundle.json');
      const list = bundle.entry?.find((e) => e.resource?.resourceType === 'List')?.resource as List;
      assert.ok(list.code?.coding?.some((c) => c.system === 'http://loinc.org' && c.code === '10183-2'));
    });
  });
});
