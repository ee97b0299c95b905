/**
 * Choosing among the representations an operation can answer with, from the Accept header
 * (RFC 9110 12.5.1: q-values, type/* and * / * ranges). Operations that answer more than FHIR JSON
 * (an HTML page, a PDF) use it; plain FHIR interactions keep the HTTP layer's negotiation.
 */
import { notAcceptable } from '../../fhir/outcome';

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(accept: string): Range[] {
  return accept
    .split(',')
    .map((part) => {
      const [mediaRange, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const [type, subtype] = mediaRange.split('/');
      const qParam = params.find((p) => p.startsWith('q='));
      const q = qParam ? Number(qParam.slice(2)) : 1;
      return { type, subtype, q: Number.isFinite(q) ? q : 0 };
    })
    .filter((r) => r.type && r.subtype);
}

function specificity(range: Range, type: string, subtype: string): number {
  if (range.type === type && range.subtype === subtype) return 3;
  if (range.type === type && range.subtype === '*') return 2;
  if (range.type === '*' && range.subtype === '*') return 1;
  return 0;
}

/**
 * The offered media type the client prefers; `offered` is in the server's order of preference,
 * which breaks ties. No Accept header takes the first offered. 406 when nothing offered is acceptable.
 */
export function chooseMediaType<T extends string>(accept: string | undefined, offered: readonly T[]): T {
  if (!accept?.trim()) return offered[0];
  const ranges = parseAccept(accept);
  let best: { type: T; q: number } | undefined;
  for (const candidate of offered) {
    const [type, subtype] = candidate.split('/');
    let match: Range | undefined;
    for (const range of ranges) {
      if (specificity(range, type, subtype) > (match ? specificity(match, type, subtype) : 0)) match = range;
    }
    if (match && match.q > 0 && (!best || match.q > best.q)) best = { type: candidate, q: match.q };
  }
  if (!best) throw notAcceptable(`None of the media types asked for (${accept}) is available here; available: ${offered.join(', ')}`);
  return best.type;
}
