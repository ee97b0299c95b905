/**
 * Issue 12 item 5: a reader never acts on data that a crash could still take back. The embedded
 * engine makes a committed transaction's changes durable a moment later, together with others (group
 * commit); until then only later transactions may see them (so their compare-and-set holds), never a
 * plain read. The engine's test seam holds each group before its SQLite commit, which is when a
 * kill -9 would lose it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/storage/embedded/embedded-engine';
import type { Document } from '../../src/storage/port';

interface Row extends Document {
  vid: number;
  name: string;
}

/** Holds every group of commits before it becomes durable, until released. */
class DurabilityGate {
  private waiting: Array<() => void> = [];
  held = 0;
  readonly hold = () =>
    new Promise<void>((resolve) => {
      this.held++;
      this.waiting.push(resolve);
    });
  release(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/** Turns of the event loop until the gate holds a group: the transaction has committed, not yet durably. */
async function committedNotDurable(gate: DurabilityGate, groups: number): Promise<void> {
  while (gate.held < groups) await new Promise((resolve) => setImmediate(resolve));
}

describe('Embedded engine: reads outside a transaction see only durable data', function () {
  this.timeout(30_000);
  let dir: string;
  let engine: EmbeddedEngine;
  let gate: DurabilityGate;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-durable-reads-'));
    gate = new DurabilityGate();
    engine = new EmbeddedEngine({ dataDir: dir, beforeDurable: gate.hold, diskCollections: { history: { columns: ['type', 'rid', 'ts'] } } });
  });
  afterEach(async () => {
    gate.release();
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('does not serve a created document, by id, by query or by count, until its commit is durable', async () => {
    const things = engine.collection<Row>('Things');
    await things.createIndex({ name: 1 });
    const written = engine.withTransaction((session) => things.insertOne({ _id: 'a', vid: 1, name: 'Anna' }, { session }));
    await committedNotDurable(gate, 1);

    assert.equal(await things.findOne({ _id: 'a' }), null);
    assert.equal(await things.findOne({ _id: 'a', vid: 1 }), null);
    assert.deepEqual(await things.find({ name: 'Anna' }), []);
    assert.deepEqual(await things.find({}), []);
    assert.equal(await things.countDocuments({}), 0);
    assert.equal((await things.explain({ name: 'Anna' })).docsExamined, 0);

    gate.release();
    await written;
    assert.equal((await things.findOne({ _id: 'a' }))?.name, 'Anna');
    assert.deepEqual((await things.find({ name: 'Anna' })).map((d) => d._id), ['a']);
  });

  it('keeps serving the durable version while an update or a deletion is not yet durable', async () => {
    const things = engine.collection<Row>('Things');
    const stored = engine.withTransaction(async (session) => {
      await things.insertOne({ _id: 'u', vid: 1, name: 'Before' }, { session });
      await things.insertOne({ _id: 'd', vid: 1, name: 'Doomed' }, { session });
    });
    // This group goes through the gate too: let it through.
    await committedNotDurable(gate, 1);
    gate.release();
    await stored;

    const written = engine.withTransaction(async (session) => {
      await things.replaceOne({ _id: 'u', vid: 1 }, { _id: 'u', vid: 2, name: 'After' }, { session });
      await things.deleteOne({ _id: 'd' }, { session });
    });
    await committedNotDurable(gate, 2);

    assert.deepEqual(await things.findOne({ _id: 'u' }), { _id: 'u', vid: 1, name: 'Before' });
    assert.deepEqual((await things.find({ name: 'After' })).map((d) => d._id), []);
    assert.deepEqual((await things.find({}, { sort: { _id: 1 } })).map((d) => `${d._id}${d.vid}`), ['d1', 'u1']);
    assert.equal((await things.findOne({ _id: 'd' }))?.name, 'Doomed');

    gate.release();
    await written;
    assert.deepEqual((await things.find({}, { sort: { _id: 1 } })).map((d) => `${d._id}${d.vid}`), ['u2']);
  });

  it('lets a later transaction see the committed state, so its compare-and-set holds', async () => {
    const things = engine.collection<Row>('Things');
    const first = engine.withTransaction((session) => things.insertOne({ _id: 'c', vid: 1, name: 'One' }, { session }));
    await committedNotDurable(gate, 1);
    let replaced = false;
    const second = engine.withTransaction(async (session) => {
      const current = await things.findOne({ _id: 'c' }, { session });
      assert.equal(current?.vid, 1, 'a transaction builds on every committed change');
      const { matchedCount } = await things.replaceOne({ _id: 'c', vid: 1 }, { _id: 'c', vid: 2, name: 'Two' }, { session });
      replaced = true;
      return matchedCount;
    });
    while (!replaced) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await things.findOne({ _id: 'c' }), null, 'neither version is durable yet');
    gate.release();
    await first;
    // The second group goes to SQLite once the first is durable, through the gate too.
    await committedNotDurable(gate, 2);
    gate.release();
    assert.equal(await second, 1);
    assert.equal((await things.findOne({ _id: 'c' }))?.vid, 2);
  });

  it('makes the commits that arrive while a group is being made durable durable together, as one group', async () => {
    const things = engine.collection<Row>('Things');
    const first = engine.withTransaction((session) => things.insertOne({ _id: 'g0', vid: 1, name: 'First' }, { session }));
    await committedNotDurable(gate, 1);
    const later = [1, 2, 3].map((i) => engine.withTransaction((session) => things.insertOne({ _id: `g${i}`, vid: 1, name: 'Later' }, { session })));
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(gate.held, 1, 'nothing else goes to SQLite while the first group is not durable');
    gate.release();
    await first;
    await committedNotDurable(gate, 2);
    gate.release();
    await Promise.all(later);
    assert.equal(gate.held, 2, 'the three later commits went as one group');
    assert.deepEqual((await things.find({ name: 'Later' })).map((d) => d._id).sort(), ['g1', 'g2', 'g3']);
  });

  it('indexes only the last version of a document changed several times within one group', async () => {
    const things = engine.collection<Row>('Things');
    await things.createIndex({ name: 1 });
    const first = engine.withTransaction(async (session) => {
      await things.insertOne({ _id: 'k', vid: 1, name: 'One' }, { session });
      await things.insertOne({ _id: 'gone', vid: 1, name: 'Doomed' }, { session });
    });
    await committedNotDurable(gate, 1);
    // Held: these five commits go to SQLite as one group.
    const later = [
      engine.withTransaction((session) => things.replaceOne({ _id: 'k', vid: 1 }, { _id: 'k', vid: 2, name: 'Two' }, { session })),
      engine.withTransaction((session) => things.replaceOne({ _id: 'k', vid: 2 }, { _id: 'k', vid: 3, name: 'Three' }, { session })),
      engine.withTransaction((session) => things.insertOne({ _id: 'brief', vid: 1, name: 'Brief' }, { session })),
      engine.withTransaction((session) => things.deleteOne({ _id: 'brief' }, { session })),
      engine.withTransaction((session) => things.deleteOne({ _id: 'gone' }, { session })),
    ];
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    gate.release();
    await first;
    await committedNotDurable(gate, 2);
    gate.release();
    await Promise.all(later);
    assert.equal(gate.held, 2);

    assert.deepEqual((await things.find({ name: 'Three' })).map((d) => d._id), ['k']);
    // Created again under another name: a row left for the deleted version would make it a candidate.
    const again = engine.withTransaction((session) => things.insertOne({ _id: 'brief', vid: 1, name: 'Again' }, { session }));
    await committedNotDurable(gate, 3);
    gate.release();
    await again;
    for (const name of ['One', 'Two', 'Brief', 'Doomed']) {
      assert.equal((await things.explain({ name })).docsExamined, 0, `no index row is left for ${name}`);
    }
  });

  it('closing makes every committed change durable, including those waiting behind a group in flight', async () => {
    const things = engine.collection<Row>('Things');
    const first = engine.withTransaction((session) => things.insertOne({ _id: 'w0', vid: 1, name: 'First' }, { session }));
    await committedNotDurable(gate, 1);
    const waiting = [1, 2].map((i) => engine.withTransaction((session) => things.insertOne({ _id: `w${i}`, vid: 1, name: 'Waiting' }, { session })));
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    const closed = engine.close();
    gate.release();
    await first;
    await committedNotDurable(gate, 2);
    gate.release();
    await Promise.all([...waiting, closed]);

    engine = new EmbeddedEngine({ dataDir: dir });
    const reopened = engine.collection<Row>('Things');
    assert.deepEqual((await reopened.find({}, { sort: { _id: 1 } })).map((d) => d._id), ['w0', 'w1', 'w2']);
  });

  it('does not list a history version until it is durable', async () => {
    const history = engine.collection<Row & { ts: number }>('history');
    const written = engine.withTransaction((session) => history.insertOne({ _id: 'Thing/a/1', vid: 1, name: 'Anna', ts: 5 }, { session }));
    await committedNotDurable(gate, 1);
    assert.deepEqual(await history.find({ ts: { $gte: 0 } }), []);
    gate.release();
    await written;
    assert.deepEqual((await history.find({ ts: { $gte: 0 } })).map((d) => d._id), ['Thing/a/1']);
  });
});
