/**
 * Progress for the command-line tools: a live bar (cli-progress) with resources done, resources/s
 * and ETA when a person watches a terminal, and one plain line per file when the output goes to a
 * log or a pipe, where a redrawn bar would be noise.
 */
import cliProgress from 'cli-progress';

export interface Counts {
  done: number;
  failed: number;
}

export interface Progress {
  /** Advances to `position` (bytes read, or resources written: whatever `total` counts). */
  update(position: number, counts: Counts): void;
  /** A unit (a file, a resource type) is finished. */
  finishUnit(name: string, counts: Counts, seconds: number): void;
  stop(): void;
}

function rate(done: number, seconds: number): string {
  return seconds > 0 ? (done / seconds).toFixed(0) : '0';
}

export function createProgress(total: number, noun: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  if (!stream.isTTY) {
    return {
      update: () => undefined,
      finishUnit: (name, counts, seconds) =>
        stream.write(`${name}: ${counts.done} ${noun} done, ${counts.failed} failed, ${rate(counts.done, seconds)} ${noun}/s\n`),
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `{bar} {percentage}% | {done} ${noun} | {failed} failed | {rate} ${noun}/s | ETA {eta_formatted}`,
      stream,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(total, 1), 0, { done: 0, failed: 0, rate: '0' });
  return {
    update: (position, counts) => bar.update(position, { ...counts, rate: rate(counts.done, (Date.now() - started) / 1000) }),
    finishUnit: () => undefined,
    stop: () => bar.stop(),
  };
}
