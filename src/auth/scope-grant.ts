/**
 * Which of the scopes a client asks for at the token endpoint it may be granted: those its
 * registration covers. Only the grant is decided here; what a granted scope allows on each request
 * is the access policy's business (policy.ts), and both read scopes with scopes.ts.
 */
import { parseScope, type ScopeGrant } from './scopes';

function sameQuery(a: ScopeGrant['query'], b: ScopeGrant['query']): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function covers(registered: ScopeGrant, requested: ScopeGrant): boolean {
  if (registered.resourceType !== '*' && registered.resourceType !== requested.resourceType) return false;
  for (const permission of requested.permissions) if (!registered.permissions.has(permission)) return false;
  // A granular registration grants only the very same restriction; an unrestricted one grants any.
  return registered.query === undefined || sameQuery(registered.query, requested.query);
}

/** Whether a scope is one this server can grant (a SMART system scope). */
export function isGrantableScope(scope: string): boolean {
  return parseScope(scope) !== undefined;
}

/** The requested scopes that the registered ones cover, in the order asked; unknown forms are dropped. */
export function grantScopes(registered: string, requested: string): string[] {
  const allowed = registered.split(/\s+/).map(parseScope).filter((s): s is ScopeGrant => s !== undefined);
  const granted: string[] = [];
  for (const scope of requested.split(/\s+/).filter(Boolean)) {
    const parsed = parseScope(scope);
    if (parsed && allowed.some((a) => covers(a, parsed)) && !granted.includes(scope)) granted.push(scope);
  }
  return granted;
}
