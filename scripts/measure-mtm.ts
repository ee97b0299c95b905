/**
 * `npx tsx scripts/measure-mtm.ts [--patients=2000] [--reps=50]`: the two figures issue 14 asks for,
 * in-process on a fresh embedded store (real HTTP app through supertest, no network):
 * - $mtm-review p50 for a patient with 15 active medications (MedicationRequests coded in RxNorm);
 * - system-level $mtm-eligibility throughput over the bench population (bench/population), patients/s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { population } from '../bench/population/population';
import { MEDICINES } from '../bench/population/vocabulary';
import { testConfig } from '../src/config';
import { buildServer } from '../src/server';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);

async function main(): Promise<void> {
  const patients = arg('patients', 2000);
  const reps = arg('reps', 50);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-measure-'));
  const config = testConfig({ dataDir });
  const server = await buildServer({ ...config, mtm: { ...config.mtm, eligibilitySyncLimit: patients + 10 } });
  try {
    const repository = server.services.repository;
    let batch: Resource[] = [];
    const flush = async () => {
      const pending = batch;
      batch = [];
      await repository.engine.withTransaction(async (session) => {
        for (const r of pending) await repository.create(r, { session, id: r.id, method: 'POST' });
      });
    };
    for (const r of population(patients, 20240601).resources()) {
      batch.push(r);
      if (batch.length >= 500) await flush();
    }
    // The review patient: 15 active MedicationRequests coded in RxNorm.
    batch.push({ resourceType: 'Patient', id: 'review-15', birthDate: '1950-03-01', gender: 'female' } as Resource);
    MEDICINES.slice(0, 15).forEach((m, i) =>
      batch.push({
        resourceType: 'MedicationRequest',
        id: `review-15-mr-${i}`,
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/review-15' },
        medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: m.rxnorm, display: m.display }] },
      } as Resource),
    );
    await flush();
    const api = () => request(server.app);

    const times: number[] = [];
    for (let i = 0; i < reps + 5; i++) {
      const started = process.hrtime.bigint();
      const res = await api().post('/fhir/Patient/review-15/$mtm-review').set('Content-Type', 'application/fhir+json').send('{"resourceType":"Parameters"}');
      if (res.status !== 200) throw new Error(`$mtm-review ${res.status}`);
      if (i >= 5) times.push(Number(process.hrtime.bigint() - started) / 1e6); // five warm-up runs
    }
    times.sort((a, b) => a - b);
    const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(1);
    console.log(`$mtm-review, 15 active medications: p50 ${p(0.5)} ms, p95 ${p(0.95)} ms over ${reps} runs`);

    const started = process.hrtime.bigint();
    const res = await api().get('/fhir/$mtm-eligibility');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (res.status !== 200) throw new Error(`$mtm-eligibility ${res.status}`);
    const total = res.body.parameter.find((x: { name: string }) => x.name === 'total').valueInteger as number;
    console.log(`system-level $mtm-eligibility: ${total} patients in ${seconds.toFixed(2)} s = ${(total / seconds).toFixed(0)} patients/s`);
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
