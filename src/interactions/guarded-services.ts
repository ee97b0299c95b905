/**
 * The services a request sees, with every repository and search call put to the access policy on
 * behalf of the caller. Interactions, Bundle entries and operations (including ones added later)
 * reach storage only through `ctx.services`, so building the request's context here is what makes
 * the policy apply on every path. The policy decides; this module only asks it and acts on the answer.
 */
import type { Resource } from '@medplum/fhirtypes';
import { resourceTypes } from '../fhir/definitions';
import { FhirError, issue, notFound } from '../fhir/outcome';
import type { DeleteResult, HistoryPage, HistoryQuery, WriteOptions, WriteResult } from '../repository/repository';
import type { SearchAccess } from '../search/service';
import type { HistoryDocument, ResourceDocument } from '../storage/collections';
import type { Filter, StorageSession } from '../storage/port';
import {
  type AccessPolicyPort,
  OPEN_ACCESS,
  type RepositoryPort,
  type RequestContext,
  type ScopePermission,
  type SearchPort,
  type SecurityContext,
  type Services,
} from './types';

/** Most resources of one type a restricted client's history may cover (its ids go into one query). */
const MAX_HISTORY_IDS = 50_000;

export function contextFor(services: Services, baseUrl: string, security: SecurityContext): RequestContext {
  if (services.access === OPEN_ACCESS) return { services, baseUrl, security };
  const ctx: RequestContext = { services, baseUrl, security };
  const access: SearchAccess = { restriction: (type, permission) => services.access.restriction(security, type, permission) };
  const search = services.search && guardedSearch(services.search, access, ctx);
  const repository = new GuardedRepository(services.repository, services.access, security, search, ctx);
  ctx.services = { ...services, repository, search };
  return ctx;
}

/** The request's audit record, set on the context once the request is known (see audited-dispatch). */
type AuditHolder = Pick<RequestContext, 'audit'>;

function guardedSearch(inner: SearchPort, access: SearchAccess, holder: AuditHolder): SearchPort {
  return {
    supportedParameters: (type) => inner.supportedParameters(type),
    findMatches: async (type, query, options) => {
      const matches = await inner.findMatches(type, query, { ...options, access });
      holder.audit?.read(matches);
      return matches;
    },
    search: async (input) => {
      const result = await inner.search({ ...input, access });
      holder.audit?.read([...result.matches, ...result.included]);
      holder.audit?.searched(input.types ?? typesParameter(input.query), input.query, result.total ?? result.matches.length);
      return result;
    },
    idsMatching: (type, filter, limit) => inner.idsMatching(type, filter, limit),
  };
}

function typesParameter(query: Array<[string, string]>): string[] | undefined {
  const value = query.find(([name]) => name === '_type')?.[1];
  return value ? value.split(',') : undefined;
}

function outside(action: string, type: string, id?: string): FhirError {
  const what = id ? `${type}/${id}` : `this ${type}`;
  return new FhirError(403, [issue('error', 'forbidden', `The client may not ${action} ${what}: it is outside its scopes or its patients`)]);
}

/** The id a client's writes carry in meta.source (a URI, as meta.source must be). */
const CLIENT_SOURCE_PREFIX = 'urn:mtm-fhir:client:';

export function sourceOf(security: SecurityContext): string | undefined {
  return security.principal === 'anonymous' ? undefined : `${CLIENT_SOURCE_PREFIX}${encodeURIComponent(security.principal)}`;
}

class GuardedRepository implements RepositoryPort {
  constructor(
    private readonly inner: RepositoryPort,
    private readonly access: AccessPolicyPort,
    private readonly security: SecurityContext,
    private readonly search: SearchPort | undefined,
    private readonly holder: AuditHolder,
  ) {}

  get engine() {
    return this.inner.engine;
  }

  /** A resource the caller may not read answers as if it did not exist: its existence is not revealed. */
  async read(type: string, id: string, session?: StorageSession): Promise<ResourceDocument & { resource: Resource }> {
    this.access.requireScope(this.security, type, 'r');
    const doc = await this.inner.read(type, id, session);
    if (!(await this.may(doc.resource, 'r'))) throw notFound(`${type}/${id} is not known`);
    this.holder.audit?.read([doc.resource]);
    return doc;
  }

  /** The current document, or null when there is none the caller may read (nothing is revealed). */
  async readDocument(type: string, id: string, session?: StorageSession): Promise<ResourceDocument | null> {
    const doc = await this.inner.readDocument(type, id, session);
    if (!doc) return null;
    const restriction = await this.access.restriction(this.security, type, 'r');
    if (restriction === 'denied') return null;
    if (doc.resource && restriction !== undefined && !(await this.may(doc.resource, 'r'))) return null;
    if (doc.resource) this.holder.audit?.read([doc.resource]);
    return doc;
  }

  async vread(type: string, id: string, vid: number): Promise<HistoryDocument> {
    this.access.requireScope(this.security, type, 'r');
    const version = await this.inner.vread(type, id, vid);
    if (version.resource && !(await this.may(version.resource, 'r'))) throw notFound(`${type}/${id} is not known`);
    if (version.resource) this.holder.audit?.read([version.resource]);
    return version;
  }

  async create(resource: Resource, options: WriteOptions = {}): Promise<WriteResult> {
    this.access.requireScope(this.security, resource.resourceType, 'c');
    const stamped = this.withSource(resource);
    if (!(await this.may(stamped, 'c'))) throw outside('create', resource.resourceType);
    return this.inner.create(stamped, this.recorded(options));
  }

  async update(resource: Resource & { id: string }, options: WriteOptions = {}): Promise<WriteResult> {
    const type = resource.resourceType;
    this.access.requireScope(this.security, type, 'u');
    const current = await this.current(type, resource.id, options.session);
    if (current && !(await this.may(current, 'u'))) throw outside('update', type, resource.id);
    // Update-as-create creates: the new content must be something the client may create.
    const permission: ScopePermission = current ? 'u' : 'c';
    if (!current) this.access.requireScope(this.security, type, 'c');
    const stamped = this.withSource(resource) as Resource & { id: string };
    if (!(await this.may(stamped, permission))) throw outside(current ? 'update' : 'create', type, resource.id);
    return this.inner.update(stamped, this.recorded(options));
  }

  async delete(type: string, id: string, options: WriteOptions = {}): Promise<DeleteResult> {
    this.access.requireScope(this.security, type, 'd');
    const current = await this.current(type, id, options.session);
    if (current && !(await this.may(current, 'd'))) throw outside('delete', type, id);
    return this.inner.delete(type, id, this.recorded(options));
  }

  /**
   * Instance history needs read; type and system history need search (SMART 2.x). Each type's
   * versions are restricted to the resources the caller may see now, and every version's content is
   * checked too, so an earlier version about another patient is not shown.
   */
  async historyPage(query: HistoryQuery): Promise<HistoryPage> {
    const where = query.id ? undefined : await this.historyRestriction(query.type);
    if (query.id) this.access.requireScope(this.security, query.type as string, 'r');
    // Nothing this client may see, now or later: any instant will do as where to resume.
    if (where === 'nothing') return { versions: [], horizon: query.until ?? Date.now() };
    const page = await this.inner.historyPage({ ...query, where });
    const permission: ScopePermission = query.id ? 'r' : 's';
    const allowed = await Promise.all(page.versions.map((v) => (v.resource ? this.may(v.resource, permission) : true)));
    const versions = page.versions.filter((_, i) => allowed[i]);
    this.holder.audit?.read(versions.map((v) => v.resource).filter((r): r is Resource => r !== undefined));
    // The cursor stays the repository's: versions left out here must not end the paging early.
    return { ...page, versions };
  }

  private async historyRestriction(type: string | undefined): Promise<Filter | undefined | 'nothing'> {
    if (type) this.access.requireScope(this.security, type, 's');
    const types = type ? [type] : [...resourceTypes()];
    const open: string[] = [];
    const clauses: Filter[] = [];
    for (const t of types) {
      const restriction = await this.access.restriction(this.security, t, 's');
      if (restriction === 'denied') continue;
      if (restriction === undefined) {
        open.push(t);
        continue;
      }
      if (!this.search) continue;
      const ids = await this.search.idsMatching(t, restriction, MAX_HISTORY_IDS + 1);
      if (ids.length > MAX_HISTORY_IDS) {
        throw new FhirError(400, [issue('error', 'too-costly', `History over more than ${MAX_HISTORY_IDS} ${t} resources is too costly for a restricted client; ask per type or per resource`)]);
      }
      if (ids.length) clauses.push({ type: t, rid: { $in: ids } });
    }
    if (open.length === types.length) return undefined;
    if (open.length) clauses.unshift({ type: { $in: open } });
    if (clauses.length === 0) return 'nothing';
    return clauses.length === 1 ? clauses[0] : { $or: clauses };
  }

  private async current(type: string, id: string, session?: StorageSession): Promise<Resource | undefined> {
    try {
      return (await this.inner.read(type, id, session)).resource;
    } catch (error) {
      if (error instanceof FhirError && (error.status === 404 || error.status === 410)) return undefined;
      throw error;
    }
  }

  /** The write's audit record goes into the write's own transaction. */
  private recorded(options: WriteOptions): WriteOptions {
    const audit = this.holder.audit;
    if (!audit) return options;
    return {
      ...options,
      recorded: async (written, session) => {
        await options.recorded?.(written, session);
        await audit.written(written, session);
      },
    };
  }

  private may(resource: Resource, permission: ScopePermission): Promise<boolean> {
    return this.access.mayAccess(this.security, resource, permission);
  }

  private withSource(resource: Resource): Resource {
    const source = sourceOf(this.security);
    if (source) return { ...resource, meta: { ...(resource.meta ?? {}), source } } as Resource;
    // An anonymous caller (the server running open) cannot claim to be a registered client: the
    // source names whose rights a Subscription notifies with (src/subscriptions/owner.ts).
    if (!resource.meta?.source?.startsWith(CLIENT_SOURCE_PREFIX)) return resource;
    const { source: _claimed, ...meta } = resource.meta;
    return { ...resource, meta } as Resource;
  }
}
