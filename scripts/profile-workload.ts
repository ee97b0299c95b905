/**
 * Profiles our server under one benchmark workload:
 *   npx tsx scripts/profile-workload.ts <workload> [--size=10000] [--duration=8]
 * Loads the population like `npm run bench`, starts the compiled server with --cpu-prof, drives the
 * workload with autocannon, stops the server (which writes the profile) and prints where the time
 * went while the workload ran (start-up and shutdown left out): self time by function and by file.
 * The .cpuprofile lands in .tmp/profiles/ for DevTools.
 */
import fs from 'node:fs';
import path from 'node:path';
import { build, ROOT } from '../bench/build';
import { patientsForResources } from '../bench/population/population';
import { measureRun, preflight } from '../bench/load/measure';
import { startOurs } from '../bench/targets/targets';
import { buildWorkloads } from '../bench/workloads';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  /** Microseconds between samples; the first is from startTime. */
  timeDeltas: number[];
  startTime: number;
}

/** Samples per node taken within [from, to], in microseconds of the monotonic clock (the profiler's and process.hrtime's). */
function hitsWithin(profile: CpuProfile, from: number, to: number): Map<number, number> {
  const hits = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((node, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= from && at <= to) hits.set(node, (hits.get(node) ?? 0) + 1);
  });
  return hits;
}

function summarise(file: string, window: { from: number; to: number }, top = 35): void {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const hitsByNode = hitsWithin(profile, window.from, window.to);
  const total = [...hitsByNode.values()].reduce((a, b) => a + b, 0);
  console.log(`${total} samples while the workload ran (of ${profile.samples.length} in the profile)`);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = hitsByNode.get(node.id) ?? 0;
    if (!hits) continue;
    const url = node.callFrame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
    const short = url.replace(/^.*node_modules\//, 'nm/').replace(/^\.tmp\/bench-build\//, '');
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${short}:${node.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + hits);
    const key = short.startsWith('nm/') ? short.split('/').slice(0, short.split('/')[1].startsWith('@') ? 3 : 2).join('/') : short || node.callFrame.functionName;
    byFile.set(key, (byFile.get(key) ?? 0) + hits);
  }
  const print = (title: string, map: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  };
  print('self time by function', byFn);
  print('self time by file / package', byFile);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const id = args.find((a) => !a.startsWith('--')) ?? 'create';
  const flag = (name: string, fallback: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
  const size = flag('size', 10000);
  const duration = flag('duration', 8);
  const buildResult = build();
  const patients = patientsForResources(size);
  const dir = path.join(ROOT, '.tmp', 'profiles');
  fs.mkdirSync(dir, { recursive: true });
  const before = new Set(fs.readdirSync(dir));
  const target = await startOurs({ ...buildResult, args: (file) => ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...buildResult.args(file)] }, patients, 20240601);
  const workload = buildWorkloads(patients).find((w) => w.id === id);
  if (!workload) throw new Error(`No workload ${id}`);
  const options = { durationSec: duration, warmupSec: 1, slowMs: 1e9, sampleBudgetMs: 0, timeoutSec: 60 };
  const first = await preflight(target.base, workload, options);
  const microseconds = () => Number(process.hrtime.bigint() / 1000n);
  const from = microseconds();
  const { run } = await measureRun(target.base, workload, first, options, true);
  const to = microseconds();
  console.log(`${id}: ${Math.round(run.rps)} req/s p50 ${run.p50.toFixed(2)} p99 ${run.p99.toFixed(2)} ms, ${run.errors} errors`, run.statuses);
  await target.cleanup();
  // The loader also wrote a profile; the server's is the newest.
  const fresh = fs.readdirSync(dir).filter((f) => !before.has(f)).map((f) => path.join(dir, f));
  const newest = fresh.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  console.log(`profile: ${path.relative(ROOT, newest)}`);
  summarise(newest, { from, to });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
