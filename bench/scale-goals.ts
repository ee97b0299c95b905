/**
 * Issue 17's goals: what a million resources may cost, stated as figures at 1M and as growth from
 * the same run's 100k. Judged only when both sizes ran (a 1M size is one of at least 900k resources).
 */
import type { GoalCheck, SizeResult } from './report';

const f0 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const f2 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(2));
const growth = (big: number | undefined, small: number | undefined) => (big === undefined || small === undefined || !small ? undefined : big / small);

export function sizeNear(sizes: SizeResult[], resources: number): SizeResult | undefined {
  return sizes.find((s) => s.ours.resources >= resources * 0.9 && s.ours.resources < resources * 2);
}

export function scaleGoals(sizes: SizeResult[]): GoalCheck[] {
  const small = sizeNear(sizes, 100_000);
  const big = sizes.find((s) => s.ours.resources >= 900_000);
  if (!big) return [];
  const b = big.ours;
  const w = (s: SizeResult | undefined, id: string) => (s?.ours.workloads[id]?.available ? s.ours.workloads[id] : undefined);
  const at = `at ${f0(b.resources)}`;
  const goals: GoalCheck[] = [];
  // Judged on the larger of the two, as the 100k goal is: memory that grows under load counts too.
  const rss = Math.max(b.rssAfterLoadMb, b.rssAfterRunMb ?? 0);
  goals.push({ goal: 'RSS at 1M ≤ 1 GB (the larger of after start and after the run)', measured: `${f0(rss)} MB: ${f0(b.rssAfterLoadMb)} MB after start, ${f0(b.rssAfterRunMb)} MB after the run ${at}`, met: rss <= 1024 });
  goals.push({ goal: 'start-up at 1M ≤ 5 s', measured: `${f0(b.startupMs)} ms ${at}`, met: b.startupMs <= 5000 });
  const readBig = w(big, 'read')?.rps;
  const readSmall = w(small, 'read')?.rps;
  const readGrowth = growth(readBig, readSmall);
  goals.push({
    goal: 'read by id at 1M ≥ 0.9× at 100k',
    measured: `${f0(readBig)}/s ${at}, ${f0(readSmall)}/s at 100k: ${f2(readGrowth)}×`,
    met: readGrowth === undefined ? null : readGrowth >= 0.9,
  });
  const patient = w(big, 'search-patient')?.p50;
  goals.push({ goal: 'patient search at 1M p50 ≤ 3 ms', measured: `p50 ${f2(patient)} ms ${at}`, met: patient === undefined ? null : patient <= 3 });
  const token = w(big, 'search-code')?.p50;
  goals.push({ goal: 'token search at 1M p50 ≤ 15 ms', measured: `p50 ${f2(token)} ms ${at}`, met: token === undefined ? null : token <= 15 });
  const loaderGrowth = growth(b.loaderPeakRssMb, small?.ours.loaderPeakRssMb);
  goals.push({
    goal: 'loader memory flat (peak RSS at 1M ≤ 1.25× at 100k)',
    measured: `${f0(b.loaderPeakRssMb)} MB ${at}, ${f0(small?.ours.loaderPeakRssMb)} MB at 100k: ${f2(loaderGrowth)}×`,
    met: loaderGrowth === undefined ? null : loaderGrowth <= 1.25,
  });
  return goals;
}

/** Each figure at 1M divided by the same figure at 100k, as a markdown table. */
export function growthTable(sizes: SizeResult[]): string[] {
  const small = sizeNear(sizes, 100_000);
  const big = sizes.find((s) => s.ours.resources >= 900_000);
  if (!small || !big) return [];
  const rows: Array<[string, number | undefined, number | undefined]> = [
    ['load time (ms)', small.ours.loadMs, big.ours.loadMs],
    ['loader peak RSS (MB)', small.ours.loaderPeakRssMb, big.ours.loaderPeakRssMb],
    ['start-up to ready (ms)', small.ours.startupMs, big.ours.startupMs],
    ['RSS after start (MB)', small.ours.rssAfterLoadMb, big.ours.rssAfterLoadMb],
    ['RSS after the run (MB)', small.ours.rssAfterRunMb, big.ours.rssAfterRunMb],
  ];
  for (const { id } of big.workloads) {
    rows.push([`${id} req/s`, small.ours.workloads[id]?.rps, big.ours.workloads[id]?.rps]);
    rows.push([`${id} p50 (ms)`, small.ours.workloads[id]?.p50, big.ours.workloads[id]?.p50]);
  }
  const out = [`\n### Growth from ${f0(small.ours.resources)} to ${f0(big.ours.resources)} resources (ours)\n`, '| Figure | 100k | 1M | 1M / 100k |', '| --- | ---: | ---: | ---: |'];
  for (const [name, s, b] of rows) {
    if (s === undefined && b === undefined) continue;
    const fmt = (n: number | undefined) => (n !== undefined && n < 100 ? f2(n) : f0(n));
    out.push(`| ${name} | ${fmt(s)} | ${fmt(b)} | ${f2(growth(b, s))}× |`);
  }
  return out;
}
