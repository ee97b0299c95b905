/**
 * Bulk Data export throughput and memory (issue 15's closing note): a system-level `$export` of
 * everything stored in DATA_DIR, asked of the real app over HTTP (supertest, in-process), polled until
 * the manifest is there. Prints resources/s from kick-off to manifest, the process's peak RSS (the
 * kernel's high-water mark, getrusage) and RSS sampled during the export.
 *
 *   DATA_DIR=/tmp/export-store npx tsx scripts/measure-bulk-export.ts --load=100000   # once: the bench population
 *   DATA_DIR=/tmp/export-store npx tsx scripts/measure-bulk-export.ts [--runs=3]      # then measure, in a new process
 *
 * `--load` stores the bench population (bench/population) through the repository, in transactions of
 * 500, without validation (as the bench loader does; `npm run import` of scripts/write-population-ndjson.ts's
 * files gives the same store, validated, much more slowly). Measuring runs in its own process so the
 * load's memory is not part of the peak.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Resource } from '@medplum/fhirtypes';
import { patientsForResources, population } from '../bench/population/population';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { buildServer } from '../src/server';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const MB = 1024 * 1024;
const peakRssMb = () => process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB

async function exportOnce(api: () => ReturnType<typeof request>, base: string): Promise<{ resources: number; seconds: number; sampledPeakMb: number }> {
  let sampledPeak = process.memoryUsage.rss();
  const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss())), 50);
  const started = performance.now();
  try {
    const kickoff = await api().get(`${base}/$export`).set('Prefer', 'respond-async').set('Accept', 'application/fhir+json');
    if (kickoff.status !== 202) throw new Error(`kick-off answered ${kickoff.status}: ${JSON.stringify(kickoff.body)}`);
    const status = new URL(kickoff.headers['content-location']).pathname;
    for (;;) {
      const poll = await api().get(status);
      if (poll.status === 200) {
        const seconds = (performance.now() - started) / 1000;
        const manifest = JSON.parse(poll.text) as { output: Array<{ count: number }> };
        await api().delete(status); // removes the job's files
        return { resources: manifest.output.reduce((n, o) => n + o.count, 0), seconds, sampledPeakMb: sampledPeak / MB };
      }
      if (poll.status !== 202) throw new Error(`status answered ${poll.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    clearInterval(sampler);
  }
}

async function load(resources: number): Promise<void> {
  const config = loadConfig();
  const server = await buildServer({ ...config, metricsPort: 0, validation: { ...config.validation, workers: 0 } }, createLogger('warn'));
  try {
    const repository = server.repository;
    let batch: Resource[] = [];
    let total = 0;
    const flush = async () => {
      const pending = batch;
      batch = [];
      await repository.engine.withTransaction(async (session) => {
        for (const r of pending) await repository.create(r, { session, id: r.id, method: 'POST' });
      });
    };
    const started = performance.now();
    for (const r of population(patientsForResources(resources)).resources()) {
      batch.push(r);
      total++;
      if (batch.length >= 500) await flush();
    }
    await flush();
    console.log(`loaded ${total} resources into ${config.dataDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await server.close();
  }
}

async function main(): Promise<void> {
  if (process.argv.some((a) => a.startsWith('--load='))) return load(arg('load', 100_000));
  const runs = arg('runs', 3);
  const config = loadConfig();
  if (!fs.existsSync(path.join(config.dataDir))) throw new Error(`DATA_DIR ${config.dataDir} does not exist; import the population first`);
  const server = await buildServer({ ...config, metricsPort: 0, validation: { ...config.validation, workers: 0 } }, createLogger('warn'));
  try {
    const api = () => request(server.app);
    const atStart = { rss: process.memoryUsage.rss() / MB, peak: peakRssMb() };
    console.log(`store ${config.dataDir}; after start-up: RSS ${atStart.rss.toFixed(0)} MB, peak RSS so far ${atStart.peak.toFixed(0)} MB`);
    const results = [];
    for (let run = 1; run <= runs; run++) {
      const result = await exportOnce(api, config.basePath);
      results.push(result);
      console.log(`run ${run}: ${result.resources} resources in ${result.seconds.toFixed(1)} s = ${(result.resources / result.seconds).toFixed(0)} resources/s; RSS sampled during the export up to ${result.sampledPeakMb.toFixed(0)} MB`);
    }
    const rates = results.map((r) => r.resources / r.seconds).sort((a, b) => a - b);
    console.log(`median ${rates[Math.floor(rates.length / 2)].toFixed(0)} resources/s over ${runs} runs; process peak RSS ${peakRssMb().toFixed(0)} MB (after start-up ${atStart.peak.toFixed(0)} MB)`);
  } finally {
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
