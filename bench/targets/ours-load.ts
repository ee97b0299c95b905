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
  const flush = async () => {
    const pending = batch;
    batch = [];
    await repository.engine.withTransaction(async (session) => {
      for (const resource of pending) await repository.create(resource, { session, id: resource.id, method: 'POST' });
    });
  };
  for (const resource of population(patients, seed).resources()) {
    counts[resource.resourceType] = (counts[resource.resourceType] ?? 0) + 1;
    batch.push(resource);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length) await flush();
  const loadMs = Number(process.hrtime.bigint() - started) / 1e6;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  await server.close();
  report({ kind: 'loaded', loadMs, resources: total, counts });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
