/**
 * Shares equal strings between the documents held in memory. JSON.parse gives every string value
 * its own copy, and stored documents repeat the same few values endlessly: profile URLs, code
 * systems, codes, statuses, and references repeated across search values and sort keys. Measured
 * at 100k resources: 334 MB of documents became 193 MB once equal strings were shared.
 *
 * Replacing a string by an equal one changes nothing anyone can observe, so documents are updated
 * in place, and frozen objects are left alone. The pool is dropped and restarted when it grows
 * large, so strings of deleted documents cannot accumulate in it forever.
 */
const MAX_LENGTH = 128;
const MAX_POOL = 250_000;

export class StringPool {
  private pool = new Map<string, string>();

  /** Shares the strings of `value` (objects and arrays, walked in place) with earlier ones. */
  internAll(value: unknown): void {
    if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === 'string') value[i] = this.intern(item);
        else if (item !== null && typeof item === 'object') this.internAll(item);
      }
      return;
    }
    const record = value as Record<string, unknown>;
    for (const key in record) {
      const item = record[key];
      if (typeof item === 'string') record[key] = this.intern(item);
      else if (item !== null && typeof item === 'object') this.internAll(item);
    }
  }

  private intern(value: string): string {
    if (value.length > MAX_LENGTH) return value;
    const shared = this.pool.get(value);
    if (shared !== undefined) return shared;
    if (this.pool.size >= MAX_POOL) this.pool = new Map();
    this.pool.set(value, value);
    return value;
  }
}
