/** Absolute URLs for Bundle links, carrying the whole query the client sent. */
import type { RequestContext } from './types';

export function absoluteUrl(ctx: RequestContext, path: string, query: Array<[string, string]> = []): string {
  const search = new URLSearchParams(query).toString();
  return `${ctx.baseUrl}${path ? `/${path}` : ''}${search ? `?${search}` : ''}`;
}

/** The query with some parameters replaced (or removed when the value is undefined). */
export function withParams(query: Array<[string, string]>, changes: Record<string, string | undefined>): Array<[string, string]> {
  const kept = query.filter(([name]) => !(name in changes));
  for (const [name, value] of Object.entries(changes)) if (value !== undefined) kept.push([name, value]);
  return kept;
}
