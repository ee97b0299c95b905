/**
 * A small seeded PRNG (mulberry32). The population must be identical in every process that
 * generates it (orchestrator, our loader, the peer), so nothing here may touch Math.random.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /**
   * Picks with a Zipf-like skew (weight 1/(rank+1)), because prescriptions are skewed: a few
   * medicines (statins, ACE inhibitors, metformin) dominate real medication lists.
   */
  pickSkewed<T>(items: readonly T[], cumulative: readonly number[]): T {
    const x = this.next() * cumulative[cumulative.length - 1];
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return items[lo];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Cumulative Zipf weights for pickSkewed. */
export function zipfCumulative(n: number): number[] {
  const result: number[] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) result.push((sum += 1 / (i + 1)));
  return result;
}
