/**
 * Storage-level latency of the bench's read and search shapes on two stored bench populations at once
 * (by default the 100k and 1M stores kept by `npm run bench` in .tmp/bench-stores), without HTTP and
 * without a load generator: one query at a time, alternating between the stores, so both see the same
 * machine noise. Only reads: the stores are opened as they are and nothing is written to them.
 *
 *   npx tsx scripts/measure-embedded-scale.ts [--requests=300] [--cache-mb=256]
 *
 * Prints the median and p95 per shape and store, and the ratio of the larger store to the smaller.
 */
import fs from 'node:fs';
import path from 'node:path';
import { mtmSearchParameters } from '../src/conformance';
import { ResourceRepository } from '../src/repository/repository';
import { createSearchIndex, createSearchService } from '../src/search';
import type { SearchService } from '../src/search/service';
import { HISTORY_COLLECTION, HISTORY_LAYOUT } from '../src/storage/collections';
import { EmbeddedEngine } from '../src/storage/embedded/embedded-engine';
import { buildWorkloads } from '../bench/workloads';

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.split('=')[1]) : fallback;
}

interface Store {
  name: string;
  patients: number;
  engine: EmbeddedEngine;
  search: SearchService;
  repository: ResourceRepository;
}

async function open(dir: string, cacheMb: number): Promise<Store> {
  const patients = Number(path.basename(dir).split('-')[0]);
  const engine = new EmbeddedEngine({ dataDir: path.join(dir, 'data'), cacheMb, diskCollections: { [HISTORY_COLLECTION]: HISTORY_LAYOUT } });
  const index = createSearchIndex(mtmSearchParameters());
  const repository = new ResourceRepository(engine, index.indexer);
  await repository.init(['MedicationStatement']);
  return { name: `${patients} patients`, patients, engine, repository, search: createSearchService(repository, index, { defaultCount: 20, maxCount: 1000 }) };
}

/** Runs one bench request path against a store's repository or search service. */
async function run(store: Store, requestPath: string): Promise<void> {
  const [pathname, query = ''] = requestPath.split('?');
  const [, type, id] = pathname.split('/');
  if (id) {
    await store.repository.read(type, id);
    return;
  }
  await store.search.search({ types: [type], query: [...new URLSearchParams(query)], strict: false });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function main(): Promise<void> {
  const requests = option('requests', 300);
  const cacheMb = option('cache-mb', 256);
  const shelf = path.resolve(__dirname, '..', '.tmp', 'bench-stores');
  const dirs = fs.readdirSync(shelf).map((d) => path.join(shelf, d)).filter((d) => fs.existsSync(path.join(d, 'loaded.json')));
  dirs.sort((a, b) => Number(path.basename(a).split('-')[0]) - Number(path.basename(b).split('-')[0]));
  const stores = await Promise.all(dirs.slice(-2).map((d) => open(d, cacheMb)));
  for (const id of ['read', 'search-patient', 'search-code', 'search-date']) {
    const times = new Map<Store, number[]>(stores.map((s) => [s, []]));
    const lists = new Map(stores.map((s) => [s, (buildWorkloads(s.patients).find((w) => w.id === id)?.requests ?? []).map((r) => r.path)]));
    for (let i = 0; i < requests; i++) {
      for (const store of stores) {
        const list = lists.get(store) as string[];
        const started = performance.now();
        await run(store, list[i % list.length]);
        (times.get(store) as number[]).push(performance.now() - started);
      }
    }
    const medians = stores.map((s) => {
      const sorted = (times.get(s) as number[]).sort((a, b) => a - b);
      console.log(`${id.padEnd(15)} ${s.name.padEnd(16)} p50 ${pct(sorted, 0.5).toFixed(3)} ms  p95 ${pct(sorted, 0.95).toFixed(3)} ms`);
      return pct(sorted, 0.5);
    });
    if (medians.length === 2) console.log(`${id.padEnd(15)} p50 ratio ${(medians[1] / medians[0]).toFixed(2)}×`);
  }
  for (const s of stores) await s.engine.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
