/** The MongoDB engine's storage session: a driver session, in a transaction or (history reads) not. */
import type { ClientSession } from 'mongodb';
import type { StorageSession } from '../port';

export class MongoSession implements StorageSession {
  readonly engine = 'mongodb';
  /** The history timestamp this transaction took (history-clock.ts), once it has taken one. */
  stamped?: number;
  private readonly commitHooks: Array<() => Promise<void>> = [];
  constructor(readonly clientSession: ClientSession) {}

  beforeCommit(hook: () => Promise<void>): void {
    this.commitHooks.push(hook);
  }

  /** Runs the hooks added with beforeCommit, including any a hook adds. */
  async runCommitHooks(): Promise<void> {
    for (let i = 0; i < this.commitHooks.length; i++) await this.commitHooks[i]();
  }
}

export function mongoSession(session: StorageSession): MongoSession {
  // A session of another engine would silently run the call outside any transaction.
  if (!(session instanceof MongoSession)) throw new Error(`A ${session.engine} storage session was passed to the MongoDB engine`);
  return session;
}

export function driverSession(session: StorageSession | undefined): ClientSession | undefined {
  return session === undefined ? undefined : mongoSession(session).clientSession;
}
