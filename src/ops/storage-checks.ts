/** What the operator's endpoints ask of storage: is it writable, and how much does it hold. */
import type { ResourceRepository } from '../repository/repository';
import type { StorageEngine } from '../storage/port';

const PROBE_COLLECTION = 'health_probe';

/** Readiness: a durable write of one small document proves storage is reachable and writable. */
export async function probeStorage(engine: StorageEngine): Promise<string | undefined> {
  const probes = engine.collection<{ _id: string; at: number }>(PROBE_COLLECTION);
  await engine.withTransaction((session) => probes.replaceOne({ _id: 'readiness' }, { _id: 'readiness', at: Date.now() }, { upsert: true, session }));
  return undefined;
}

/** Current resources per type, leaving out types with none. */
export async function countStoredResources(repository: ResourceRepository, types: Iterable<string>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const type of types) {
    const count = await (await repository.collection(type)).countDocuments({ deleted: { $exists: false } });
    if (count > 0) counts.set(type, count);
  }
  return counts;
}
