/**
 * The embedded engine keeps documents in SQLite and finds them through persistent key indexes,
 * streaming candidates in _id order a chunk at a time. Whatever path a find takes (ids, one key,
 * several keys, several indexed conditions, a whole scan, forwards or backwards, across chunk
 * boundaries, with writes not yet durable or staged in a transaction), it must return exactly what
 * MongoDB returns for the same filter: checked here against mingo over the same documents.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Query } from 'mingo';
import { EmbeddedEngine } from '../../src/storage/embedded/embedded-engine';
import type { Document, Filter, FindOptions } from '../../src/storage/port';

interface Row extends Document {
  vid: number;
  ts: number;
  deleted?: true;
  sp?: Array<{ n: string; k?: string; s?: string; lo?: number; hi?: number }>;
  sk?: { a: Record<string, number> };
}

const INDEX = { 'sp.n': 1, 'sp.k': 1 } as const;
/** The range indexes the repository declares (SearchIndexer.rangeIndexSpecs): date range ends, `ts`. */
const RANGES = [{ 'sp.n': 1, 'sp.lo': 1 }, { 'sp.n': 1, 'sp.hi': 1 }, { ts: 1, _id: 1 }] as const;

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function rows(count: number): Row[] {
  const random = lcg(17);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const docs: Row[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${Math.floor(random() * 1e9).toString(36)}-${i}`;
    const sp: NonNullable<Row['sp']> = [
      { n: 'patient', k: `Patient/${i % 40}` },
      // Zipf-like: code "c0" is on about half the documents, so it spans several chunks.
      { n: 'code', s: pick(['sys', 'other']), k: `c${Math.floor(random() * random() * 12)}` },
      { n: 'status', k: pick(['active', 'completed', 'stopped']) },
      { n: 'date', lo: Math.floor(random() * 1000) },
    ];
    sp[3].hi = (sp[3].lo as number) + Math.floor(random() * 50);
    const doc: Row = { _id: id, vid: 1 + (i % 3), ts: Math.floor(random() * 5000), sp, sk: { a: { date: sp[3].lo as number } } };
    if (i % 23 === 0) {
      doc.deleted = true;
      delete doc.sp;
    }
    docs.push(doc);
  }
  return docs;
}

const ALIVE = { deleted: { $ne: true } };
const code = (k: unknown, s?: string) => ({ sp: { $elemMatch: { n: 'code', k, ...(s ? { s } : {}) } } });
const date = (condition: Record<string, unknown>) => ({ sp: { $elemMatch: { n: 'date', ...condition } } });

const CASES: Array<[string, Filter, FindOptions]> = [
  ['one key, first page by _id', { $and: [ALIVE, code('c0', 'sys')] }, { sort: { _id: 1 }, limit: 21 }],
  ['one key, every match', { $and: [ALIVE, code('c0')] }, { sort: { _id: 1 } }],
  ['one key, backwards', { $and: [ALIVE, code('c0')] }, { sort: { _id: -1 }, limit: 40 }],
  ['one key, a page after a position (keyset)', { $and: [ALIVE, code('c0'), { _id: { $gt: 'm' } }] }, { sort: { _id: 1 }, limit: 21 }],
  ['one key, a page before a position', { $and: [ALIVE, code('c1'), { _id: { $lt: 'k' } }] }, { sort: { _id: -1 }, limit: 10 }],
  ['several keys ($in)', { $and: [ALIVE, code({ $in: ['c3', 'c4', 'c5'] })] }, { sort: { _id: 1 }, limit: 50 }],
  ['keys hoisted out of an $or', { sp: { $elemMatch: { n: 'code', k: { $in: ['c2', 'c6'] }, $or: [{ k: 'c2' }, { k: 'c6', s: 'sys' }] } } }, {}],
  [
    'two indexed conditions and a range',
    { $and: [ALIVE, code('c0'), { sp: { $elemMatch: { n: 'status', k: 'completed' } } }, { sp: { $elemMatch: { n: 'date', lo: { $gte: 500 } } } }] },
    { sort: { _id: 1 }, limit: 21 },
  ],
  ['a patient', { $and: [ALIVE, { sp: { $elemMatch: { n: 'patient', k: 'Patient/7' } } }] }, { sort: { _id: 1 }, limit: 1000 }],
  ['no index: a whole scan, with skip', { ts: { $gte: 2500 } }, { sort: { _id: 1 }, skip: 30, limit: 25 }],
  ['no index: a scan from a position', { $and: [{ vid: 2 }, { _id: { $gte: 'g' } }] }, { sort: { _id: 1 } }],
  ['sorted by another key', { $and: [ALIVE, code('c1')] }, { sort: { 'sk.a.date': -1, _id: 1 }, limit: 15 }],
  ['pinned ids', { _id: { $in: ['nope', 'a', 'b'] } }, {}],
  ['nothing', { $and: [ALIVE, code('c404')] }, { sort: { _id: 1 }, limit: 20 }],
  ['a date range nothing else pins', { $and: [ALIVE, date({ lo: { $gte: 100, $lt: 130 } })] }, { sort: { _id: 1 }, limit: 21 }],
  ['a date range, every match, backwards', date({ hi: { $lte: 40 } }), { sort: { _id: -1 } }],
  ['date alternatives served by two range indexes', date({ $or: [{ hi: { $gt: 1030 } }, { lo: { $gte: 10 }, hi: { $lte: 40 } }] }), { sort: { _id: 1 } }],
  ['a date range on a keyset page', { $and: [date({ lo: { $gt: 900 } }), { _id: { $gt: 'm' } }] }, { sort: { _id: 1 }, limit: 10 }],
  ['a number pinned on a range field', date({ lo: { $in: [500, 501] } }), {}],
  ['a range with a string bound matches no number', date({ lo: { $gte: '5' } }), {}],
  ['a top-level range (ts)', { ts: { $gte: 1000, $lt: 1200 } }, { sort: { _id: -1 }, limit: 7 }],
  ['an alternative no index bounds: read in _id order', date({ $or: [{ lo: { $lt: 20 } }, { k: { $exists: false } }] }), { sort: { _id: 1 }, limit: 30 }],
  ['projection', { $and: [ALIVE, { sp: { $elemMatch: { n: 'patient', k: 'Patient/3' } } }] }, { projection: { _id: 1 }, sort: { _id: 1 } }],
];

function expected(docs: Row[], filter: Filter, options: FindOptions): string[] {
  let cursor = new Query(filter as ConstructorParameters<typeof Query>[0]).find<Row>(docs);
  cursor = cursor.sort(options.sort ?? { _id: 1 });
  if (options.skip) cursor = cursor.skip(options.skip);
  if (options.limit) cursor = cursor.limit(options.limit);
  return cursor.all().map((d) => (d as Row)._id);
}

describe('Embedded engine: finds over documents kept on disk answer as MongoDB does', function () {
  this.timeout(60_000);
  let dir: string;
  let engine: EmbeddedEngine;
  const docs = rows(3000);

  const open = (cacheMb: number) => new EmbeddedEngine({ dataDir: dir, cacheMb });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-stored-'));
    engine = open(0);
    const c = engine.collection<Row>('Things');
    // Half before the index exists (it is built from them), half after (filed as they are written).
    const half = docs.length / 2;
    await engine.withTransaction(async (session) => {
      for (const doc of docs.slice(0, half)) await c.insertOne(doc, { session });
    });
    await c.createIndex(INDEX);
    for (const spec of RANGES) await c.createIndex(spec);
    await engine.withTransaction(async (session) => {
      for (const doc of docs.slice(half)) await c.insertOne(doc, { session });
    });
  });
  after(async () => {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, filter, options] of CASES) {
    it(`${name}`, async () => {
      const found = await engine.collection<Row>('Things').find(filter, options);
      assert.deepEqual(found.map((d) => d._id), expected(docs, filter, options));
      assert.equal(await engine.collection<Row>('Things').countDocuments(filter), expected(docs, filter, {}).length);
    });
  }

  it('a range nothing else pins examines only the documents in that range', async () => {
    const c = engine.collection<Row>('Things');
    for (const filter of [date({ lo: { $gte: 100, $lt: 130 } }), { ts: { $gte: 1000, $lt: 1100 } }, date({ $or: [{ hi: { $gt: 1030 } }, { lo: { $lt: 5 } }] })]) {
      const matches = expected(docs, filter, {}).length;
      assert.ok(matches > 0 && matches < docs.length / 10, `a selective range (${matches})`);
      assert.equal((await c.explain(filter)).docsExamined, matches, JSON.stringify(filter));
    }
  });

  it('a first page out of a wide range reads about a page of documents, not every candidate', async () => {
    const c = engine.collection<Row>('Things');
    const wide = { $and: [ALIVE, date({ lo: { $gte: 0 } })] };
    assert.ok(expected(docs, wide, {}).length > 2000);
    const before = engine.stats().documentsParsed; // no cache here: every document found is parsed
    assert.deepEqual((await c.find(wide, { sort: { _id: 1 }, limit: 21 })).map((d) => d._id), expected(docs, wide, { limit: 21 }));
    assert.ok(engine.stats().documentsParsed - before <= 40, `parsed ${engine.stats().documentsParsed - before}`);
  });

  it('builds each index once: opened again, the store reads no document to index it', async () => {
    assert.equal(engine.stats().indexBuilds, 1 + RANGES.length, 'the first open built the indexes declared');
    await engine.close();
    engine = open(1);
    const c = engine.collection<Row>('Things');
    await c.createIndex(INDEX);
    for (const spec of RANGES) await c.createIndex(spec);
    // Asked for in another direction, the same B-tree serves it.
    await c.createIndex({ ts: -1, _id: 1 });
    assert.deepEqual(engine.stats(), { documentsParsed: 0, indexBuilds: 0 });
  });

  it('finds the same after a restart, with a cache, through the indexes kept on disk', async () => {
    await engine.close();
    engine = open(1);
    const c = engine.collection<Row>('Things');
    await c.createIndex(INDEX);
    for (const [, filter, options] of CASES) {
      assert.deepEqual((await c.find(filter, options)).map((d) => d._id), expected(docs, filter, options));
    }
  });

  it('sees updates and deletions through the index: old keys are gone, new ones found', async () => {
    const c = engine.collection<Row>('Things');
    const target = docs.find((d) => !d.deleted && d.sp?.[1]?.k === 'c0') as Row;
    const moved: Row = { ...target, vid: target.vid + 1, sp: [{ n: 'code', s: 'sys', k: 'c99' }, { n: 'date', lo: 2000, hi: 2001 }] };
    assert.equal((await c.replaceOne({ _id: target._id, vid: target.vid }, moved)).matchedCount, 1);
    docs[docs.indexOf(target)] = moved;
    const gone = docs.find((d) => !d.deleted && d.sp?.[1]?.k === 'c1') as Row;
    assert.equal((await c.deleteOne({ _id: gone._id })).deletedCount, 1);
    docs.splice(docs.indexOf(gone), 1);
    const movedDate = date({ lo: { $gte: 2000 } });
    for (const [, filter, options] of [...CASES, ['the new key', code('c99'), {}] as const, ['the new date', movedDate, {}] as const]) {
      assert.deepEqual((await c.find(filter, options)).map((d) => d._id), expected(docs, filter, options));
    }
    assert.equal((await c.explain(movedDate)).docsExamined, 1, 'the new date is in the range index');
    const old = date({ lo: target.sp?.[3]?.lo ?? -1 });
    assert.equal((await c.explain(old)).docsExamined, expected(docs, old, {}).length, "the old date's entry is gone");
  });

  it("a transaction's staged writes take the place of the stored documents, for it alone", async () => {
    const c = engine.collection<Row>('Things');
    const stored = docs.find((d) => !d.deleted && d.sp?.[1]?.k === 'c0' && d.sp?.[1]?.s === 'sys') as Row;
    const filter = { $and: [ALIVE, code('c0', 'sys')] };
    await engine.withTransaction(async (session) => {
      await c.replaceOne({ _id: stored._id }, { ...stored, vid: 9, sp: [{ n: 'code', k: 'c7' }] }, { session });
      await c.insertOne({ _id: '0-first', vid: 1, ts: 1, sp: [{ n: 'code', s: 'sys', k: 'c0' }] }, { session });
      const inside = (await c.find(filter, { sort: { _id: 1 }, limit: 5000, session })).map((d) => d._id);
      assert.equal(inside[0], '0-first');
      assert.ok(!inside.includes(stored._id), 'the staged version no longer matches');
      const outside = (await c.find(filter, { sort: { _id: 1 }, limit: 5000 })).map((d) => d._id);
      assert.ok(outside.includes(stored._id) && !outside.includes('0-first'), 'others still see the stored state');
      throw new Error('roll back');
    }).catch((error: Error) => assert.equal(error.message, 'roll back'));
    assert.deepEqual((await c.find(filter, { sort: { _id: 1 }, limit: 21 })).map((d) => d._id), expected(docs, filter, { limit: 21 }));
  });
});

describe('Embedded engine: a range too wide to collect is read in _id order without parsing what it leaves out', function () {
  this.timeout(60_000);
  let dir: string;
  let engine: EmbeddedEngine;
  const docs = rows(3000);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-dense-'));
    // A store of 3,000 stands in for one of millions: past 50 candidates a range counts as dense.
    engine = new EmbeddedEngine({ dataDir: dir, cacheMb: 0, rangeCap: 50 });
    const c = engine.collection<Row>('Things');
    await c.createIndex(INDEX);
    for (const spec of RANGES) await c.createIndex(spec);
    await engine.withTransaction(async (session) => {
      for (const doc of docs) await c.insertOne(doc, { session });
    });
  });
  after(async () => {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, filter, options] of CASES) {
    it(`${name}`, async () => {
      assert.deepEqual((await engine.collection<Row>('Things').find(filter, options)).map((d) => d._id), expected(docs, filter, options));
    });
  }

  it('a first page out of 1 in 10 parses about a page of documents, both ways through the ids', async () => {
    const c = engine.collection<Row>('Things');
    const sparse = { $and: [ALIVE, date({ $or: [{ lo: { $lt: 50 } }, { hi: { $gt: 1950 } }] })] };
    const matches = expected(docs, sparse, {}).length;
    assert.ok(matches > 50 && matches < docs.length / 5, `a dense range that is still a small share (${matches})`);
    for (const direction of [1, -1] as const) {
      const options: FindOptions = { sort: { _id: direction }, limit: 21 };
      const before = engine.stats().documentsParsed;
      assert.deepEqual((await c.find(sparse, options)).map((d) => d._id), expected(docs, sparse, options));
      const parsed = engine.stats().documentsParsed - before;
      assert.ok(parsed <= 40, `parsed ${parsed}`);
    }
  });
});
