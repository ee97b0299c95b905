/** Version preconditions carried by HTTP headers: If-Match, If-None-Match, If-Modified-Since. */
import { badRequest } from '../fhir/outcome';

/** The version number in `If-Match: W/"3"` (or `"3"`, or `3`); undefined when absent. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  if (!match) throw badRequest(`If-Match must be a version ETag such as W/"3", got ${JSON.stringify(header)}`);
  return Number(match[1]);
}

/** True when `If-None-Match` names the given version (or is "*"). */
export function ifNoneMatchHits(header: string | undefined, versionId: string | undefined): boolean {
  if (!header || !versionId) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '').replace(/"/g, '') === versionId;
  });
}

/** True when the resource has not changed since `If-Modified-Since` (HTTP dates have second precision). */
export function notModifiedSince(header: string | undefined, lastUpdated: string | undefined): boolean {
  if (!header || !lastUpdated) return false;
  const since = Date.parse(header);
  if (Number.isNaN(since)) return false;
  return Math.floor(Date.parse(lastUpdated) / 1000) * 1000 <= since;
}
