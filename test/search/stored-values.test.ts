/**
 * What indexing stores for a resource: each distinct search value once. A resource repeating one
 * value many times (a system feeding the same identifier on every import) must not carry a search
 * entry per repetition, and every distinct value must still be found.
 */
import assert from 'node:assert/strict';
import type { Patient } from '@medplum/fhirtypes';
import { createResource, startTestServer, type TestServer } from '../helpers/test-server';
import { expectIds } from './search-helpers';

describe('Search values stored for a resource', () => {
  let t: TestServer;
  before(async () => (t = await startTestServer()));
  after(async () => t.close());

  it('stores a value repeated 300 times once, and each distinct value, all of them searchable', async () => {
    const repeated = { system: 'urn:oid:2.16.840.1.113883.4.1', value: '123-45-6789' };
    const identifier = [...Array.from({ length: 300 }, () => repeated), { system: 'urn:example:mrn', value: 'MRN-7' }];
    const patient = await createResource<Patient>(t, { resourceType: 'Patient', identifier, name: [{ family: 'Okafor' }, { family: 'Okafor' }] });

    const stored = await t.server.repository.readDocument('Patient', patient.id);
    const entries = (stored?.sp as Array<{ n: string; k?: string }>).filter((e) => e.n === 'identifier');
    assert.deepEqual(entries.map((e) => e.k).sort(), ['123-45-6789', 'MRN-7']);

    await expectIds(t, 'Patient', { identifier: 'urn:oid:2.16.840.1.113883.4.1|123-45-6789' }, [patient.id]);
    await expectIds(t, 'Patient', { identifier: 'urn:example:mrn|MRN-7' }, [patient.id]);
    await expectIds(t, 'Patient', { family: 'okafor' }, [patient.id]);
  });
});
