/**
 * The embedded engine's cache of parsed documents, least recently used first out, bounded by an
 * estimate of the heap they hold (EMBEDDED_CACHE_MB). It holds only durable state: what SQLite has
 * committed. A cached document is handed to every reader as it is, as the in-memory engine always
 * did: callers treat found documents as read-only (the repository builds a new one to write).
 */

/**
 * Heap bytes per character of stored JSON: a parsed bench document held ~2.9 KB of heap for ~1.9 KB
 * of JSON (V8 objects, property maps, one copy of every string).
 */
const HEAP_PER_JSON_CHAR = 2;

interface Entry {
  doc: object;
  bytes: number;
}

export class DocumentCache {
  /** Map iteration order is insertion order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.entries.size;
  }

  get heapBytes(): number {
    return this.bytes;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): object | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Move to the most recently used end.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.doc;
  }

  /** Caches a document read or written as JSON of `jsonLength` characters. */
  set(key: string, doc: object, jsonLength: number): void {
    this.delete(key);
    const bytes = jsonLength * HEAP_PER_JSON_CHAR;
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { doc, bytes });
    this.bytes += bytes;
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

export function cacheKey(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}
