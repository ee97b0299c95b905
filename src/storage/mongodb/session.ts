/** The MongoDB engine's storage session: a driver session, in a transaction or (history reads) not. */
import type { ClientSession } from 'mongodb';
import type { StorageSession } from '../port';

export class MongoSession implements StorageSession {
  readonly engine = 'mongodb';
  /** The history timestamp this transaction took (history-clock.ts), once it has taken one. */
  stamped?: number;
  constructor(readonly clientSession: ClientSession) {}
}

export function mongoSession(session: StorageSession): MongoSession {
  // A session of another engine would silently run the call outside any transaction.
  if (!(session instanceof MongoSession)) throw new Error(`A ${session.engine} storage session was passed to the MongoDB engine`);
  return session;
}

export function driverSession(session: StorageSession | undefined): ClientSession | undefined {
  return session === undefined ? undefined : mongoSession(session).clientSession;
}
