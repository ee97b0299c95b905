/**
 * Versioned storage of FHIR resources, written once against the storage port. It owns ids,
 * meta.versionId and meta.lastUpdated, keeps every version in history, and makes each write a
 * compare-and-set on the version it read, so two writers of version n cannot both succeed.
 */
import type { Resource } from '@medplum/fhirtypes';
import {
  HISTORY_COLLECTION,
  type HistoryDocument,
  type HistoryMethod,
  historyId,
  type ResourceDocument,
} from '../storage/collections';
import type { DocumentCollection, Filter, IndexSpec, SortSpec, StorageEngine, StorageSession } from '../storage/port';
import { DuplicateKeyError } from '../storage/port';
import { conflict, gone, notFound, preconditionFailed } from '../fhir/outcome';
import { newResourceId } from './resource-ids';
import { assertStorableSize } from './storable-size';

/** Computes what a resource is searched and sorted by; supplied by the search layer. */
export interface SearchIndexer {
  index(resource: Resource): Pick<ResourceDocument, 'sp' | 'sk'>;
  /** Index specs every current-version collection should have. */
  indexSpecs(): IndexSpec[];
  /** More index specs of a type, for engines that serve ranges and sorts from indexes (StorageEngine.rangeIndexes). */
  rangeIndexSpecs?(type: string): IndexSpec[];
}

const NO_INDEX: SearchIndexer = { index: () => ({}), indexSpecs: () => [] };

/**
 * A domain rule that runs inside every write's transaction, whichever interaction made it (PUT, PATCH,
 * a transaction entry, a server-side write): e.g. the Task state machine and what a completed CMR
 * schedules. The composition root registers them; the repository knows nothing of what they mean.
 */
export interface WriteRule {
  /** Before `check`: the version to store instead of `next` (a value the server assigns, e.g. a status); undefined keeps `next`. */
  prepare?(next: Resource, previous: Resource | undefined): Resource | undefined;
  /** Before a version is stored; `previous` is the current version, undefined on a create. Throws a FhirError to refuse. */
  check?(next: Resource, previous: Resource | undefined): void;
  /** After a version is stored, in the same transaction: may write more with `session`; throwing undoes the write. */
  after?(stored: Resource, previous: Resource | undefined, session: StorageSession): Promise<void>;
  /** After a resource is deleted, in the same transaction (a run-time SearchParameter stops). */
  deleted?(type: string, id: string, session: StorageSession): Promise<void>;
}

export interface WriteOptions {
  session?: StorageSession;
  /** The version the client expects to replace (If-Match); a different current version gives 412. */
  ifMatch?: number;
  /** The history method recorded for this write. */
  method?: HistoryMethod;
  /** For create: an id chosen by the server beforehand (a transaction assigns ids before writing). */
  id?: string;
  /** Called after the write, in its transaction, before it commits (the audit trail records it there). */
  recorded?: (written: WrittenVersion, session: StorageSession) => Promise<void>;
}

/** What a write stored: the new version, or a deletion (no resource). */
export interface WrittenVersion {
  type: string;
  id: string;
  vid: number;
  method: HistoryMethod;
  resource?: Resource;
}

export interface WriteResult {
  resource: Resource;
  /** True when the write created the resource (201), false when it replaced one (200). */
  created: boolean;
}

export interface DeleteResult {
  /** False when there was nothing to delete (already deleted or never existed). */
  deleted: boolean;
  versionId?: number;
}

export interface HistoryQuery {
  type?: string;
  id?: string;
  /** Only versions written at or after this instant (epoch ms). */
  since?: number;
  /** Only versions written before this instant (epoch ms): the horizon of the first page, so later pages keep to it. */
  until?: number;
  /** Keyset cursor: only versions after this one in newest-first order (the `next` of the page before). */
  after?: HistoryCursor;
  count: number;
  /** A further condition on the history documents (the access policy's restriction). */
  where?: Filter;
}

/** A position in newest-first history order: (ts, _id) descending. */
export interface HistoryCursor {
  ts: number;
  id: string;
}

export interface HistoryPage {
  versions: HistoryDocument[];
  /**
   * Every version written before this instant (epoch ms) that will ever exist is in this answer or in
   * the pages after it; versions from this instant on are not: a poller resumes with `_since=` it.
   */
  horizon: number;
  /** Where the next page starts, when there is one. */
  next?: HistoryCursor;
  /** Instance history only: how many versions (cheap there; FHIR makes total optional for history). */
  total?: number;
}

const MAX_CAS_RETRIES = 20;

export class ResourceRepository {
  private readonly history: DocumentCollection<HistoryDocument>;
  private readonly preparedTypes = new Map<string, Promise<void>>();
  private readonly rules: WriteRule[] = [];

  constructor(
    readonly engine: StorageEngine,
    private readonly indexer: SearchIndexer = NO_INDEX,
  ) {
    this.history = engine.collection<HistoryDocument>(HISTORY_COLLECTION);
  }

  addWriteRule(rule: WriteRule): this {
    this.rules.push(rule);
    return this;
  }

  /** Creates the history indexes, and the search indexes of the given types. */
  async init(types: Iterable<string>): Promise<void> {
    await this.history.createIndex({ type: 1, rid: 1, vid: -1 });
    await this.history.createIndex({ ts: -1 });
    await this.history.createIndex({ type: 1, ts: -1 });
    if (this.engine.rangeIndexes) {
      // History pages sort on (ts, _id): with the tie-break in the index, no in-memory sort.
      await this.history.createIndex({ ts: -1, _id: -1 });
      await this.history.createIndex({ type: 1, ts: -1, _id: -1 });
      await this.history.createIndex({ type: 1, rid: 1, ts: -1, _id: -1 });
    }
    await Promise.all([...types].map((t) => this.prepare(t)));
  }

  /** The current-version collection of a type, with its indexes in place. */
  async collection(type: string): Promise<DocumentCollection<ResourceDocument>> {
    await this.prepare(type);
    return this.engine.collection<ResourceDocument>(type);
  }

  private prepare(type: string): Promise<void> {
    let ready = this.preparedTypes.get(type);
    if (!ready) {
      const collection = this.engine.collection<ResourceDocument>(type);
      const specs = [...this.indexer.indexSpecs(), ...(this.engine.rangeIndexes ? (this.indexer.rangeIndexSpecs?.(type) ?? []) : [])];
      ready = Promise.all(specs.map((spec) => collection.createIndex(spec))).then(() => undefined);
      this.preparedTypes.set(type, ready);
    }
    return ready;
  }

  async readDocument(type: string, id: string, session?: StorageSession): Promise<ResourceDocument | null> {
    const collection = await this.collection(type);
    return collection.findOne({ _id: id }, { session });
  }

  /** The current version; 404 when it never existed, 410 when it was deleted. */
  async read(type: string, id: string, session?: StorageSession): Promise<ResourceDocument & { resource: Resource }> {
    const doc = await this.readDocument(type, id, session);
    if (!doc) throw notFound(`${type}/${id} is not known`);
    if (doc.deleted || !doc.resource) {
      throw gone(`${type}/${id} was deleted`);
    }
    return doc as ResourceDocument & { resource: Resource };
  }

  async vread(type: string, id: string, vid: number): Promise<HistoryDocument> {
    const version = await this.history.findOne({ _id: historyId(type, id, vid) });
    if (!version) {
      const current = await this.readDocument(type, id);
      throw notFound(current ? `${type}/${id} has no version ${vid}` : `${type}/${id} is not known`);
    }
    if (version.method === 'DELETE') throw gone(`${type}/${id} version ${vid} is a deletion`);
    return version;
  }

  async create(resource: Resource, options: WriteOptions = {}): Promise<WriteResult> {
    const id = options.id ?? newResourceId();
    const prepared = this.applyPrepare(resource, undefined);
    for (const rule of this.rules) rule.check?.(prepared, undefined);
    return this.inSession(options.session, async (session) => {
      const stored = this.stamp(prepared, id, 1, await this.engine.historyClock.stamp(session, 0));
      await this.writeNew(stored, 1, options.method ?? 'POST', session);
      await this.runAfter(stored, undefined, session);
      await options.recorded?.({ type: stored.resourceType, id, vid: 1, method: options.method ?? 'POST', resource: stored }, session);
      return { resource: stored, created: true };
    });
  }

  /** Update, or create with the client's id when none exists (update-as-create). */
  async update(resource: Resource & { id: string }, options: WriteOptions = {}): Promise<WriteResult> {
    const type = resource.resourceType;
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
      try {
        return await this.inSession(options.session, async (session) => {
          const current = await this.readDocument(type, resource.id, session);
          if (options.ifMatch !== undefined && (!current || current.deleted || current.vid !== options.ifMatch)) {
            throw versionMismatch(type, resource.id, options.ifMatch, current);
          }
          const previous = current && !current.deleted ? current.resource : undefined;
          const prepared = this.applyPrepare(resource, previous);
          for (const rule of this.rules) rule.check?.(prepared, previous);
          const vid = (current?.vid ?? 0) + 1;
          const stored = this.stamp(prepared, resource.id, vid, await this.nextTimestamp(current, session));
          if (!current) {
            await this.writeNew(stored, vid, options.method ?? 'PUT', session);
          } else {
            await this.replace(current, stored, vid, options.method ?? 'PUT', session);
          }
          await this.runAfter(stored, previous, session);
          await options.recorded?.({ type, id: resource.id, vid, method: options.method ?? 'PUT', resource: stored }, session);
          return { resource: stored, created: !current || current.deleted === true };
        });
      } catch (error) {
        if (!(error instanceof ConcurrentWrite) || options.ifMatch !== undefined || options.session) {
          throw error instanceof ConcurrentWrite ? versionMismatch(type, resource.id, options.ifMatch) : error;
        }
      }
    }
    throw conflict(`${type}/${resource.id} is being updated too often to apply this change; try again`);
  }

  async delete(type: string, id: string, options: WriteOptions = {}): Promise<DeleteResult> {
    return this.inSession(options.session, async (session) => {
      const current = await this.readDocument(type, id, session);
      if (options.ifMatch !== undefined && (!current || current.deleted || current.vid !== options.ifMatch)) {
        throw versionMismatch(type, id, options.ifMatch, current);
      }
      if (!current || current.deleted) return { deleted: false };
      const vid = current.vid + 1;
      const ts = await this.nextTimestamp(current, session);
      const collection = await this.collection(type);
      const tombstone: ResourceDocument = { _id: id, vid, ts, deleted: true };
      const result = await collection.replaceOne({ _id: id, vid: current.vid }, tombstone, { session });
      if (result.matchedCount === 0) throw new ConcurrentWrite();
      await this.history.insertOne({ _id: historyId(type, id, vid), type, rid: id, vid, ts, method: 'DELETE' }, { session });
      for (const rule of this.rules) await rule.deleted?.(type, id, session);
      await options.recorded?.({ type, id, vid, method: 'DELETE', resource: current.resource }, session);
      return { deleted: true, versionId: vid };
    });
  }

  /**
   * One page of history, newest first, below the history clock's horizon (so a version committed later
   * can never appear below a horizon already answered) and after the cursor: a keyset page on
   * (ts, _id), which the history indexes serve without skipping or counting what came before.
   */
  async historyPage(query: HistoryQuery): Promise<HistoryPage> {
    const selection: Filter = {};
    if (query.type) selection.type = query.type;
    if (query.id) selection.rid = query.id;
    const sort: SortSpec = { ts: -1, _id: -1 };
    return this.engine.historyClock.atHorizon(async (clockHorizon, session) => {
      const horizon = Math.min(clockHorizon, query.until ?? Infinity);
      const { after } = query;
      // Timestamps are whole milliseconds, so "below the horizon" is "at most horizon - 1"; one upper
      // bound, the cursor's when there is one, lets the index start the page right at the cursor.
      const upTo = after ? Math.min(horizon - 1, after.ts) : horizon - 1;
      const window: Filter = { ...selection, ts: { $lte: upTo, ...(query.since !== undefined ? { $gte: query.since } : {}) } };
      const conditions: Filter[] = [window];
      if (query.where) conditions.push(query.where);
      // Versions sharing the cursor's timestamp: only those after it in _id order.
      if (after) conditions.push({ $or: [{ ts: { $lt: after.ts } }, { ts: after.ts, _id: { $lt: after.id } }] });
      const filter = conditions.length === 1 ? window : { $and: conditions };
      // One more than the page holds tells whether there is a next page, without counting.
      const found = await this.history.find(filter, { sort, limit: query.count + 1, session });
      const versions = found.slice(0, query.count);
      const last = versions[versions.length - 1];
      const next = found.length > query.count && last ? { ts: last.ts, id: last._id } : undefined;
      const whole: Filter = { ...selection, ts: { $lt: horizon, ...(query.since !== undefined ? { $gte: query.since } : {}) } };
      const total = query.id ? await this.history.countDocuments(query.where ? { $and: [whole, query.where] } : whole, { session }) : undefined;
      return { versions, horizon, next, total };
    });
  }

  private applyPrepare(resource: Resource, previous: Resource | undefined): Resource {
    let next = resource;
    for (const rule of this.rules) next = rule.prepare?.(next, previous) ?? next;
    return next;
  }

  private async runAfter(stored: Resource, previous: Resource | undefined, session: StorageSession): Promise<void> {
    for (const rule of this.rules) await rule.after?.(stored, previous, session);
  }

  private async inSession<R>(session: StorageSession | undefined, work: (s: StorageSession) => Promise<R>): Promise<R> {
    return session ? work(session) : this.engine.withTransaction(work);
  }

  private async writeNew(stored: Resource, vid: number, method: HistoryMethod, session: StorageSession): Promise<void> {
    const type = stored.resourceType;
    const id = stored.id as string;
    const ts = Date.parse(stored.meta?.lastUpdated as string);
    const collection = await this.collection(type);
    const doc: ResourceDocument = { _id: id, vid, ts, resource: stored, ...this.indexer.index(stored) };
    assertStorableSize(doc);
    try {
      await collection.insertOne(doc, { session });
    } catch (error) {
      if (error instanceof DuplicateKeyError) throw new ConcurrentWrite();
      throw error;
    }
    await this.history.insertOne({ _id: historyId(type, id, vid), type, rid: id, vid, ts, method, resource: stored }, { session });
  }

  private async replace(
    current: ResourceDocument,
    stored: Resource,
    vid: number,
    method: HistoryMethod,
    session: StorageSession,
  ): Promise<void> {
    const type = stored.resourceType;
    const id = stored.id as string;
    const ts = Date.parse(stored.meta?.lastUpdated as string);
    const collection = await this.collection(type);
    const doc: ResourceDocument = { _id: id, vid, ts, resource: stored, ...this.indexer.index(stored) };
    assertStorableSize(doc);
    const result = await collection.replaceOne({ _id: id, vid: current.vid }, doc, { session });
    if (result.matchedCount === 0) throw new ConcurrentWrite();
    await this.history.insertOne({ _id: historyId(type, id, vid), type, rid: id, vid, ts, method, resource: stored }, { session });
  }

  /** A copy of the resource with the server's id, versionId and lastUpdated; the client's are ignored. */
  private stamp(resource: Resource, id: string, vid: number, ts: number): Resource {
    const meta = { ...(resource.meta ?? {}), versionId: String(vid), lastUpdated: new Date(ts).toISOString() };
    // resourceType, id and meta first: the order people expect to read them in.
    return { resourceType: resource.resourceType, id, meta, ...withoutServerFields(resource) } as Resource;
  }

  /**
   * The history clock's timestamp (commit order, see HistoryClock in the storage port); a resource's
   * versions strictly increase, even within one millisecond.
   */
  private nextTimestamp(current: ResourceDocument | null, session: StorageSession): Promise<number> {
    return this.engine.historyClock.stamp(session, current ? current.ts + 1 : 0);
  }
}

function withoutServerFields(resource: Resource): Partial<Resource> {
  const { resourceType: _type, id: _id, meta: _meta, ...rest } = resource;
  return rest;
}

/** Another writer replaced the version this write read. */
class ConcurrentWrite extends Error {
  constructor() {
    super('concurrent write');
  }
}

function versionMismatch(type: string, id: string, expected: number | undefined, current?: ResourceDocument | null) {
  const actual = current && !current.deleted ? `version ${current.vid}` : 'no current version';
  return preconditionFailed(
    `${type}/${id}: If-Match expected version ${expected ?? '(the one read)'}, but the server holds ${actual}`,
  );
}
