/**
 * $cmr-summary latency, HTML and PDF, on the example CMR (examples/cmr), in-process over real HTTP
 * handling (supertest against the app, embedded engine in a temporary directory). Prints the median
 * and p95 of N sequential requests each.   npx tsx scripts/measure-cmr-summary.ts [N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { testConfig } from '../src/config';
import { buildServer } from '../src/server';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 40);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'measure-cmr-summary-'));
  const server = await buildServer(testConfig({ dataDir, simulatedRoundTrips: false }));
  try {
    const api = () => request(server.app);
    const bundle = fs.readFileSync(path.resolve(__dirname, '../examples/cmr/completed-cmr.bundle.json'), 'utf8');
    const posted = await api().post('/fhir').set('Content-Type', 'application/fhir+json').send(bundle);
    const location = (posted.body.entry as Array<{ response: { location: string } }>).map((e) => e.response.location).find((l) => l.includes('Task/')) as string;
    const task = location.split('/').slice(-4)[1];
    for (const accept of ['text/html', 'application/pdf']) {
      const times: number[] = [];
      for (let i = 0; i < n + 3; i++) {
        const started = process.hrtime.bigint();
        const res = await api().get(`/fhir/Task/${task}/$cmr-summary`).set('Accept', accept).buffer(true);
        if (res.status !== 200) throw new Error(`${accept}: ${res.status}`);
        if (i >= 3) times.push(Number(process.hrtime.bigint() - started) / 1e6); // 3 warm-up requests
      }
      times.sort((a, b) => a - b);
      console.log(`${accept}: p50 ${times[Math.floor(n / 2)].toFixed(1)} ms, p95 ${times[Math.floor(n * 0.95)].toFixed(1)} ms (${n} requests)`);
    }
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
