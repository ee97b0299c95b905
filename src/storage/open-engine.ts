/** Chooses the storage engine from configuration: MongoDB when MONGODB_URI is set, else embedded. */
import type { ServerConfig } from '../config';
import { EmbeddedEngine } from './embedded/embedded-engine';
import { MongoEngine } from './mongodb/mongodb-engine';
import type { StorageEngine } from './port';
import { CLIENTS_COLLECTION, HISTORY_COLLECTION, HISTORY_LAYOUT, JTI_COLLECTION, JTI_LAYOUT } from './collections';
import { withSimulatedRoundTrips } from './round-trips';

export interface OpenOptions {
  /** The embedded store's lock (see EmbeddedEngineOptions.exclusive); true unless said otherwise. */
  exclusive?: boolean;
}

export async function openStorageEngine(config: ServerConfig, options: OpenOptions = {}): Promise<StorageEngine> {
  const engine = await openEngine(config, options);
  return config.simulatedRoundTrips ? withSimulatedRoundTrips(engine) : engine;
}

async function openEngine(config: ServerConfig, options: OpenOptions): Promise<StorageEngine> {
  if (config.mongodbUri) return MongoEngine.connect(config.mongodbUri, config.mongodbDatabase, { maxTimeMs: config.mongodbMaxTimeMs });
  return new EmbeddedEngine({
    dataDir: config.dataDir,
    synchronous: config.embeddedSynchronous,
    cacheMb: config.embeddedCacheMb,
    exclusive: options.exclusive,
    // Registered clients are read straight from SQLite (no cache), so the running server sees `npm run client` changes.
    diskCollections: { [HISTORY_COLLECTION]: HISTORY_LAYOUT, [CLIENTS_COLLECTION]: { columns: [] as string[] }, [JTI_COLLECTION]: JTI_LAYOUT },
  });
}
