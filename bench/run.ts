/**
 * `npm run bench`: our server and the peer (Medplum FhirRouter + MemoryRepository), each in its own
 * process and loaded with the same synthetic MTM population, driven by autocannon from this
 * process over loopback. Repetitions alternate between the two servers, so both see the same
 * machine noise; medians are reported. See bench/README.md.
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, ROOT } from './build';
import { patientsForResources } from './population/population';
import { measureRun, type MeasureOptions, preflight, type Preflight, type RunStats, settle, summarise, type WorkloadResult } from './load/measure';
import { type BenchOptions, parseOptions } from './options';
import { probe } from './probe';
import { type BenchResults, checkGoals, markdown, type SizeResult, type TargetSummary } from './report';
import { startOurs, startPeer, type Target } from './targets/targets';
import { type BenchRequest, buildWorkloads, type Workload } from './workloads';

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

function summaryOf(t: Target): TargetSummary {
  return {
    loadMs: t.loadMs,
    loaderPeakRssMb: t.loaderPeakRssMb,
    loadReused: t.loadReused,
    resources: t.resources,
    counts: t.counts,
    startupMs: t.startupMs,
    selfReportedStartupMs: t.selfReportedStartupMs,
    startupRunsMs: t.startupRunsMs,
    rssAfterLoadMb: t.rssAfterLoadMb,
    validation: t.validation,
    workloads: {},
  };
}

async function runWorkload(
  workload: Workload,
  targets: Target[],
  options: BenchOptions,
  measure: MeasureOptions,
  settleRequest: BenchRequest,
): Promise<Record<string, WorkloadResult>> {
  const first = new Map<Target, Preflight>();
  const runs = new Map<Target, RunStats[]>();
  const method = new Map<Target, WorkloadResult['method']>();
  for (const t of targets) {
    await settle(t.base, settleRequest);
    first.set(t, await preflight(t.base, workload, measure));
    runs.set(t, []);
  }
  for (let rep = 0; rep < options.reps; rep++) {
    for (const t of targets) {
      const pf = first.get(t) as Preflight;
      if (!workload.expect.includes(pf.status)) continue;
      // Too slow for load: sampled once, sequentially, not once per repetition.
      if (pf.ms > measure.slowMs && rep > 0) continue;
      await settle(t.base, settleRequest);
      const { method: m, run } = await measureRun(t.base, workload, pf, measure, rep === 0);
      method.set(t, m);
      (runs.get(t) as RunStats[]).push(run);
    }
  }
  const results: Record<string, WorkloadResult> = {};
  for (const t of targets) {
    const r = summarise(first.get(t) as Preflight, method.get(t) ?? 'none', runs.get(t) as RunStats[], workload);
    results[t.name] = r;
    log(
      `  ${t.name.padEnd(4)} ${workload.id.padEnd(14)} ` +
        (r.available ? `${Math.round(r.rps ?? 0)} req/s p50 ${r.p50?.toFixed(2)} p99 ${r.p99?.toFixed(2)} ms, ${r.errors} errors (${r.method})` : `not available: ${r.preflight.status} ${r.preflight.message ?? ''}`),
    );
  }
  return results;
}

async function runSize(targetResources: number, options: BenchOptions, buildResult: ReturnType<typeof build>, measure: MeasureOptions): Promise<SizeResult> {
  const patients = patientsForResources(targetResources);
  log(`size ${targetResources}: ${patients} patients; loading ours`);
  const targets: Target[] = [];
  try {
    const ours = await startOurs(buildResult, patients, options.seed, options.quick ? 1 : 3, options.reuseStore, log, options.auth);
    if (options.auth) log('ours runs with AUTH=on: every request carries a bearer token');
    targets.push(ours);
    log(`  ours: ${ours.resources} resources ${ours.loadReused ? 'reused (loaded' : 'loaded'} in ${Math.round(ours.loadMs)} ms${ours.loadReused ? ')' : ''}, loader peak RSS ${Math.round(ours.loaderPeakRssMb ?? NaN)} MB; ready in ${Math.round(ours.startupMs)} ms; RSS ${Math.round(ours.rssAfterLoadMb)} MB`);
    if (options.peer) {
      const peer = await startPeer(buildResult, patients, options.seed);
      targets.push(peer);
      log(`  peer: loaded in ${Math.round(peer.loadMs)} ms; RSS ${Math.round(peer.rssAfterLoadMb)} MB`);
    }
    const summaries = new Map(targets.map((t) => [t, summaryOf(t)]));
    let workloads = buildWorkloads(patients, options.seed, options.quick);
    const settleRequest = (workloads.find((w) => w.id === 'read') as Workload).requests[0];
    if (options.only) workloads = workloads.filter((w) => options.only?.includes(w.id));
    // Read-only workloads first, so every search sees exactly the loaded data.
    workloads.sort((a, b) => Number(a.mutates) - Number(b.mutates));
    for (const workload of workloads) {
      const results = await runWorkload(workload, targets, options, measure, settleRequest);
      for (const t of targets) (summaries.get(t) as TargetSummary).workloads[workload.id] = results[t.name];
    }
    (summaries.get(ours) as TargetSummary).probe = await probe(ours.base, patients, options.seed);
    for (const t of targets) {
      const memory = t.child.memory();
      const s = summaries.get(t) as TargetSummary;
      s.rssAfterRunMb = memory.rssMb;
      s.peakRssMb = memory.peakRssMb;
    }
    return {
      targetResources,
      patients,
      workloads: workloads.map((w) => ({ id: w.id, label: w.label, note: w.note, resourcesPerRequest: w.resourcesPerRequest })),
      ours: summaries.get(ours) as TargetSummary,
      peer: options.peer ? summaries.get(targets[1]) : undefined,
    };
  } finally {
    for (const t of targets) await t.cleanup();
  }
}

function git(): string {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  log(`building (tsc → .tmp/bench-build)`);
  const buildResult = build();
  if (buildResult.warning) log(`  ${buildResult.warning}`);
  const measure: MeasureOptions = { durationSec: options.durationSec, warmupSec: options.warmupSec, slowMs: 250, sampleBudgetMs: options.quick ? 4000 : 10000, timeoutSec: 60 };
  const sizes: SizeResult[] = [];
  for (const size of options.sizes) sizes.push(await runSize(size, options, buildResult, measure));
  const results: BenchResults = {
    startedAt: new Date(Date.now() - (performance.now() - started)).toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    git: git(),
    node: process.version,
    cpus: os.cpus().length,
    options: { ...options },
    buildNote: buildResult.warning,
    sizes,
    goals: checkGoals(sizes),
    seconds: (performance.now() - started) / 1000,
  };
  const out = path.resolve(ROOT, options.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`## Benchmark (${results.command}; git ${results.git}; Node ${results.node}; ${results.cpus} CPUs; ${Math.round(results.seconds)} s)`);
  console.log(markdown(results));
  console.log(`\nResults: ${path.relative(ROOT, out)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
