/**
 * The one access policy (DESIGN.md decision 7): what a client's SMART scopes and Group binding let it
 * do. Every restriction is expressed once, as a storage filter per resource type (a granular scope's
 * search compiled by the search layer, and the Group's patient compartments), so that searches,
 * includes, chains and history apply it inside the query, and a single resource is judged by
 * evaluating the same filter on its index values in memory.
 */
import type { Group, Resource } from '@medplum/fhirtypes';
import { Query } from 'mingo';
import { FhirError, issue } from '../fhir/outcome';
import type { AccessPolicyPort, ScopePermission, SecurityContext } from '../interactions/types';
import type { ResourceRepository, SearchIndexer } from '../repository/repository';
import { and } from '../search/compile';
import type { Filter, StorageSession } from '../storage/port';
import { groupFilter } from './group-filter';
import { grantFor, parseScopes, type ScopeGrant, type TypeGrant } from './scopes';

const AUDIT_EVENT = 'AuditEvent';

/** Compiles a granular scope's search parameters into a filter (the search layer does it). */
export interface CriteriaCompiler {
  criteriaFilter(type: string, query: Array<[string, string]>, session?: StorageSession): Promise<Filter>;
}

/** Matches nothing: a granular scope whose search cannot be compiled fails closed. */
const NOTHING: Filter = { _id: { $in: [] } };

const PERMISSION_NAMES: Record<ScopePermission, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

export function forbidden(message: string): FhirError {
  return new FhirError(403, [issue('error', 'forbidden', message)]);
}

// mingo's Criteria type is a plain object map, looser than our Filter.
type MingoCriteria = ConstructorParameters<typeof Query>[0];

export class ScopePolicy implements AccessPolicyPort {
  private readonly grantsByScopes = new Map<string, ScopeGrant[]>();
  private readonly membersByGroupVersion = new Map<string, ReadonlySet<string>>();

  constructor(
    private readonly repository: ResourceRepository,
    private readonly indexer: SearchIndexer,
    private readonly compiler: CriteriaCompiler,
  ) {}

  requireScope(security: SecurityContext, resourceType: string, permission: ScopePermission): void {
    if (this.grant(security, resourceType, permission).kind === 'none') {
      throw forbidden(`The client's scopes do not allow ${PERMISSION_NAMES[permission]} on ${resourceType === '*' ? 'every type' : resourceType}`);
    }
  }

  async restriction(security: SecurityContext, resourceType: string, permission: ScopePermission): Promise<Filter | undefined | 'denied'> {
    const grant = this.grant(security, resourceType, permission);
    if (grant.kind === 'none') return 'denied';
    const parts: Filter[] = [];
    if (grant.kind === 'some') {
      const alternatives = await Promise.all(
        grant.queries.map((query) => this.compiler.criteriaFilter(resourceType, query).catch(() => NOTHING)),
      );
      parts.push(alternatives.length === 1 ? alternatives[0] : { $or: alternatives });
    }
    const members = await this.patientIds(security);
    if (members) {
      const restricted = groupFilter(resourceType, members);
      if (restricted) parts.push(restricted);
    }
    return parts.length ? and(parts) : undefined;
  }

  async mayAccess(security: SecurityContext, resource: Resource, permission: ScopePermission): Promise<boolean> {
    const filter = await this.restriction(security, resource.resourceType, permission);
    if (filter === 'denied') return false;
    if (filter === undefined) return true;
    const doc = { _id: resource.id, resource, ...this.indexer.index(resource) };
    return new Query(filter as MingoCriteria).test(doc);
  }

  async patientIds(security: SecurityContext): Promise<ReadonlySet<string> | undefined> {
    if (!security.group) return undefined;
    const id = security.group.replace(/^Group\//, '');
    const doc = await this.repository.readDocument('Group', id);
    // A Group that is gone binds the client to nobody: it sees no patient data at all.
    if (!doc?.resource || doc.deleted) return new Set();
    const key = `${id}/${doc.vid}`;
    let members = this.membersByGroupVersion.get(key);
    if (!members) {
      members = new Set(
        ((doc.resource as Group).member ?? [])
          .filter((m) => !m.inactive)
          .map((m) => /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(m.entity?.reference ?? '')?.[1])
          .filter((p): p is string => p !== undefined),
      );
      if (this.membersByGroupVersion.size > 1000) this.membersByGroupVersion.clear();
      this.membersByGroupVersion.set(key, members);
    }
    return members;
  }

  /**
   * The audit trail is read only with a scope that names AuditEvent (system/AuditEvent.rs): a
   * wildcard does not reach it. It is never updated or deleted through the API.
   */
  private grant(security: SecurityContext, resourceType: string, permission: ScopePermission): TypeGrant {
    if (resourceType !== AUDIT_EVENT) return grantFor(this.grants(security), resourceType, permission);
    if (permission === 'u' || permission === 'd') return { kind: 'none' };
    return grantFor(this.grants(security).filter((g) => g.resourceType === AUDIT_EVENT), resourceType, permission);
  }

  private grants(security: SecurityContext): ScopeGrant[] {
    const key = security.scopes.join(' ');
    let grants = this.grantsByScopes.get(key);
    if (!grants) {
      grants = parseScopes(security.scopes);
      if (this.grantsByScopes.size > 1000) this.grantsByScopes.clear();
      this.grantsByScopes.set(key, grants);
    }
    return grants;
  }
}
