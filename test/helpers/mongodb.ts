/**
 * Running the suite against MongoDB: `MONGODB_URI=… npm test` gives every test server (and every
 * contract-suite engine) a database of its own, dropped when it closes. Without MONGODB_URI the
 * suite runs on the embedded engine.
 */
import { MongoClient } from 'mongodb';

export const TEST_MONGODB_URI = process.env.MONGODB_URI || undefined;

export function freshDatabaseName(prefix: string): string {
  return `${prefix}_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
}

export async function dropDatabase(uri: string, name: string): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
}
