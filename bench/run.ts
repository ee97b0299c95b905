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

/** One server under one workload: within a size, ours and the peer; with --interleave, every size's servers. */
interface Subject {
  target: Target;
  workload: Workload;
  settleRequest: BenchRequest;
  /** Names the subject in progress lines. */
  tag: string;
}

async function runWorkload(subjects: Subject[], options: BenchOptions, measure: MeasureOptions): Promise<WorkloadResult[]> {
  const first = new Map<Subject, Preflight>();
  const runs = new Map<Subject, RunStats[]>();
  const method = new Map<Subject, WorkloadResult['method']>();
  for (const s of subjects) {
    await settle(s.target.base, s.settleRequest);
    first.set(s, await preflight(s.target.base, s.workload, measure));
    runs.set(s, []);
  }
  // Repetitions alternate between the subjects, so that each sees the same machine noise.
  for (let rep = 0; rep < options.reps; rep++) {
    for (const s of subjects) {
      const pf = first.get(s) as Preflight;
      if (!s.workload.expect.includes(pf.status)) continue;
      // Too slow for load: sampled once, sequentially, not once per repetition.
      if (pf.ms > measure.slowMs && rep > 0) continue;
      await settle(s.target.base, s.settleRequest);
      const { method: m, run } = await measureRun(s.target.base, s.workload, pf, measure, rep === 0, () => s.target.child.cpuMs());
      method.set(s, m);
      (runs.get(s) as RunStats[]).push(run);
    }
  }
  return subjects.map((s) => {
    const r = summarise(first.get(s) as Preflight, method.get(s) ?? 'none', runs.get(s) as RunStats[], s.workload);
    log(
      `  ${s.tag.padEnd(10)} ${s.workload.id.padEnd(14)} ` +
        (r.available ? `${Math.round(r.rps ?? 0)} req/s p50 ${r.p50?.toFixed(2)} p99 ${r.p99?.toFixed(2)} ms, ${r.errors} errors (${r.method})` : `not available: ${r.preflight.status} ${r.preflight.message ?? ''}`),
    );
    return r;
  });
}

/** A size's servers, started and loaded, with the workloads to run on them. */
interface PreparedSize {
  targetResources: number;
  patients: number;
  targets: Target[];
  summaries: Map<Target, TargetSummary>;
  workloads: Workload[];
  settleRequest: BenchRequest;
}

async function prepareSize(targetResources: number, options: BenchOptions, buildResult: ReturnType<typeof build>, targets: Target[]): Promise<PreparedSize> {
  const patients = patientsForResources(targetResources);
  log(`size ${targetResources}: ${patients} patients; loading ours`);
  const ours = await startOurs(buildResult, patients, options.seed, options.quick ? 1 : 3, options.reuseStore, log, options.auth);
  if (options.auth) log('ours runs with AUTH=on: every request carries a bearer token');
  targets.push(ours);
  log(`  ours: ${ours.resources} resources ${ours.loadReused ? 'reused (loaded' : 'loaded'} in ${Math.round(ours.loadMs)} ms${ours.loadReused ? ')' : ''}, loader peak RSS ${Math.round(ours.loaderPeakRssMb ?? NaN)} MB; ready in ${Math.round(ours.startupMs)} ms; RSS ${Math.round(ours.rssAfterLoadMb)} MB`);
  const mine = [ours];
  if (options.peer) {
    const peer = await startPeer(buildResult, patients, options.seed);
    targets.push(peer);
    mine.push(peer);
    log(`  peer: loaded in ${Math.round(peer.loadMs)} ms; RSS ${Math.round(peer.rssAfterLoadMb)} MB`);
  }
  let workloads = buildWorkloads(patients, options.seed, options.quick);
  const settleRequest = (workloads.find((w) => w.id === 'read') as Workload).requests[0];
  if (options.only) workloads = workloads.filter((w) => options.only?.includes(w.id));
  // Read-only workloads first, so every search sees exactly the loaded data.
  workloads.sort((a, b) => Number(a.mutates) - Number(b.mutates));
  return { targetResources, patients, targets: mine, summaries: new Map(mine.map((t) => [t, summaryOf(t)])), workloads, settleRequest };
}

function subjectsOf(size: PreparedSize, id: string, tagSize: boolean): Subject[] {
  const workload = size.workloads.find((w) => w.id === id) as Workload;
  return size.targets.map((target) => ({ target, workload, settleRequest: size.settleRequest, tag: tagSize ? `${target.name} ${size.patients}` : target.name }));
}

async function finishSize(size: PreparedSize, options: BenchOptions): Promise<SizeResult> {
  const [ours, peer] = size.targets;
  (size.summaries.get(ours) as TargetSummary).probe = await probe(ours.base, size.patients, options.seed);
  for (const t of size.targets) {
    const memory = t.child.memory();
    const s = size.summaries.get(t) as TargetSummary;
    s.rssAfterRunMb = memory.rssMb;
    s.peakRssMb = memory.peakRssMb;
  }
  return {
    targetResources: size.targetResources,
    patients: size.patients,
    workloads: size.workloads.map((w) => ({ id: w.id, label: w.label, note: w.note, resourcesPerRequest: w.resourcesPerRequest })),
    ours: size.summaries.get(ours) as TargetSummary,
    peer: peer ? size.summaries.get(peer) : undefined,
  };
}

async function runSizes(options: BenchOptions, buildResult: ReturnType<typeof build>, measure: MeasureOptions): Promise<SizeResult[]> {
  const results: SizeResult[] = [];
  const targets: Target[] = [];
  const stop = async () => {
    for (const t of targets.splice(0)) await t.cleanup();
  };
  try {
    if (!options.interleave) {
      for (const size of options.sizes) {
        const prepared = await prepareSize(size, options, buildResult, targets);
        for (const workload of prepared.workloads) {
          const subjects = subjectsOf(prepared, workload.id, false);
          const found = await runWorkload(subjects, options, measure);
          subjects.forEach((s, i) => ((prepared.summaries.get(s.target) as TargetSummary).workloads[workload.id] = found[i]));
        }
        results.push(await finishSize(prepared, options));
        await stop();
      }
      return results;
    }
    // Every size's servers run at once, and each workload alternates between them: growth from one
    // size to the next is then measured under the same machine noise (2 shared cores).
    const prepared: PreparedSize[] = [];
    for (const size of options.sizes) prepared.push(await prepareSize(size, options, buildResult, targets));
    for (const { id } of prepared[0].workloads) {
      const subjects = prepared.flatMap((p) => subjectsOf(p, id, true));
      const found = await runWorkload(subjects, options, measure);
      subjects.forEach((s, i) => {
        const size = prepared.find((p) => p.targets.includes(s.target)) as PreparedSize;
        (size.summaries.get(s.target) as TargetSummary).workloads[id] = found[i];
      });
    }
    for (const p of prepared) results.push(await finishSize(p, options));
    return results;
  } finally {
    await stop();
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
  const sizes = await runSizes(options, buildResult, measure);
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
