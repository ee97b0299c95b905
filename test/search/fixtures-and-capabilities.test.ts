import assert from 'node:assert/strict';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { createResourceValidator } from '../../src/validation';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { mtmRecords } from '../fixtures/search/mtm-records';

describe('Search fixtures and the CapabilityStatement', () => {
  it('every search fixture passes validation, MTM profiles included', () => {
    const validator = createResourceValidator({ lenientUnknownProfiles: false });
    for (const resource of mtmRecords()) {
      const result = validator.validate(resource, { mode: 'update' });
      assert.ok(result.valid, `${resource.resourceType}/${resource.id}: ${JSON.stringify(result.issues)}`);
    }
  });

  describe('CapabilityStatement', () => {
    let t: TestServer;
    before(async () => (t = await startTestServer()));
    after(async () => t.close());

    it('lists the search parameters of each type, our own included, and the search interactions', async () => {
      const res = await t.api().get(`${t.base}/metadata`);
      assert.equal(res.status, 200);
      const rest = (res.body as CapabilityStatement).rest?.[0];
      const task = rest?.resource?.find((r) => r.type === 'Task');
      const names = task?.searchParam?.map((p) => p.name) ?? [];
      for (const name of ['code', 'status', 'period', 'patient', 'owner', 'delivery-method', 'output', '_id', '_lastUpdated']) {
        assert.ok(names.includes(name), `Task ${name}`);
      }
      assert.equal(task?.searchParam?.find((p) => p.name === 'delivery-method')?.definition, 'http://mtm-fhir.org/fhir/SearchParameter/mtm-task-delivery-method');
      assert.ok(task?.interaction?.some((i) => i.code === 'search-type'));
      assert.equal(task?.conditionalDelete, 'multiple');
      assert.ok(rest?.interaction?.some((i) => i.code === 'search-system'));
    });
  });
});
