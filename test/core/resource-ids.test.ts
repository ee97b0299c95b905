import assert from 'node:assert/strict';
import { newResourceId } from '../../src/repository/resource-ids';

describe('Server-assigned resource ids', () => {
  it('are valid FHIR ids in the UUID version 7 layout', () => {
    const id = newResourceId();
    assert.match(id, /^[A-Za-z0-9\-.]{1,64}$/);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('carry their creation time, so ids made later sort after ids made earlier', () => {
    const at = Date.UTC(2026, 10, 27, 12, 0, 0);
    assert.equal(newResourceId(at).replace(/-/g, '').slice(0, 12), at.toString(16).padStart(12, '0'));
    const earlier = Array.from({ length: 100 }, () => newResourceId(at));
    const later = Array.from({ length: 100 }, () => newResourceId(at + 1));
    assert.ok(earlier.every((e) => later.every((l) => e < l)));
  });

  it('do not repeat within one millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newResourceId(1_800_000_000_000)));
    assert.equal(ids.size, 10_000);
  });
});
