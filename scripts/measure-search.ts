/**
 * Search latency on the embedded engine: loads the benchmark population (bench/data) into a fresh
 * data directory through the repository, starts the real app on a loopback port, and times
 * sequential HTTP GETs (one keep-alive connection, so the figures are per-request latency).
 *
 *   npx tsx scripts/measure-search.ts [--resources=100000] [--requests=400]
 *
 * Prints p50/p95 per query: MedicationStatement?patient=X and ?code=rxnorm|code&_count=20.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Resource } from '@medplum/fhirtypes';
import { patientsForResources, population } from '../bench/population/population';
import { MEDICINES } from '../bench/population/vocabulary';
import { testConfig } from '../src/config';
import { buildServer, listen } from '../src/server';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.split('=')[1]) : fallback;
}

function get(agent: http.Agent, port: number, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: url, agent, headers: { accept: 'application/fhir+json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      })
      .on('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const target = option('resources', 100_000);
  const requests = option('requests', 400);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-measure-search-'));
  const server = await buildServer(testConfig({ dataDir, simulatedRoundTrips: false }));
  const repository = server.services.repository;

  const started = Date.now();
  const patientIds: string[] = [];
  let batch: Resource[] = [];
  let loaded = 0;
  const flush = async () => {
    const pending = batch;
    batch = [];
    await repository.engine.withTransaction(async (session) => {
      for (const r of pending) await repository.create(r, { session, id: r.id, method: 'POST' });
    });
  };
  for (const resource of population(patientsForResources(target)).resources()) {
    if (resource.resourceType === 'Patient') patientIds.push(resource.id as string);
    batch.push(resource);
    loaded++;
    if (batch.length >= 500) await flush();
  }
  await flush();
  const rssMb = Math.round(process.memoryUsage().rss / 1e6);
  console.log(`loaded ${loaded} resources (${patientIds.length} patients) in ${((Date.now() - started) / 1000).toFixed(1)} s; RSS ${rssMb} MB`);

  const http1 = await listen(server, 0);
  const port = (http1.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const queries: Record<string, (i: number) => string> = {
    'MedicationStatement?patient=X': (i) => `/fhir/MedicationStatement?patient=Patient/${patientIds[(i * 7919) % patientIds.length]}`,
    'MedicationStatement?code=sys|code&_count=20': (i) => `/fhir/MedicationStatement?code=${RXNORM}|${MEDICINES[i % MEDICINES.length].rxnorm}&_count=20`,
  };
  for (const [name, url] of Object.entries(queries)) {
    for (let i = 0; i < 50; i++) await get(agent, port, url(i)); // warm-up
    const times: number[] = [];
    let matched = 0;
    for (let i = 0; i < requests; i++) {
      const t0 = process.hrtime.bigint();
      const res = await get(agent, port, url(i));
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (res.status !== 200) throw new Error(`${url(i)} answered ${res.status}: ${res.body.slice(0, 300)}`);
      matched += (JSON.parse(res.body).entry ?? []).length;
    }
    times.sort((a, b) => a - b);
    console.log(
      `${name}: p50 ${percentile(times, 50).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms, ` +
        `${(matched / requests).toFixed(1)} entries/response, ${requests} requests`,
    );
  }
  agent.destroy();
  await new Promise((resolve) => http1.close(resolve));
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
