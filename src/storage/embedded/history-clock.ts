/**
 * The embedded engine's history clock (port.ts HistoryClock). Transactions run one at a time under the
 * write lock and become durable, and so visible to history reads, in the order they committed. Stamps
 * are handed out under that lock and never go back (not even when the system clock does), so they
 * follow commit order. The horizon is the earliest stamp of a transaction not yet durable; with none,
 * it is "now", just past every stamp given, and later stamps are held at or above it.
 */
import type { HistoryClock, StorageSession } from '../port';

export class EmbeddedHistoryClock implements HistoryClock {
  /** Every later stamp is at least this: the last stamp given, or the last horizon. */
  private floor = 0;
  /** The stamp of each transaction that stamped and is not yet durable (nor abandoned). */
  private readonly open = new Map<StorageSession, number>();

  async stamp(session: StorageSession, atLeast: number): Promise<number> {
    const own = this.open.get(session);
    if (own !== undefined && own >= atLeast) return own;
    const ts = Math.max(Date.now(), this.floor, atLeast);
    this.floor = ts;
    // A transaction's first stamp is its smallest: the horizon stays below it until it is durable.
    if (own === undefined) this.open.set(session, ts);
    return ts;
  }

  async atHorizon<R>(read: (horizon: number, session: StorageSession | undefined) => Promise<R>): Promise<R> {
    // History reads see SQLite, which holds every durable group: all versions below the horizon.
    return read(this.horizon(), undefined);
  }

  private horizon(): number {
    let earliest = Infinity;
    for (const ts of this.open.values()) earliest = Math.min(earliest, ts);
    if (earliest !== Infinity) return earliest;
    // Nothing in flight: just past every stamp given, and no later stamp may fall below it.
    this.floor = Math.max(Date.now(), this.floor + 1);
    return this.floor;
  }

  /** The transaction's writes are durable, or will never be: its stamp no longer holds the horizon back. */
  settled(session: StorageSession): void {
    this.open.delete(session);
  }
}
