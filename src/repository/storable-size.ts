/**
 * MongoDB stores no document over 16 MiB of BSON (the resource with its search values). Both
 * engines apply the limit, before writing, so that both accept exactly the same data.
 *
 * Computing a document's exact BSON size walks it measuring every string in UTF-8; on validated
 * ingest that was ~9% of the event loop, for documents that are nearly all a few KB. So a cheaper
 * walk first gives an upper bound (3 bytes per UTF-16 unit, 8 per number, every key and element
 * header at its largest), and only a document whose bound passes the limit is measured exactly.
 */
import { BSON } from 'mongodb';
import { payloadTooLarge } from '../fhir/outcome';

export const MAX_DOCUMENT_BSON_BYTES = 16 * 1024 * 1024;

/** Refuses (413) a document MongoDB could not store. */
export function assertStorableSize(doc: { resource?: { resourceType?: string } }): void {
  if (documentBound(doc as Record<string, unknown>) <= MAX_DOCUMENT_BSON_BYTES) return;
  const bytes = BSON.calculateObjectSize(doc as BSON.Document);
  if (bytes > MAX_DOCUMENT_BSON_BYTES) {
    throw payloadTooLarge(
      `The ${doc.resource?.resourceType ?? 'resource'} with its search values takes ${bytes} bytes stored, over the limit of ${MAX_DOCUMENT_BSON_BYTES} (16 MiB)`,
    );
  }
}

/** At least the BSON size of a value (without its element header): never less, often more. */
function valueBound(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 5 + 3 * value.length; // length prefix, UTF-8 (at most 3 bytes per UTF-16 unit), NUL
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'object':
      if (value === null) return 0;
      if (value instanceof Date) return 8;
      return Array.isArray(value) ? arrayBound(value) : documentBound(value as Record<string, unknown>);
    default:
      return 0; // undefined (a null at most), functions (left out)
  }
}

function arrayBound(items: unknown[]): number {
  // An element's key is its index as text: at most as many digits as the largest index.
  const header = 2 + String(items.length).length;
  let bytes = 5;
  for (const item of items) bytes += header + valueBound(item);
  return bytes;
}

function documentBound(doc: Record<string, unknown>): number {
  let bytes = 5;
  for (const key in doc) {
    if (Object.hasOwn(doc, key)) bytes += 2 + 3 * key.length + valueBound(doc[key]);
  }
  return bytes;
}
