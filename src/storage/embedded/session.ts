/**
 * A transaction of the embedded engine: the writes it makes are kept aside (read-your-writes for
 * the session, invisible to everyone else) until the engine commits them in one SQLite transaction.
 */
import type { Document, StorageSession } from '../port';

export class EmbeddedSession implements StorageSession {
  readonly engine = 'embedded';
  /** Per collection: the new state of each touched document, or null once deleted. */
  readonly pending = new Map<string, Map<string, Document | null>>();
  private closed = false;
  private readonly commitHooks: Array<() => Promise<void>> = [];
  /** What each stage() replaced, oldest first: rollbackTo() puts it back. */
  private readonly undo: { docs: Map<string, Document | null>; id: string; had: boolean; previous: Document | null | undefined }[] = [];

  pendingFor(collection: string): Map<string, Document | null> | undefined {
    return this.pending.get(collection);
  }

  stage(collection: string, id: string, doc: Document | null): void {
    if (this.closed) throw new Error('The transaction has already ended');
    let docs = this.pending.get(collection);
    if (!docs) this.pending.set(collection, (docs = new Map()));
    this.undo.push({ docs, id, had: docs.has(id), previous: docs.get(id) });
    docs.set(id, doc);
  }

  beforeCommit(hook: () => Promise<void>): void {
    if (this.closed) throw new Error('The transaction has already ended');
    this.commitHooks.push(hook);
  }

  /** Runs the hooks added with beforeCommit, including any a hook adds. */
  async runCommitHooks(): Promise<void> {
    for (let i = 0; i < this.commitHooks.length; i++) await this.commitHooks[i]();
  }

  savepoint(): number {
    return this.undo.length;
  }

  /**
   * Back to the state at `mark`. Staged-document indexes (stored-collection.ts) may still list a
   * taken-back id: they narrow candidates only, and every candidate is read from `pending` again.
   */
  rollbackTo(mark: number): void {
    if (this.closed) throw new Error('The transaction has already ended');
    while (this.undo.length > mark) {
      const { docs, id, had, previous } = this.undo.pop() as (typeof this.undo)[number];
      if (had) docs.set(id, previous as Document | null);
      else docs.delete(id);
    }
  }

  close(): void {
    this.closed = true;
  }
}

export interface SessionRunner {
  /** Runs `work` inside the caller's session, or inside a new transaction when there is none. */
  inSession<R>(session: EmbeddedSession | undefined, work: (session: EmbeddedSession) => R): Promise<R>;
}

/** Serialises writers: one transaction at a time keeps compare-and-set checks valid until commit. */
export class WriteLock {
  private tail: Promise<void> = Promise.resolve();

  async run<R>(work: () => Promise<R>): Promise<R> {
    let release!: () => void;
    const previous = this.tail;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await work();
    } finally {
      release();
    }
  }
}
