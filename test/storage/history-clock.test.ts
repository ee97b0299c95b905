/**
 * The history clock's contract (port.ts HistoryClock), on each engine: stamps follow commit order and
 * never fall below a horizon already answered, and a horizon never passes a version that is not yet
 * visible. The HTTP polling test (test/core/history-polling.test.ts) shows what a client gets from it;
 * these pin down the cases it cannot reach: a system clock stepping back, and a commit held before it
 * is durable (the embedded engine's test seam).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/storage/embedded/embedded-engine';
import type { StorageEngine } from '../../src/storage/port';
import { enginesUnderTest } from './engines';

interface Version {
  _id: string;
  ts: number;
}

const horizonOf = (engine: StorageEngine) => engine.historyClock.atHorizon(async (horizon) => horizon);

for (const underTest of enginesUnderTest.filter((e) => !e.name.includes('cache'))) {
  describe(`History clock: ${underTest.name} engine`, () => {
    let engine: StorageEngine;
    let dispose: (() => Promise<void>) | undefined;

    before(async function () {
      if (underTest.skipped) {
        console.log(`\n  *** ${underTest.name} history clock tests PENDING: ${underTest.skipped} ***`);
        this.skip();
      }
      ({ engine, dispose } = await underTest.open());
    });
    after(async () => dispose?.());

    it('keeps stamps in commit order when the system clock steps back a minute', async () => {
      const first = await engine.withTransaction((session) => engine.historyClock.stamp(session, 0));
      const realNow = Date.now;
      Date.now = () => realNow() - 60_000;
      try {
        const second = await engine.withTransaction((session) => engine.historyClock.stamp(session, 0));
        assert.ok(second >= first, `${second} was stamped after ${first}`);
      } finally {
        Date.now = realNow;
      }
    });

    it('never stamps below a horizon already answered, even within the same millisecond', async () => {
      for (let i = 0; i < 50; i++) {
        await engine.withTransaction((session) => engine.historyClock.stamp(session, 0));
        const horizon = await horizonOf(engine);
        const next = await engine.withTransaction((session) => engine.historyClock.stamp(session, 0));
        assert.ok(next >= horizon, `stamp ${next} fell below the horizon ${horizon} answered before it`);
      }
    });

    it("gives one transaction's versions one stamp, unless a later one is asked for", async () => {
      await engine.withTransaction(async (session) => {
        const a = await engine.historyClock.stamp(session, 0);
        assert.equal(await engine.historyClock.stamp(session, 0), a);
        assert.equal(await engine.historyClock.stamp(session, a + 5), a + 5);
      });
    });
  });
}

describe('History clock: embedded engine, a commit not yet durable', function () {
  this.timeout(30_000);
  let dir: string;
  let engine: EmbeddedEngine;
  let release: () => void = () => undefined;
  let held = 0;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-history-clock-'));
    const beforeDurable = () =>
      new Promise<void>((resolve) => {
        held++;
        release = resolve;
      });
    engine = new EmbeddedEngine({ dataDir: dir, beforeDurable, diskCollections: { history: { columns: ['type', 'rid', 'ts'] } } });
  });
  after(async () => {
    release();
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds the horizon at or below the version until it is durable, then passes it', async () => {
    const history = engine.collection<Version>('history');
    let stamped = 0;
    const written = engine.withTransaction(async (session) => {
      stamped = await engine.historyClock.stamp(session, 0);
      await history.insertOne({ _id: 'Thing/a/1', ts: stamped }, { session });
    });
    while (held < 1) await new Promise((resolve) => setImmediate(resolve));

    const during = await engine.historyClock.atHorizon(async (horizon) => ({ horizon, below: await history.find({ ts: { $lt: horizon } }) }));
    assert.ok(during.horizon <= stamped, 'a version not yet durable holds the horizon back');
    assert.deepEqual(during.below, []);

    release();
    await written;
    const afterwards = await engine.historyClock.atHorizon(async (horizon) => ({ horizon, below: await history.find({ ts: { $lt: horizon } }) }));
    assert.ok(afterwards.horizon > stamped);
    assert.deepEqual(afterwards.below.map((v) => v._id), ['Thing/a/1']);
  });
});
