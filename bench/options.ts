/** Command-line options of `npm run bench -- [options]`. */
export interface BenchOptions {
  quick: boolean;
  /** Target resource counts; each becomes a population of about size/16 patients. */
  sizes: number[];
  durationSec: number;
  warmupSec: number;
  reps: number;
  only?: string[];
  peer: boolean;
  seed: number;
  out: string;
  /** Reuse a store loaded by an earlier run with the same population (bench/targets/stores.ts). */
  reuseStore: boolean;
  /** Our server with authentication on: a registered client, every request with its bearer token. */
  auth: boolean;
  /** Every size's servers at once, each workload's repetitions alternating between them. */
  interleave: boolean;
}

const HELP = `npm run bench -- [--quick] [--sizes=10000,100000,1000000] [--duration=S] [--reps=N] [--only=read,create] [--no-peer] [--seed=N] [--out=FILE] [--fresh-store] [--auth] [--interleave]
  --quick        10k resources only, 1 short run per workload (under 2 minutes)
  default        10k, 100k and 1M resources, 3 runs of 5 s per workload and server
  --fresh-store  load our store anew even when .tmp/bench-stores/ holds one of the same population
  --auth         our server with AUTH=on: every request carries a SMART Backend Services access token
  --interleave   start every size's servers at once and alternate each workload between them, so that the
                 growth from one size to the next is measured under the same machine noise`;

export function parseOptions(argv: string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`Unknown argument ${arg}\n${HELP}`);
    flags.set(m[1], m[2] ?? 'true');
  }
  const quick = flags.get('quick') === 'true';
  const num = (name: string, fallback: number) => {
    const raw = flags.get(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number`);
    return value;
  };
  return {
    quick,
    sizes: (flags.get('sizes') ?? (quick ? '10000' : '10000,100000,1000000')).split(',').map(Number),
    durationSec: num('duration', quick ? 2 : 5),
    warmupSec: num('warmup', quick ? 0.5 : 1),
    reps: num('reps', quick ? 1 : 3),
    only: flags.get('only')?.split(','),
    peer: flags.get('no-peer') !== 'true',
    seed: num('seed', 20240601),
    out: flags.get('out') ?? 'bench/results/latest.json',
    reuseStore: flags.get('fresh-store') !== 'true',
    auth: flags.get('auth') === 'true',
    interleave: flags.get('interleave') === 'true',
  };
}
