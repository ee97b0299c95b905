import assert from 'node:assert/strict';
import { grantFor, parseScope, parseScopes } from '../../src/auth/scopes';

const letters = (scope: string) => [...(parseScope(scope)?.permissions ?? [])].sort().join('');

describe('SMART scopes', () => {
  it('reads v2 scopes letter by letter, for one type or every type', () => {
    assert.equal(letters('system/Patient.rs'), 'rs');
    assert.equal(letters('system/*.cruds'), 'cdrsu');
    assert.equal(letters('system/Task.c'), 'c');
    assert.equal(parseScope('system/*.rs')?.resourceType, '*');
  });

  it('maps the v1 forms as SMART 2.x says: read = rs, write = cud, * = cruds', () => {
    assert.equal(letters('system/Patient.read'), 'rs');
    assert.equal(letters('system/Patient.write'), 'cdu');
    assert.equal(letters('system/*.*'), 'cdrsu');
  });

  it('keeps the search parameters of a granular scope, decoded', () => {
    const grant = parseScope('system/Task.rs?code=http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type|cmr&status=completed');
    assert.deepEqual(grant?.query, [
      ['code', 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type|cmr'],
      ['status', 'completed'],
    ]);
    assert.deepEqual(parseScope('system/Task.rs?code=a%7Cb')?.query, [['code', 'a|b']]);
  });

  it('grants nothing for other contexts, letters out of order, unknown words or non-scopes', () => {
    for (const scope of ['patient/Patient.rs', 'user/*.cruds', 'system/Patient.sr', 'system/Patient.rx', 'system/Patient.', 'openid', 'system/patient.rs', 'system/Patient.read?x=1']) {
      assert.equal(parseScope(scope), undefined, scope);
    }
  });

  describe('what a set of scopes grants on one type', () => {
    const grants = parseScopes(['system/Task.rs?code=cmr', 'system/Task.rs?code=tmr', 'system/Patient.r', 'system/Practitioner.read', 'launch']);

    it('is nothing without a scope for the type and the permission', () => {
      assert.deepEqual(grantFor(grants, 'Task', 'c'), { kind: 'none' });
      assert.deepEqual(grantFor(grants, 'Patient', 's'), { kind: 'none' });
      assert.deepEqual(grantFor(grants, 'CarePlan', 'r'), { kind: 'none' });
    });

    it('is everything when one scope has no search parameters', () => {
      assert.deepEqual(grantFor(grants, 'Patient', 'r'), { kind: 'all' });
      assert.deepEqual(grantFor(grants, 'Practitioner', 's'), { kind: 'all' });
      assert.deepEqual(grantFor(parseScopes(['system/Task.rs?code=cmr', 'system/*.rs']), 'Task', 'r'), { kind: 'all' });
    });

    it('is the union of the granular scopes otherwise', () => {
      assert.deepEqual(grantFor(grants, 'Task', 's'), { kind: 'some', queries: [[['code', 'cmr']], [['code', 'tmr']]] });
    });
  });
});
