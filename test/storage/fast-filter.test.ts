/**
 * The embedded engine's plain-JavaScript matcher must agree with mingo (and so with MongoDB) on
 * every filter it accepts: checked here on generated documents against mingo's own verdict.
 */
import assert from 'node:assert/strict';
import { Query } from 'mingo';
import { compileFilter } from '../../src/storage/embedded/fast-filter';
import type { Filter } from '../../src/storage/port';

type Doc = Record<string, unknown>;

function documents(): Doc[] {
  const docs: Doc[] = [];
  const values = ['a', 'b', 'c'];
  for (let i = 0; i < 200; i++) {
    const sp = [];
    for (let j = 0; j < i % 4; j++) {
      sp.push({ n: values[(i + j) % 3], k: values[(i * j) % 3], lo: (i * 7 + j) % 50, hi: (i * 7 + j) % 50 + (j % 2 ? 5 : 0), s: j % 2 ? 'sys' : undefined });
    }
    const doc: Doc = { _id: `id-${i}`, vid: i % 5, sp };
    if (i % 7 === 0) doc.deleted = true;
    if (i % 11 === 0) doc.tags = ['x', values[i % 3]];
    if (i % 13 === 0) doc.vid = String(i % 5);
    if (i % 17 === 0) delete doc.sp;
    docs.push(doc);
  }
  return docs;
}

const FILTERS: Filter[] = [
  {},
  { deleted: { $ne: true } },
  { deleted: true },
  { vid: 3 },
  { vid: { $in: [1, 2, '3'] } },
  { vid: { $nin: [1, 2] } },
  { vid: { $gt: 1, $lte: 3 } },
  { vid: { $exists: false } },
  { tags: 'x' },
  { tags: { $ne: 'a' } },
  { sp: { $elemMatch: { n: 'a', k: 'b' } } },
  { sp: { $elemMatch: { n: 'a', s: 'sys', k: { $in: ['a', 'c'] } } } },
  { $and: [{ deleted: { $ne: true } }, { sp: { $elemMatch: { n: 'b', k: 'a' } } }, { sp: { $elemMatch: { n: 'c' } } }] },
  { sp: { $elemMatch: { n: 'a', $or: [{ hi: { $gt: 30 } }, { lo: { $gte: 10 }, hi: { $lte: 20 } }] } } },
  { $or: [{ vid: 0 }, { sp: { $elemMatch: { lo: { $lt: 5 } } } }] },
  { $and: [{ _id: { $in: ['id-1', 'id-2', 'id-3'] } }, { deleted: { $ne: true } }] },
];

describe('embedded engine: fast filter matches mingo', () => {
  const docs = documents();
  FILTERS.forEach((filter) => {
    it(JSON.stringify(filter), () => {
      const predicate = compileFilter(filter);
      assert.ok(predicate, 'the fast path should accept this filter');
      const query = new Query(filter as ConstructorParameters<typeof Query>[0]);
      for (const doc of docs) assert.equal(predicate(doc), query.test(doc), `${JSON.stringify(filter)} on ${JSON.stringify(doc)}`);
    });
  });

  it('declines what it does not cover', () => {
    assert.equal(compileFilter({ 'resource.status': 'active' }), undefined);
    assert.equal(compileFilter({ name: { $regex: '^a' } }), undefined);
    assert.equal(compileFilter({ vid: { $gt: 'a' } }), undefined);
    assert.equal(compileFilter({ vid: null }), undefined);
  });
});
