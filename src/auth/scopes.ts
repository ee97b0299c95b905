/**
 * SMART scopes as this server grants them (SMART App Launch 2.x, scopes-and-launch-context):
 * v2 `system/<Type|*>.[c][r][u][d][s]`, optionally followed by `?param=value&...` (a granular scope,
 * which narrows the grant to resources matching that search), and the v1 forms
 * `system/<Type|*>.read|write|*`. v1 maps as SMART 2.x says: read = rs, write = cud, * = cruds.
 * Only `system/` scopes count here: this is a Backend Services server; user/ and patient/ scopes
 * grant nothing.
 */
import type { ScopePermission } from '../interactions/types';

export interface ScopeGrant {
  /** A resource type, or '*' for every type. */
  resourceType: string;
  permissions: ReadonlySet<ScopePermission>;
  /** A granular scope's search parameters: the grant covers only resources matching them. */
  query?: Array<[string, string]>;
  /** The scope as written, for messages. */
  raw: string;
}

const V2_LETTERS = /^c?r?u?d?s?$/;
const V1: Record<string, ScopePermission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };
const SCOPE = /^system\/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)(\?.*)?$/;

/** One scope, or undefined when it grants nothing here (another context, or not a resource scope). */
export function parseScope(raw: string): ScopeGrant | undefined {
  const m = SCOPE.exec(raw);
  if (!m) return undefined;
  const [, resourceType, access, queryString] = m;
  let permissions: ScopePermission[];
  if (Object.hasOwn(V1, access)) {
    if (queryString) return undefined; // v1 scopes have no granular form
    permissions = V1[access];
  } else if (V2_LETTERS.test(access) && access.length > 0) {
    permissions = access.split('') as ScopePermission[];
  } else {
    return undefined;
  }
  const grant: ScopeGrant = { resourceType, permissions: new Set(permissions), raw };
  if (queryString && queryString.length > 1) {
    // Search parameters as in a URL query; URLSearchParams decodes %XX and '+' as a FHIR server would.
    grant.query = [...new URLSearchParams(queryString.slice(1))];
    if (grant.query.length === 0) delete grant.query;
  }
  return grant;
}

export function parseScopes(scopes: readonly string[]): ScopeGrant[] {
  return scopes.map(parseScope).filter((g): g is ScopeGrant => g !== undefined);
}

/**
 * What the scopes grant for one type and permission: 'none'; 'all' (some scope without a query
 * covers it); or the queries of the granular scopes, any one of which a resource must match.
 */
export type TypeGrant = { kind: 'none' } | { kind: 'all' } | { kind: 'some'; queries: Array<Array<[string, string]>> };

export function grantFor(grants: readonly ScopeGrant[], resourceType: string, permission: ScopePermission): TypeGrant {
  const queries: Array<Array<[string, string]>> = [];
  for (const grant of grants) {
    if (grant.resourceType !== '*' && grant.resourceType !== resourceType) continue;
    if (!grant.permissions.has(permission)) continue;
    if (!grant.query) return { kind: 'all' };
    queries.push(grant.query);
  }
  return queries.length ? { kind: 'some', queries } : { kind: 'none' };
}
