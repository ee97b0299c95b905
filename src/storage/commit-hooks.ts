/**
 * Work to do once a transaction has committed, on either engine: in-memory state derived from
 * stored resources (a SearchParameter applied at run time) must change only when the write that
 * justifies it is durable, and never when the transaction is rolled back (a failed entry of a
 * transaction Bundle). The engine's `withTransaction` is replaced on the instance, as
 * ops/instrument.ts does, so every caller's transactions are covered.
 */
import type { StorageEngine, StorageSession } from './port';

type Callback = () => void;

export class CommitHooks {
  private readonly pending = new WeakMap<StorageSession, Callback[]>();

  constructor(
    engine: StorageEngine,
    /** Told of a callback that threw: the commit stands, so the error must not reach the writer. */
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    const withTransaction = engine.withTransaction.bind(engine);
    engine.withTransaction = async <R>(work: (session: StorageSession) => Promise<R>): Promise<R> => {
      let callbacks: Callback[] = [];
      const result = await withTransaction(async (session) => {
        callbacks = [];
        this.pending.set(session, callbacks);
        return work(session);
      });
      for (const callback of callbacks) this.run(callback);
      return result;
    };
  }

  /** Runs `callback` after `session` commits; a session this engine did not open runs it at once. */
  afterCommit(session: StorageSession, callback: Callback): void {
    const callbacks = this.pending.get(session);
    if (callbacks) callbacks.push(callback);
    else this.run(callback);
  }

  private run(callback: Callback): void {
    try {
      callback();
    } catch (error) {
      this.onError(error);
    }
  }
}
