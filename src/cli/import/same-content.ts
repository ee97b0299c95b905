/**
 * Whether a stored resource already holds what an import would write, so that a re-run skips it
 * instead of writing a new version. The server's own additions are ignored: versionId, lastUpdated,
 * source, and the MTM profiles it records in meta.profile after validating.
 */
import type { Resource } from '@medplum/fhirtypes';

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function withoutServerMeta(resource: Resource): { body: Resource; profiles: string[] } {
  const { meta, ...rest } = resource;
  const { versionId: _v, lastUpdated: _l, source: _s, profile, ...otherMeta } = meta ?? {};
  const body = (Object.keys(otherMeta).length > 0 ? { ...rest, meta: otherMeta } : rest) as Resource;
  return { body, profiles: profile ?? [] };
}

export function sameContent(stored: Resource, incoming: Resource): boolean {
  const a = withoutServerMeta(stored);
  const b = withoutServerMeta(incoming);
  if (!b.profiles.every((p) => a.profiles.includes(p))) return false;
  return canonical(a.body) === canonical(b.body);
}
