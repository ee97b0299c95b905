/**
 * Child process: loads the synthetic population into a fresh embedded data directory through the
 * repository API, in-process (the same code path the HTTP interactions end in, minus HTTP and
 * validation), then closes the engine. The orchestrator then starts the real server on that
 * directory, which also measures start-up on a populated store.
 *
 * env: BENCH_DATA_DIR, BENCH_PATIENTS, BENCH_SEED
 */
import type { Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../../src/config';
import { buildServer } from '../../src/server';
import { population } from '../population/population';
import { report } from './child';

/** Resources per storage transaction: one SQLite commit each. */
const BATCH = 500;

async function main(): Promise<void> {
  const patients = Number(process.env.BENCH_PATIENTS);
  const seed = Number(process.env.BENCH_SEED);
  const config = loadConfig({ DATA_DIR: process.env.BENCH_DATA_DIR, LOG_LEVEL: 'warn' });
  const server = await buildServer(config);
  const repository = server.services.repository;

  const started = process.hrtime.bigint();
  const counts: Record<string, number> = {};
  let batch: Resource[] = [];
  // One batch may still be on its way to disk while the next is built: the event loop prepares
  // while the writer thread commits. Never more than two, so memory stays flat.
  let previous: Promise<void> = Promise.resolve();
  const flush = async () => {
    const pending = batch;
    batch = [];
    const durable = repository.engine.withTransaction(async (session) => {
      for (const resource of pending) await repository.create(resource, { session, id: resource.id, method: 'POST' });
    });
    await previous;
    previous = durable;
  };
  for (const resource of population(patients, seed).resources()) {
    counts[resource.resourceType] = (counts[resource.resourceType] ?? 0) + 1;
    batch.push(resource);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length) await flush();
  await previous;
  const loadMs = Number(process.hrtime.bigint() - started) / 1e6;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  await server.close();
  // maxRSS is in kB on Linux.
  report({ kind: 'loaded', loadMs, resources: total, counts, loaderPeakRssMb: process.resourceUsage().maxRSS / 1024 });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
