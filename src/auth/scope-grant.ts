/**
 * Which of the scopes a client asks for at the token endpoint it may be granted: those its
 * registration covers. Only the grant is decided here; what a granted scope allows on each request
 * is the access policy's business.
 *
 * Scope syntax (SMART App Launch 2.x, scopes-and-launch-context): `system/<Type|*>.<perms>[?query]`
 * with v2 permissions `c r u d s` in that order, or the v1 forms `read`, `write`, `*`.
 */
export interface ParsedScope {
  context: 'system';
  resourceType: string;
  /** The v2 permission letters, v1 forms expanded: read = rs, write = cud, * = cruds. */
  permissions: string;
  /** A granular scope's search parameters, as written. */
  query?: string;
}

const SCOPE = /^system\/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*|c?r?u?d?s?)(?:\?(.+))?$/;
const V1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };

export function parseScope(scope: string): ParsedScope | undefined {
  const match = SCOPE.exec(scope);
  if (!match || match[2] === '') return undefined;
  const [, resourceType, perms, query] = match;
  const parsed: ParsedScope = { context: 'system', resourceType, permissions: V1[perms] ?? perms };
  if (query !== undefined) parsed.query = query;
  return parsed;
}

function covers(registered: ParsedScope, requested: ParsedScope): boolean {
  if (registered.resourceType !== '*' && registered.resourceType !== requested.resourceType) return false;
  for (const letter of requested.permissions) if (!registered.permissions.includes(letter)) return false;
  // A granular registration grants only the very same restriction; an unrestricted one grants any.
  return registered.query === undefined || registered.query === requested.query;
}

/** The requested scopes that the registered ones cover, in the order asked; unknown forms are dropped. */
export function grantScopes(registered: string, requested: string): string[] {
  const allowed = registered.split(/\s+/).map(parseScope).filter((s): s is ParsedScope => s !== undefined);
  const granted: string[] = [];
  for (const scope of requested.split(/\s+/).filter(Boolean)) {
    const parsed = parseScope(scope);
    if (parsed && allowed.some((a) => covers(a, parsed)) && !granted.includes(scope)) granted.push(scope);
  }
  return granted;
}
