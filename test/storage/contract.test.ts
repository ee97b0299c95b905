import assert from 'node:assert/strict';
import type { Document, StorageEngine } from '../../src/storage/port';
import { DuplicateKeyError } from '../../src/storage/port';
import { enginesUnderTest } from './engines';

interface Row extends Document {
  vid: number;
  ts: number;
  name?: string;
  sp?: Array<{ n: string; v: string }>;
}

for (const underTest of enginesUnderTest) {
  describe(`Storage contract: ${underTest.name} engine`, () => {
    let engine: StorageEngine;
    let dispose: (() => Promise<void>) | undefined;
    let n = 0;
    const fresh = () => engine.collection<Row>(`Contract${++n}`);

    before(async function () {
      // Pending, not silently absent: the run's summary counts the tests that did not run.
      if (underTest.skipped) {
        console.log(`\n  *** ${underTest.name} storage contract tests PENDING: ${underTest.skipped} ***`);
        this.skip();
      }
      ({ engine, dispose } = await underTest.open());
    });
    after(async () => dispose?.());

    it('inserts, finds by filter, sorts, skips, limits and counts', async () => {
      const c = fresh();
      for (let i = 0; i < 10; i++) await c.insertOne({ _id: `r${i}`, vid: 1, ts: 100 - i, name: i % 2 ? 'odd' : 'even' });
      const odd = await c.find({ name: 'odd' }, { sort: { ts: 1 } });
      assert.deepEqual(odd.map((d) => d._id), ['r9', 'r7', 'r5', 'r3', 'r1']);
      const page = await c.find({}, { sort: { ts: -1 }, skip: 2, limit: 3 });
      assert.deepEqual(page.map((d) => d._id), ['r2', 'r3', 'r4']);
      assert.equal(await c.countDocuments({ ts: { $gte: 95 } }), 6);
      assert.equal((await c.findOne({ _id: 'r4' }))?.name, 'even');
      assert.equal(await c.findOne({ _id: 'nope' }), null);
    });

    it('refuses a second document with the same _id', async () => {
      const c = fresh();
      await c.insertOne({ _id: 'a', vid: 1, ts: 1 });
      await assert.rejects(c.insertOne({ _id: 'a', vid: 1, ts: 2 }), DuplicateKeyError);
    });

    it('replaces only when the filter still matches: compare-and-set on vid', async () => {
      const c = fresh();
      await c.insertOne({ _id: 'a', vid: 1, ts: 1 });
      assert.equal((await c.replaceOne({ _id: 'a', vid: 1 }, { _id: 'a', vid: 2, ts: 2 })).matchedCount, 1);
      assert.equal((await c.replaceOne({ _id: 'a', vid: 1 }, { _id: 'a', vid: 2, ts: 3 })).matchedCount, 0);
      assert.equal((await c.findOne({ _id: 'a' }))?.ts, 2);
      const upserted = await c.replaceOne({ _id: 'b' }, { _id: 'b', vid: 1, ts: 1 }, { upsert: true });
      assert.equal(upserted.upsertedCount, 1);
    });

    it('deletes one matching document', async () => {
      const c = fresh();
      await c.insertOne({ _id: 'a', vid: 1, ts: 1 });
      assert.equal((await c.deleteOne({ _id: 'a', vid: 2 })).deletedCount, 0);
      assert.equal((await c.deleteOne({ _id: 'a' })).deletedCount, 1);
      assert.equal(await c.countDocuments({}), 0);
    });

    it('answers $elemMatch queries identically with and without an index', async () => {
      const c = fresh();
      for (let i = 0; i < 50; i++) {
        await c.insertOne({ _id: `m${i}`, vid: 1, ts: i, sp: [{ n: 'patient', v: `Patient/${i % 5}` }, { n: 'code', v: String(i % 7) }] });
      }
      const filter = { sp: { $elemMatch: { n: 'patient', v: 'Patient/3' } }, ts: { $gt: 10 } };
      const before = (await c.find(filter, { sort: { ts: 1 } })).map((d) => d._id);
      await c.createIndex({ 'sp.n': 1, 'sp.v': 1 });
      const after = (await c.find(filter, { sort: { ts: 1 } })).map((d) => d._id);
      assert.deepEqual(after, before);
      assert.equal(after.length, 8);
      const inList = await c.find({ sp: { $elemMatch: { n: 'code', v: { $in: ['1', '2'] } } } });
      assert.equal(inList.length, 14);
      // A new write is visible through the index.
      await c.insertOne({ _id: 'late', vid: 1, ts: 99, sp: [{ n: 'patient', v: 'Patient/3' }] });
      assert.equal((await c.find(filter)).length, 9);
    });

    it('examines only the documents an index narrows a query to', async () => {
      const c = fresh();
      for (let i = 0; i < 100; i++) await c.insertOne({ _id: `e${i}`, vid: 1, ts: i, sp: [{ n: 'patient', v: `Patient/${i % 10}` }, { n: 'code', v: String(i) }] });
      const filter = { sp: { $elemMatch: { n: 'patient', v: 'Patient/3' } } };
      assert.equal((await c.explain(filter)).docsExamined, 100, 'without an index, every document');
      await c.createIndex({ 'sp.n': 1, 'sp.v': 1 });
      assert.equal((await c.explain(filter)).docsExamined, 10, 'with one, only the matches');
      assert.equal((await c.find(filter)).length, 10);
      assert.equal((await c.explain({ _id: 'e7' })).docsExamined, 1);
    });

    it('commits every write of a transaction together', async () => {
      const c = fresh();
      await engine.withTransaction(async (session) => {
        await c.insertOne({ _id: 'x', vid: 1, ts: 1 }, { session });
        await c.insertOne({ _id: 'y', vid: 1, ts: 1 }, { session });
        assert.equal((await c.findOne({ _id: 'x' }, { session }))?._id, 'x', 'the transaction reads its own writes');
      });
      assert.equal(await c.countDocuments({}), 2);
    });

    it('rolls back every write of a transaction that throws', async () => {
      const c = fresh();
      await c.insertOne({ _id: 'kept', vid: 1, ts: 1 });
      await assert.rejects(
        engine.withTransaction(async (session) => {
          await c.insertOne({ _id: 'x', vid: 1, ts: 1 }, { session });
          await c.replaceOne({ _id: 'kept' }, { _id: 'kept', vid: 2, ts: 2 }, { session });
          await c.deleteOne({ _id: 'kept' }, { session });
          throw new Error('entry 7 failed');
        }),
        /entry 7 failed/,
      );
      assert.equal(await c.countDocuments({}), 1);
      assert.equal((await c.findOne({ _id: 'kept' }))?.vid, 1);
    });

    it('loses no update when two transactions read a document, wait on a round trip, and increment it', async () => {
      const c = fresh();
      await c.insertOne({ _id: 'counter', vid: 1, ts: 1 });
      const increment = () =>
        engine.withTransaction(async (session) => {
          const current = await c.findOne({ _id: 'counter' }, { session });
          if (!current) throw new Error('counter missing');
          // A turn of the event loop, as a round trip to a database server takes: the other
          // transaction runs now unless the engine keeps them apart.
          await new Promise((resolve) => setImmediate(resolve));
          const { matchedCount } = await c.replaceOne({ _id: 'counter', vid: current.vid }, { _id: 'counter', vid: current.vid + 1, ts: 1 }, { session });
          return matchedCount;
        });
      assert.deepEqual(await Promise.all([increment(), increment()]), [1, 1]);
      assert.equal((await c.findOne({ _id: 'counter' }))?.vid, 3);
    });

    it("keeps a transaction's writes invisible to others until it commits", async () => {
      const c = fresh();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let inside!: () => void;
      const written = new Promise<void>((r) => (inside = r));
      const tx = engine.withTransaction(async (session) => {
        await c.insertOne({ _id: 'pending', vid: 1, ts: 1 }, { session });
        inside();
        await gate;
      });
      await written;
      assert.equal(await c.findOne({ _id: 'pending' }), null);
      release();
      await tx;
      assert.equal((await c.findOne({ _id: 'pending' }))?._id, 'pending');
    });
  });
}
