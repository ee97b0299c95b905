/**
 * SearchParameters defined at run time, as HAPI and Medplum apply them: a SearchParameter resource
 * written with status active (POST, PUT, PATCH, a transaction entry) is checked before it is stored
 * (parameter-rules.ts) and, once its write commits,
 * - its values are indexed on every later write of its bases, at once;
 * - the resources already stored are re-indexed in the background (reindex-jobs.ts), and searches
 *   on it carry a warning that they are partial until that is done;
 * - it is listed in the CapabilityStatement (rest.resource.searchParam), as every registry parameter is.
 * Retiring it (any other status) or deleting it stops all of that; searches on its code then get
 * the usual unknown-parameter answer. At start-up the stored active ones are applied again, and
 * an unfinished re-index resumes where it stopped.
 *
 * The registry changes only after the write commits (CommitHooks), so a rolled-back transaction
 * Bundle leaves no parameter behind. Definitions the server ships (R4, profiles/) are not run-time
 * parameters: their seeded copies pass unchanged and may not be redefined.
 */
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import type { Logger } from '../logger';
import type { ResourceRepository, WriteRule } from '../repository/repository';
import type { CommitHooks } from '../storage/commit-hooks';
import type { ResourceIndexer } from './indexer';
import { type ActiveSearchParameter, checkSearchParameter, definitionDigest } from './parameter-rules';
import { type ReindexJob, ReindexJobs, type ReindexPace } from './reindex-jobs';
import type { IndexingProgress, SearchParameterRegistry } from './registry';

export interface RuntimeParameterStatus {
  /** active: applied (see indexing); built-in: shipped with the server; inactive: stored but not applied. */
  applied: 'active' | 'built-in' | 'inactive';
  code?: string;
  bases: string[];
  /** While its stored resources are re-indexed, or after that failed. */
  indexing?: IndexingProgress;
  job?: ReindexJob;
}

export class RuntimeSearchParameters {
  /** The applied parameters, by SearchParameter id. */
  private readonly active = new Map<string, ActiveSearchParameter>();
  private readonly jobs: ReindexJobs;

  constructor(
    private readonly repository: ResourceRepository,
    private readonly registry: SearchParameterRegistry,
    indexer: ResourceIndexer,
    private readonly hooks: CommitHooks,
    pace: ReindexPace,
    private readonly logger?: Logger,
  ) {
    this.jobs = new ReindexJobs(repository, indexer, registry, pace, logger);
  }

  /** The repository rule: checks active SearchParameters before they are stored, applies them after commit. */
  writeRule(): WriteRule {
    return {
      check: (next) => {
        if (isSearchParameter(next) && next.status === 'active') checkSearchParameter(next, this.registry, (url) => this.idOf(url));
      },
      after: async (stored, _previous, session) => {
        if (isSearchParameter(stored)) this.hooks.afterCommit(session, () => this.apply(stored));
      },
      deleted: async (type, id, session) => {
        if (type === 'SearchParameter') this.hooks.afterCommit(session, () => this.withdraw(id));
      },
    };
  }

  /**
   * At start-up, before the server takes requests: applies every stored active run-time
   * SearchParameter (before the start-up re-index, so that one includes them too). One that no longer
   * passes the rules (a built-in parameter now has its code) is skipped and logged, never fatal.
   */
  async load(): Promise<number> {
    const collection = await this.repository.collection('SearchParameter');
    const stored = await collection.find({ deleted: { $ne: true } }, { sort: { _id: 1 } });
    for (const doc of stored) {
      const sp = doc.resource as SearchParameter | undefined;
      if (!sp || sp.status !== 'active') continue;
      try {
        if (checkSearchParameter(sp, this.registry, (url) => this.idOf(url))) this.define(sp);
      } catch (error) {
        this.logger?.warn('A stored SearchParameter can no longer be applied; it is ignored', {
          event: 'search-parameter-skipped',
          searchParameter: sp.id,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return this.active.size;
  }

  /** Starts (or resumes) the re-index of every applied parameter whose stored resources are not all done. */
  async start(): Promise<void> {
    await this.jobs.forgetAllBut(new Set(this.active.keys()));
    for (const sp of this.active.values()) await this.jobs.ensure(sp.id, sp.url, definitionDigest(sp), sp.base);
  }

  async status(id: string): Promise<RuntimeParameterStatus | undefined> {
    const doc = await this.repository.readDocument('SearchParameter', id);
    const sp = doc?.resource as SearchParameter | undefined;
    if (!sp || doc?.deleted) return undefined;
    const bases = (sp.base ?? []) as string[];
    const applied = this.active.get(id);
    if (!applied) return { applied: sp.url && this.registry.builtIn(sp.url) ? 'built-in' : 'inactive', code: sp.code, bases };
    const job = await this.jobs.read(id);
    return { applied: 'active', code: applied.code, bases: applied.base, indexing: this.registry.indexingOf(applied.url), job: job ?? undefined };
  }

  close(): Promise<void> {
    return this.jobs.close();
  }

  private idOf(url: string): string | undefined {
    for (const [id, sp] of this.active) if (sp.url === url) return id;
    return undefined;
  }

  /** After a SearchParameter's write commits: apply it, or stop it when it is no longer active. */
  private apply(sp: SearchParameter): void {
    const id = sp.id as string;
    const previous = this.active.get(id);
    if (sp.status !== 'active') return this.withdraw(id);
    if (previous && previous.url === sp.url && definitionDigest(previous) === definitionDigest(sp)) return; // same definition
    if (previous) this.stop(id); // its job document is replaced by the new definition's
    // Checked when written; checked again here because another write may have taken its code since.
    let applicable = false;
    try {
      applicable = checkSearchParameter(sp, this.registry, (url) => this.idOf(url));
    } catch (error) {
      this.logger?.warn('A SearchParameter was stored but cannot be applied', { event: 'search-parameter-skipped', searchParameter: id, reason: String(error) });
      return;
    }
    if (!applicable) return;
    const active = sp as ActiveSearchParameter; // what checkSearchParameter returning true established
    this.define(active);
    this.registry.setIndexing(active.url, { processed: 0, total: 0 }); // partial from the first search on
    this.jobs.ensure(id, active.url, definitionDigest(active), active.base).catch((error: unknown) => {
      this.logger?.error('Starting the re-index of a SearchParameter failed', error, { event: 'reindex-failed', searchParameter: id });
      this.registry.setIndexing(active.url, { processed: 0, total: 0, failed: true });
    });
    this.logger?.info('A run-time search parameter was applied', { event: 'search-parameter-applied', searchParameter: id, code: active.code });
  }

  private define(sp: ActiveSearchParameter): void {
    this.active.set(sp.id, sp);
    this.registry.define(sp);
  }

  private withdraw(id: string): void {
    if (!this.stop(id)) return;
    this.jobs.withdraw(id).catch((error: unknown) => this.logger?.error('Forgetting a re-index job failed', error, { event: 'reindex-failed', searchParameter: id }));
  }

  private stop(id: string): boolean {
    const sp = this.active.get(id);
    if (!sp) return false;
    this.active.delete(id);
    this.registry.remove(sp.url);
    this.logger?.info('A run-time search parameter was stopped', { event: 'search-parameter-stopped', searchParameter: id, code: sp.code });
    return true;
  }
}

function isSearchParameter(resource: Resource): resource is SearchParameter {
  return resource.resourceType === 'SearchParameter';
}
