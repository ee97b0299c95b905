/** Response format negotiation: `_format`, `Accept` and `_pretty`. JSON only, for now. */
import { notAcceptable } from '../fhir/outcome';

export interface ResponseFormat {
  contentType: string;
  pretty: boolean;
}

const JSON_FORMATS: Record<string, string> = {
  json: 'application/fhir+json',
  'application/json': 'application/json',
  'application/fhir+json': 'application/fhir+json',
  'application/json+fhir': 'application/fhir+json',
};

export function negotiate(format: string | undefined, accept: string | undefined, pretty: string | undefined): ResponseFormat {
  const prettyPrint = pretty === 'true';
  if (format !== undefined) {
    const contentType = JSON_FORMATS[format.trim().toLowerCase()];
    if (!contentType) throw notAcceptable(`_format=${format} is not supported: this server returns FHIR JSON only`);
    return { contentType, pretty: prettyPrint };
  }
  if (!accept) return { contentType: 'application/fhir+json', pretty: prettyPrint };
  const types = accept.split(',').map((t) => t.split(';')[0].trim().toLowerCase());
  if (types.some((t) => t === 'application/json')) return { contentType: 'application/json', pretty: prettyPrint };
  if (types.some((t) => t.includes('json') || t === '*/*' || t === 'application/*')) {
    return { contentType: 'application/fhir+json', pretty: prettyPrint };
  }
  if (types.some((t) => t.includes('xml'))) {
    throw notAcceptable('XML is not supported: this server returns FHIR JSON only (application/fhir+json)');
  }
  // text/html and the like: a browser; JSON is still the best answer we have.
  return { contentType: 'application/fhir+json', pretty: prettyPrint };
}
