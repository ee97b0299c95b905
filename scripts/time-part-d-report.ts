/**
 * `npx tsx scripts/time-part-d-report.ts [--resources=100000] [--runs=5]`: the time of
 * GET /$mtm-part-d-report over the bench population (bench/population, whose CMRs fall in 2025), with
 * every patient enrolled in MTM in 2025 and a recommendation to a prescriber (half of them accepted)
 * for each patient with a drug therapy problem. Loads through the repository like the bench loader,
 * then asks the real app over HTTP (supertest, in-process); prints the median of the runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { patientsForResources, population, practitionerId } from '../bench/population/population';
import { testConfig } from '../src/config';
import { buildServer } from '../src/server';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const INTERVENTION = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-intervention';

function* mtmRecords(resources: Iterable<Resource>): Generator<Resource> {
  let n = 0;
  for (const resource of resources) {
    yield resource;
    if (resource.resourceType === 'Patient') {
      yield {
        resourceType: 'EpisodeOfCare',
        status: 'active',
        type: [{ coding: [{ system: 'http://mtm-fhir.org/fhir/CodeSystem/mtm-episode-type', code: 'mtm-program' }] }],
        patient: { reference: `Patient/${resource.id}` },
        period: { start: `2025-01-${String((n++ % 28) + 1).padStart(2, '0')}` },
      } as Resource;
    }
    if (resource.resourceType === 'DetectedIssue') {
      const subject = (resource as { patient?: { reference?: string } }).patient;
      const id = `rec-${resource.id}`;
      yield {
        resourceType: 'CommunicationRequest',
        id,
        status: 'active',
        category: [{ coding: [{ system: INTERVENTION, code: 'prescriber-recommendation' }] }],
        subject,
        about: [{ reference: `DetectedIssue/${resource.id}` }],
        recipient: [{ reference: `Practitioner/${practitionerId(0)}` }],
        authoredOn: '2025-06-01',
        payload: [{ contentString: 'Recommendation' }],
      } as Resource;
      if (n % 2 === 0) {
        yield {
          resourceType: 'Communication',
          status: 'completed',
          basedOn: [{ reference: `CommunicationRequest/${id}` }],
          category: [{ coding: [{ system: INTERVENTION, code: 'declined' }] }],
          subject,
          received: '2025-06-05',
        } as Resource;
      }
    }
  }
}

async function main(): Promise<void> {
  const resources = arg('resources', 100_000);
  const runs = arg('runs', 5);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-part-d-'));
  const server = await buildServer(testConfig({ dataDir }));
  try {
    const repository = server.services.repository;
    let batch: Resource[] = [];
    let total = 0;
    const flush = async () => {
      const pending = batch;
      batch = [];
      await repository.engine.withTransaction(async (session) => {
        for (const r of pending) await repository.create(r, { session, id: r.id, method: 'POST' });
      });
    };
    const loadStart = performance.now();
    for (const r of mtmRecords(population(patientsForResources(resources)).resources())) {
      batch.push(r);
      total++;
      if (batch.length >= 500) await flush();
    }
    await flush();
    console.log(`loaded ${total} resources (${patientsForResources(resources)} patients, all enrolled) in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);

    for (const accept of ['application/json', 'text/csv']) {
      const times: number[] = [];
      let summary = '';
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        const res = await request(server.app).get('/fhir/$mtm-part-d-report?year=2025').set('Accept', accept);
        times.push(performance.now() - start);
        if (res.status !== 200) throw new Error(`status ${res.status}: ${res.text.slice(0, 300)}`);
        if (accept === 'application/json') {
          const body = JSON.parse(res.text) as { beneficiaries: number; beneficiariesWithIssues: number; records: Array<{ issues: string[] }> };
          const kinds = new Map<string, number>();
          for (const issue of body.records.flatMap((r) => r.issues)) {
            const kind = issue.replace(/[A-Za-z]+\/[A-Za-z0-9\-.]+/g, '…').replace(/\d{4}-\d{2}-\d{2}/g, 'date');
            kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          }
          summary = `${body.beneficiaries} beneficiaries, ${body.beneficiariesWithIssues} with issues (${[...kinds].map(([k, v]) => `${v}× "${k}"`).join('; ')}), ${(res.text.length / 1e6).toFixed(1)} MB`;
        } else summary = `${res.text.split('\r\n').length - 2} rows, ${(res.text.length / 1e6).toFixed(1)} MB`;
      }
      times.sort((a, b) => a - b);
      console.log(`${accept}: median ${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s over ${runs} runs (min ${(times[0] / 1000).toFixed(2)} s, max ${(times.at(-1)! / 1000).toFixed(2)} s); ${summary}`);
    }
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
