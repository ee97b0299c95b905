/** The results: a JSON document for machines, markdown tables for people. */
import type { WorkloadResult } from './load/measure';
import type { ProbeResult } from './probe';
import { growthTable, scaleGoals, sizeNear } from './scale-goals';

export interface TargetSummary {
  loadMs: number;
  loaderPeakRssMb?: number;
  loadReused?: boolean;
  resources: number;
  counts: Record<string, number>;
  startupMs: number;
  selfReportedStartupMs?: number;
  startupRunsMs?: number[];
  rssAfterLoadMb: number;
  rssAfterRunMb?: number;
  peakRssMb?: number;
  validation: string;
  probe?: ProbeResult;
  workloads: Record<string, WorkloadResult>;
}

export interface SizeResult {
  targetResources: number;
  patients: number;
  workloads: Array<{ id: string; label: string; note?: string; resourcesPerRequest: number }>;
  ours: TargetSummary;
  peer?: TargetSummary;
}

export interface BenchResults {
  startedAt: string;
  command: string;
  git: string;
  node: string;
  cpus: number;
  options: Record<string, unknown>;
  buildNote?: string;
  sizes: SizeResult[];
  goals: GoalCheck[];
  seconds: number;
}

export interface GoalCheck {
  goal: string;
  measured: string;
  met: boolean | null;
}

const f0 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const ms = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? '–' : `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×`;

/** Say how a figure was measured: `seq` = one request at a time; `1 run` = a single sample, not a median. */
function throughput(w: WorkloadResult | undefined, perRequest: number, reps: number): string {
  if (!w) return '–';
  if (!w.available) return `n/a (${w.preflight.status || 'no answer'})`;
  const base = perRequest > 1 ? `${f0(w.rps)} (${f0(w.resourcesPerSecond)} res/s)` : f0(w.rps);
  const marks = [w.method === 'sequential' ? 'seq' : '', reps > 1 && w.runs.length === 1 ? '1 run' : ''].filter(Boolean);
  return marks.length ? `${base} ${marks.join(', ')}` : base;
}

/**
 * A ratio only between figures measured the same way: a throughput under N connections divided by
 * one of requests sent one at a time compares the load generator, not the servers.
 */
function comparable(o: WorkloadResult | undefined, p: WorkloadResult | undefined): boolean {
  return o?.available === true && p?.available === true && o.method === p.method;
}

/** Under every table with a peer: what the peer is, so nobody reads its ratios as a like-for-like contest. */
export const PEER_CAVEAT =
  '\\* The peer (Medplum FhirRouter + MemoryRepository) is not a like-for-like opponent: its searches are unindexed ' +
  'scans of every resource of the type, its writes are neither durable (held in memory only, lost on exit) nor fully ' +
  'validated (transaction entries not at all; MedicationStatement against the base definition only). ' +
  'Ratios are shown only where both servers were measured the same way (n/c: ours under load, the peer one request at a time).';

/** Judged on the larger of the two: memory that grows under load counts as much as memory after loading. */
export function rssForGoal(t: Pick<TargetSummary, 'rssAfterLoadMb' | 'rssAfterRunMb'>): number {
  return Math.max(t.rssAfterLoadMb, t.rssAfterRunMb ?? 0);
}

/** A ratio cell: the ratio, `n/c` when the two were measured differently, `–` when either is missing. */
function cell(o: WorkloadResult | undefined, p: WorkloadResult | undefined, value: () => string): string {
  if (!o?.available || !p?.available) return '–';
  return comparable(o, p) ? value() : 'n/c';
}

/**
 * CPU per request, every thread of each server: what bounds throughput on a machine whose other
 * cores are busy, and a figure that holds still when the machine's load does not.
 */
function cpuTable(
  workloads: ReadonlyArray<{ id: string; label: string; resourcesPerRequest: number }>,
  ours: Record<string, WorkloadResult>,
  peer: Record<string, WorkloadResult> | undefined,
): string {
  const rows = ['| Workload | ours CPU ms/request | peer\\* CPU ms/request | ours/peer CPU |', '| --- | ---: | ---: | ---: |'];
  const cpu = (r: WorkloadResult | undefined, perRequest: number) => {
    if (r?.cpuMsPerRequest === undefined) return '–';
    const perResource = perRequest > 1 ? ` (${(r.cpuMsPerRequest / perRequest).toFixed(2)}/resource)` : '';
    return `${r.cpuMsPerRequest.toFixed(2)}${perResource}`;
  };
  for (const w of workloads) {
    const o = ours[w.id];
    const p = peer?.[w.id];
    const both = o?.cpuMsPerRequest !== undefined && p?.cpuMsPerRequest !== undefined;
    rows.push(`| ${w.label.replace(/\|/g, '\\|')} | ${cpu(o, w.resourcesPerRequest)} | ${cpu(p, w.resourcesPerRequest)} | ${both ? ratio(o.cpuMsPerRequest, p.cpuMsPerRequest) : '–'} |`);
  }
  return rows.join('\n');
}

export function markdown(results: BenchResults): string {
  const out: string[] = [];
  const reps = Number(results.options.reps ?? 1);
  for (const size of results.sizes) {
    const { ours, peer } = size;
    out.push(`\n### ${f0(ours.resources)} resources (${f0(size.patients)} patients)\n`);
    out.push(`Figures are medians over ${reps} repetition(s), except those marked "1 run".${peer ? ' The peer is marked \\* (see below the table).' : ''}\n`);
    out.push('| Workload | ours req/s | p50 ms | p95 ms | p99 ms | err | peer\\* req/s | p50 ms | p99 ms | err | ours/peer req/s | peer/ours p50 |');
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const w of size.workloads) {
      const o = ours.workloads[w.id];
      const p = peer?.workloads[w.id];
      out.push(
        `| ${w.label.replace(/\|/g, '\\|')} | ${throughput(o, w.resourcesPerRequest, reps)} | ${ms(o?.p50)} | ${ms(o?.p95)} | ${ms(o?.p99)} | ${o ? o.errors : '–'} | ` +
          `${throughput(p, w.resourcesPerRequest, reps)} | ${ms(p?.p50)} | ${ms(p?.p99)} | ${p ? p.errors : '–'} | ` +
          `${cell(o, p, () => ratio(o?.rps, p?.rps))} | ${cell(o, p, () => ratio(p?.p50, o?.p50))} |`,
      );
    }
    out.push('', cpuTable(size.workloads, ours.workloads, peer?.workloads));
    const notes = size.workloads.filter((w) => w.note).map((w) => `${w.id}: ${w.note}`);
    const unavailable = size.workloads.flatMap((w) =>
      (['ours', 'peer'] as const).flatMap((t) => {
        const r = size[t]?.workloads[w.id];
        return r && !r.available ? [`${t} ${w.id}: ${r.preflight.status} ${r.preflight.message ?? ''}`.trim()] : [];
      }),
    );
    out.push('');
    if (peer) out.push(PEER_CAVEAT, '');
    out.push('| Server | load (loader peak RSS) | start-up to ready | RSS after load | RSS after run | peak RSS | validation |');
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const [name, t] of [['ours', ours], ['peer', peer]] as const) {
      if (!t) continue;
      const runs = t.startupRunsMs && t.startupRunsMs.length > 1 ? `; median of ${t.startupRunsMs.join(', ')}` : '';
      const startup = `${f0(t.startupMs)} ms${t.selfReportedStartupMs !== undefined ? ` (self: ${f0(t.selfReportedStartupMs)}${runs})` : ''}`;
      const validation = t.probe ? `${t.probe.validationActive ? 'on' : `OFF (invalid → ${t.probe.invalidStatus})`}` : t.validation;
      const load = `${f0(t.loadMs)} ms${t.loaderPeakRssMb !== undefined ? ` (${f0(t.loaderPeakRssMb)} MB)` : ''}${t.loadReused ? ', store reused' : ''}`;
      out.push(`| ${name} | ${load} | ${startup} | ${f0(t.rssAfterLoadMb)} MB | ${f0(t.rssAfterRunMb)} MB | ${f0(t.peakRssMb)} MB | ${validation} |`);
    }
    for (const w of size.workloads) {
      const o = ours.workloads[w.id]?.preflight;
      const p = peer?.workloads[w.id]?.preflight;
      if (o?.entries !== undefined && p?.entries !== undefined && o.entries !== p.entries) {
        notes.push(`${w.id}: first request returned ${o.entries} entries from ours, ${p.entries} from the peer`);
      }
    }
    const refused = Object.entries(ours.probe?.samples ?? {}).filter(([, s]) => s !== '201');
    if (refused.length) notes.push(`ours refused generated samples: ${refused.map(([t, s]) => `${t} ${s}`).join('; ')}`);
    if (peer) notes.push(`peer validation: ${peer.validation}`);
    out.push('');
    for (const line of [...unavailable, ...notes]) out.push(`- ${line.replace(/\s+/g, ' ')}`);
  }
  out.push(...growthTable(results.sizes));
  out.push('\n### Goals (embedded engine)\n');
  out.push('| Goal | Measured | Met |');
  out.push('| --- | --- | :---: |');
  for (const g of results.goals) out.push(`| ${g.goal} | ${g.measured} | ${g.met === null ? 'n/a' : g.met ? 'yes' : 'NO'} |`);
  return out.join('\n');
}

/** Checks the issue-6 goals at 100k (else the largest size measured), then issue 17's at 1M. */
export function checkGoals(sizes: SizeResult[]): GoalCheck[] {
  if (sizes.length === 0) return [];
  const largest = sizeNear(sizes, 100_000) ?? sizes.reduce((a, b) => (b.ours.resources > a.ours.resources ? b : a));
  const at = `at ${f0(largest.ours.resources)}`;
  const w = (id: string) => largest.ours.workloads[id];
  const goals: GoalCheck[] = [];
  const add = (goal: string, result: WorkloadResult | undefined, measure: (r: WorkloadResult) => [string, boolean | null], extra = '') => {
    if (!result || !result.available) goals.push({ goal, measured: result ? `not available (${result.preflight.status})` : 'not run', met: null });
    else {
      const [text, met] = measure(result);
      goals.push({ goal, measured: `${text} ${at}${extra}`, met });
    }
  };
  const validation = largest.ours.probe?.validationActive === false ? ' (validation OFF)' : '';
  add('validated create ≥ 2,500/s, p99 ≤ 25 ms', w('create'), (r) => [`${f0(r.rps)}/s, p99 ${ms(r.p99)} ms`, (r.rps ?? 0) >= 2500 && (r.p99 ?? Infinity) <= 25 && !validation], validation);
  add('read ≥ 10,000/s', w('read'), (r) => [`${f0(r.rps)}/s`, (r.rps ?? 0) >= 10000]);
  // Goals stated at 100k are not judged on a smaller run.
  const at100k = largest.ours.resources >= 90_000;
  const judged = (met: boolean) => (at100k ? met : null);
  add('patient search at 100k p50 ≤ 3 ms', w('search-patient'), (r) => [`p50 ${ms(r.p50)} ms`, judged((r.p50 ?? Infinity) <= 3)]);
  add('token search at 100k p50 ≤ 10 ms', w('search-code'), (r) => [`p50 ${ms(r.p50)} ms`, judged((r.p50 ?? Infinity) <= 10)]);
  add('transaction ingest ≥ 5,000 resources/s', w('transaction'), (r) => [`${f0(r.resourcesPerSecond)} resources/s`, (r.resourcesPerSecond ?? 0) >= 5000]);
  // Issue 17 part 2: validated writes against the peer, measured in the same run (ratios of resources/s).
  const peerOf = (id: string) => largest.peer?.workloads[id];
  const ratio = (id: string, wanted: number, what: string): void => {
    const ours = w(id);
    const peer = peerOf(id);
    if (!ours?.available || !peer?.available) {
      goals.push({ goal: `${what} ≥ ${wanted}× the peer`, measured: !largest.peer ? 'no peer in this run' : 'not available', met: null });
      return;
    }
    const per = (r: WorkloadResult) => r.resourcesPerSecond ?? r.rps ?? 0;
    const x = per(ours) / per(peer);
    goals.push({ goal: `${what} ≥ ${wanted}× the peer`, measured: `${f0(per(ours))} vs ${f0(per(peer))} resources/s = ${x.toFixed(2)}× ${at}${validation}`, met: x >= wanted && !validation });
  };
  add('validated transaction ingest ≥ 15,000 resources/s at 100k', w('transaction'), (r) => [`${f0(r.resourcesPerSecond)} resources/s`, judged((r.resourcesPerSecond ?? 0) >= 15000)]);
  ratio('transaction', 0.5, 'validated transaction ingest (peer unvalidated)');
  ratio('create', 1.5, 'validated create (peer with validation)');
  ratio('batch', 1.0, '200-entry batch load');
  goals.push({
    goal: 'RSS at 100k ≤ 600 MB (the larger of after load and after the run)',
    measured: `${f0(rssForGoal(largest.ours))} MB: ${f0(largest.ours.rssAfterLoadMb)} MB after load, ${f0(largest.ours.rssAfterRunMb)} MB after the run ${at}`,
    met: at100k ? rssForGoal(largest.ours) <= 600 : null,
  });
  goals.push({ goal: 'start-up ≤ 3 s', measured: `${f0(largest.ours.startupMs)} ms ${at}`, met: largest.ours.startupMs <= 3000 });
  return [...goals, ...scaleGoals(sizes)];
}
