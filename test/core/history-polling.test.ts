/**
 * Issue 12 item 4: payers and EHRs poll `_history?_since=`. A client that resumes from the previous
 * answer's Bundle.meta.lastUpdated, following its next links, must see every version exactly once,
 * while writers commit concurrently (the test configuration's simulated round trips make their
 * transactions overlap the poller's reads).
 */
import assert from 'node:assert/strict';
import type { Bundle, Practitioner } from '@medplum/fhirtypes';
import { FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';

const practitioner = (family: string): Practitioner => ({ resourceType: 'Practitioner', name: [{ family }] });

/** "id/version" of every entry of a history Bundle (deletions have no resource, so fullUrl and etag). */
function versionsIn(bundle: Bundle): string[] {
  return (bundle.entry ?? []).map((e) => `${e.fullUrl?.split('/').pop()}/${/W\/"(\d+)"/.exec(e.response?.etag ?? '')?.[1]}`);
}

/** Follows the next links from `url`: every version listed, and where the next poll resumes. */
async function readAllPages(t: TestServer, url: string): Promise<{ versions: string[]; resumeAt: string; pages: number }> {
  const versions: string[] = [];
  let resumeAt: string | undefined;
  let pages = 0;
  for (let next: string | undefined = url; next; pages++) {
    const res = await t.api().get(next);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const bundle = res.body as Bundle;
    resumeAt ??= bundle.meta?.lastUpdated;
    versions.push(...versionsIn(bundle));
    const link = bundle.link?.find((l) => l.relation === 'next')?.url;
    next = link ? new URL(link).pathname + new URL(link).search : undefined;
  }
  assert.ok(resumeAt, 'every history answer says where to resume (Bundle.meta.lastUpdated)');
  return { versions, resumeAt, pages };
}

/** Writes through the API and records every version the server acknowledged. */
class Writer {
  readonly written: string[] = [];
  private readonly t: TestServer;
  private readonly name: string;
  constructor(t: TestServer, name: string) {
    this.t = t;
    this.name = name;
  }

  private record(id: string, versionId: string | undefined): void {
    this.written.push(`${id}/${versionId}`);
  }

  async create(family: string): Promise<Practitioner & { id: string }> {
    const res = await this.t.api().post('/fhir/Practitioner').set('Content-Type', FHIR_JSON).send(JSON.stringify(practitioner(family)));
    assert.equal(res.status, 201);
    this.record(res.body.id, res.body.meta.versionId);
    return res.body;
  }

  async update(resource: Practitioner & { id: string }, family: string): Promise<void> {
    const res = await this.t.api().put(`/fhir/Practitioner/${resource.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ ...resource, name: [{ family }] }));
    assert.equal(res.status, 200);
    this.record(resource.id, res.body.meta.versionId);
  }

  async remove(id: string): Promise<void> {
    const res = await this.t.api().delete(`/fhir/Practitioner/${id}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    this.record(id, /W\/"(\d+)"/.exec(res.headers.etag ?? '')?.[1]);
  }

  /** Several versions in one transaction: they share one timestamp. */
  async transaction(count: number): Promise<void> {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: count }, (_, i) => ({ resource: practitioner(`${this.name} T${i}`), request: { method: 'POST', url: 'Practitioner' } })),
    };
    const res = await this.t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (const entry of (res.body as Bundle).entry ?? []) {
      const match = /Practitioner\/([^/]+)\/_history\/(\d+)/.exec(entry.response?.location ?? '') as RegExpExecArray;
      this.record(match[1], match[2]);
    }
  }

  async run(rounds: number): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      const created = await this.create(`${this.name} ${round}`);
      await this.update(created, `${this.name} ${round} again`);
      if (round % 3 === 0) await this.transaction(3);
      if (round % 4 === 3) await this.remove(created.id);
    }
  }
}

function assertExactlyOnce(seen: string[], written: string[]): void {
  const counts = new Map<string, number>();
  for (const v of seen) counts.set(v, (counts.get(v) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
  const missed = written.filter((v) => !counts.has(v));
  const unknown = seen.filter((v) => !written.includes(v));
  assert.deepEqual({ repeated, missed, unknown }, { repeated: [], missed: [], unknown: [] });
  assert.equal(seen.length, written.length);
}

describe('History polling: every version exactly once', function () {
  this.timeout(120_000);
  let t: TestServer;
  beforeEach(async () => (t = await startTestServer()));
  afterEach(async () => t.close());

  it('a client polling _since= from each answer\'s meta.lastUpdated misses nothing and sees nothing twice while four clients write', async () => {
    const writers = Array.from({ length: 4 }, (_, i) => new Writer(t, `W${i}`));
    let writing = true;
    const done = Promise.all(writers.map((w) => w.run(8))).finally(() => (writing = false));
    const seen: string[] = [];
    let since: string | undefined;
    let polls = 0;
    const pollOnce = async () => {
      const query = `_count=4${since ? `&_since=${encodeURIComponent(since)}` : ''}`;
      const answer = await readAllPages(t, `/fhir/Practitioner/_history?${query}`);
      seen.push(...answer.versions);
      since = answer.resumeAt;
      polls++;
    };
    while (writing) await pollOnce();
    await done;
    await pollOnce(); // everything acknowledged is below this answer's horizon
    assert.ok(polls > 5, `the poller ran while the writers wrote (${polls} polls)`);
    assertExactlyOnce(seen, writers.flatMap((w) => w.written));
  });

  it('pages a history longer than a page, with versions sharing a timestamp, each version once while writes go on', async () => {
    const before = new Writer(t, 'B');
    await before.transaction(7); // seven versions with one timestamp, across page boundaries
    for (let i = 0; i < 10; i++) await before.create(`B${i}`);
    await before.transaction(5);

    const during = new Writer(t, 'D');
    const first = await t.api().get('/fhir/Practitioner/_history?_count=3');
    const writes = during.run(4);
    const next = new URL((first.body as Bundle).link?.find((l) => l.relation === 'next')?.url as string);
    const rest = await readAllPages(t, next.pathname + next.search);
    await writes;
    const paged = [...versionsIn(first.body as Bundle), ...rest.versions];
    assert.equal(rest.resumeAt, first.body.meta.lastUpdated, 'every page keeps the first page\'s horizon');
    assert.ok(rest.pages >= 7, `22 versions in pages of 3 (${rest.pages + 1} pages)`);
    // Everything acknowledged before the first page is in the pages; the rest comes with the next poll.
    const after = await readAllPages(t, `/fhir/Practitioner/_history?_count=3&_since=${encodeURIComponent(first.body.meta.lastUpdated)}`);
    assert.ok(before.written.every((v) => paged.includes(v)));
    assertExactlyOnce([...paged, ...after.versions], [...before.written, ...during.written]);
  });
});
