/**
 * Child processes of the harness: every server under test runs in its own process, apart from the
 * load generator. Lines printed as `BENCH {json}` carry results back to the orchestrator.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';

export const RESULT_PREFIX = 'BENCH ';

/** Prints a result line for the orchestrator. */
export function report(value: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(value)}\n`);
}

export class Child {
  private readonly lines: string[] = [];
  private readonly waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  private exitCode: number | null | undefined;
  readonly startedAt = process.hrtime.bigint();

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.lines.push(line);
        if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
        for (const waiter of [...this.waiters]) {
          if (waiter.test(line)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.on('exit', (code) => {
      this.exitCode = code;
    });
  }

  /** Runs `node [args]` with the harness's own Node (22, from the project's pinned devDependency). */
  static start(name: string, args: string[], env: Record<string, string>): Child {
    const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = new Child(name, proc);
    LIVE.add(child);
    proc.on('exit', () => LIVE.delete(child));
    return child;
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  /** Milliseconds since the process was spawned. */
  elapsedMs(): number {
    return Number(process.hrtime.bigint() - this.startedAt) / 1e6;
  }

  /** Resolves with the first line (already seen or future) that passes `test`. */
  waitFor(test: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms\n${this.tail()}`)), timeoutMs);
      const exitCheck = setInterval(() => {
        if (this.exitCode !== undefined) {
          clearTimeout(timer);
          clearInterval(exitCheck);
          reject(new Error(`${this.name} exited (${this.exitCode}) before ${what}\n${this.tail()}`));
        }
      }, 100);
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          clearInterval(exitCheck);
          resolve(line);
        },
      });
    });
  }

  /** The next `BENCH {json}` result line whose `kind` matches. */
  async result<T>(kind: string, timeoutMs: number): Promise<T> {
    const line = await this.waitFor((l) => l.startsWith(RESULT_PREFIX) && l.includes(`"kind":"${kind}"`), timeoutMs, `${kind} result`);
    return JSON.parse(line.slice(RESULT_PREFIX.length)) as T;
  }

  tail(n = 15): string {
    return this.lines.slice(-n).join('\n');
  }

  /** Resident set size now and at its peak, in MB, from /proc (Linux). */
  memory(): { rssMb: number; peakRssMb: number } {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  }

  /**
   * CPU time the process has used so far, every thread included (event loop, workers, GC), in ms,
   * from /proc/<pid>/stat: utime + stime, in clock ticks of 10 ms (USER_HZ is 100 on Linux x86-64).
   */
  cpuMs(): number {
    const stat = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Children still running: killed, by pid, if the orchestrator exits early. */
const LIVE = new Set<Child>();
process.on('exit', () => {
  for (const child of LIVE) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
