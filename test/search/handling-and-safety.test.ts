import assert from 'node:assert/strict';
import { createResource, startTestServer, type TestServer } from '../helpers/test-server';
import { loadMtmRecords } from '../fixtures/search/mtm-records';
import { expectBadRequest, expectIds, search } from './search-helpers';

const STRICT = { Prefer: 'handling=strict' };

describe('Search: unknown parameters, malformed values and injection attempts', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await loadMtmRecords(t);
  });
  after(async () => t.close());

  describe('Prefer: handling', () => {
    it('lenient (the default): an unknown parameter is ignored, with a warning entry', async () => {
      const result = await search(t, 'Patient', { family: 'holloway', 'favourite-colour': 'green' });
      assert.equal(result.status, 200);
      assert.deepEqual(result.ids, ['margaret-holloway']);
      const outcome = result.bundle.entry?.find((e) => e.search?.mode === 'outcome');
      assert.equal(outcome?.resource?.resourceType, 'OperationOutcome');
      assert.match(result.warnings.join(' '), /favourite-colour/);
      const explicit = await search(t, 'Patient', { family: 'holloway', 'favourite-colour': 'green' }, { Prefer: 'handling=lenient' });
      assert.deepEqual(explicit.ids, ['margaret-holloway']);
    });

    it('strict: an unknown parameter is a 400 that names it', async () => {
      const message = await expectBadRequest(t, 'Patient', { family: 'holloway', 'favourite-colour': 'green' }, 'favourite-colour', STRICT);
      assert.match(message, /favourite-colour/);
    });

    it('an unsupported result parameter is treated the same way', async () => {
      const lenient = await search(t, 'Patient', { _contained: 'true' });
      assert.equal(lenient.status, 200);
      assert.match(lenient.warnings.join(' '), /_contained/);
      await expectBadRequest(t, 'Patient', { _contained: 'true' }, '_contained', STRICT);
    });

    it('an unsupported modifier is a 400 whatever the handling', async () => {
      await expectBadRequest(t, 'Patient', { 'name:fuzzy': 'rosa' }, 'name:fuzzy');
      await expectBadRequest(t, 'MedicationStatement', { 'code:below': '197361' }, 'code:below');
      await expectBadRequest(t, 'Patient', { 'birthdate:exact': '1948' }, 'birthdate:exact');
    });

    it('malformed values are a 400 naming the parameter', async () => {
      await expectBadRequest(t, 'MedicationStatement', { code: 'a|b|c' }, 'code');
      await expectBadRequest(t, 'Patient', { identifier: '' }, 'identifier');
      await expectBadRequest(t, 'Patient', { '_summary': 'some' }, '_summary');
    });
  });

  describe('injection attempts get 400 or a harmless literal match', () => {
    it('bracketed names never become operators', async () => {
      await expectBadRequest(t, 'Patient', { 'name[$ne]': 'x' }, 'name[$ne]');
      await expectBadRequest(t, 'Patient', { '_id[$gt]': '' }, '_id[$gt]');
      await expectBadRequest(t, 'Patient', { 'family[$regex]': '.*' }, 'family[$regex]');
      await expectBadRequest(t, 'Patient', { $where: 'true' }, '$where');
      await expectBadRequest(t, 'Patient', { 'identifier.$ne': 'x' }, 'identifier.$ne');
    });

    it('operator-looking values are matched literally', async () => {
      await expectIds(t, 'Patient', { identifier: '{"$ne":null}' }, []);
      await expectIds(t, 'Patient', { _id: '{"$gt":""}' }, []);
      await expectIds(t, 'MedicationStatement', { patient: '{"$exists":true}' }, []);
    });

    it('regular expression syntax is escaped', async () => {
      await expectIds(t, 'Patient', { name: '.*' }, []);
      await expectIds(t, 'Patient', { name: '^Hol' }, []);
      await expectIds(t, 'Patient', { 'name:contains': '.' }, []);
      await expectIds(t, 'Patient', { family: 'Holl.*' }, []);
      await expectIds(t, 'ValueSet', { 'url:below': 'http://mtm-fhir.org/fhir/ValueSet/.*' }, []);
    });

    it(':contains is bounded and matches its value literally, so a crafted pattern cannot backtrack', async () => {
      const literal = await createResource(t, { resourceType: 'Patient', name: [{ family: 'Test(a+)+$case' }] });
      const plain = await createResource(t, { resourceType: 'Patient', name: [{ family: 'Baaab' }] });
      try {
        await expectIds(t, 'Patient', { 'name:contains': '(a+)+$' }, [literal.id]);
        // As a regular expression "a+" would also match Baaab (and Holloway, Alvarez...).
        await expectIds(t, 'Patient', { 'name:contains': 'a+' }, [literal.id]);
        await expectIds(t, 'Patient', { 'name:contains': `${'a'.repeat(40)}!(a+)+$` }, []);
      } finally {
        await t.api().delete(`${t.base}/Patient/${literal.id}`);
        await t.api().delete(`${t.base}/Patient/${plain.id}`);
      }
      await expectBadRequest(t, 'Patient', { 'name:contains': 'a'.repeat(300) }, 'name:contains');
      await expectBadRequest(t, 'Patient', { name: 'a'.repeat(2000) }, 'name');
    });

    it('a crafted cursor is refused', async () => {
      const crafted = Buffer.from(JSON.stringify(['n', [{ $gt: '' }], null])).toString('base64url');
      await expectBadRequest(t, 'Patient', { _cursor: crafted }, '_cursor');
      const wrongLength = Buffer.from(JSON.stringify(['n', ['a', 'b', 'c'], null])).toString('base64url');
      await expectBadRequest(t, 'Patient', { _cursor: wrongLength }, '_cursor');
    });

    it('names that collide with JavaScript object internals are just unknown parameters', async () => {
      for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
        const result = await search(t, 'Patient', { [name]: 'x' });
        assert.equal(result.status, 200, name);
        assert.equal(result.ids.length, 3);
        await expectBadRequest(t, 'Patient', { [name]: 'x' }, name, STRICT);
      }
    });

    it('an unescaped query string with operators is still read as flat strings', async () => {
      const res = await t.api().get(`${t.base}/Patient?name[$ne]=x&_sort[$natural]=1`);
      assert.equal(res.status, 400);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    });
  });
});
