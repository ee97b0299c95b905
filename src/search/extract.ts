/**
 * Turns the typed nodes a parameter's expression returns into SearchEntry values, by parameter type
 * and by the node's FHIR data type (DESIGN.md decision 3: tokens split into system and code,
 * references into "Type/id", dates into UTC ranges, strings normalised, numbers as numbers).
 */
import type {
  Address,
  CodeableConcept,
  Coding,
  HumanName,
  Identifier,
  Money,
  Period,
  Quantity,
  Range,
  Reference,
  Timing,
} from '@medplum/fhirtypes';
import { parseDateRange, periodRange } from './dates';
import type { FhirNode } from './expressions';
import { normalizeText } from './normalize';
import type { ParamType, SearchEntry } from './types';

/** An entry without its parameter code: the value part, shared with composite components. */
export type EntryValue = Omit<SearchEntry, 'n'>;

const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Duration', 'Distance', 'Count', 'SimpleQuantity', 'MoneyQuantity']);
const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;
const ABSOLUTE_HISTORY = /\/_history\/[^/]+$/;

function text(value: string | undefined): string | undefined {
  const normalized = value === undefined ? undefined : normalizeText(value);
  return normalized ? normalized : undefined;
}

function compact(entry: EntryValue): EntryValue {
  for (const key of Object.keys(entry) as Array<keyof EntryValue>) if (entry[key] === undefined) delete entry[key];
  return entry;
}

/** "Patient/1/_history/2" and "Patient/1" both index as "Patient/1"; absolute URLs keep their base. */
export function normalizeReference(reference: string): string {
  const relative = RELATIVE_REFERENCE.exec(reference);
  if (relative) return `${relative[1]}/${relative[2]}`;
  return reference.replace(ABSOLUTE_HISTORY, '');
}

function codingEntry(coding: Coding): EntryValue {
  return compact({ s: coding.system, k: coding.code, t: text(coding.display) });
}

function tokenValues(node: FhirNode): EntryValue[] {
  const data = node.data;
  if (typeof data === 'boolean') return [{ k: String(data) }];
  if (typeof data === 'string') return [{ k: data }];
  if (typeof data === 'number') return [{ k: String(data) }];
  if (!data || typeof data !== 'object') return [];
  switch (node.fhirNodeDataType) {
    case 'Coding':
      return [codingEntry(data as Coding)];
    case 'CodeableConcept': {
      const concept = data as CodeableConcept;
      const values = (concept.coding ?? []).map(codingEntry);
      if (concept.text) values.push(compact({ t: text(concept.text) }));
      return values;
    }
    case 'Identifier': {
      const identifier = data as Identifier;
      const types = (identifier.type?.coding ?? []).filter((c) => c.code).map((c) => `${c.system ?? ''}|${c.code}`);
      return [compact({ s: identifier.system, k: identifier.value, t: text(identifier.type?.text), y: types.length ? types : undefined })];
    }
    case 'ContactPoint':
      return [compact({ k: (data as { value?: string }).value })];
    default:
      return [];
  }
}

const NAME_PARTS: Array<keyof HumanName> = ['family', 'given', 'prefix', 'suffix', 'text'];
const ADDRESS_PARTS: Array<keyof Address> = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'];

function stringValues(node: FhirNode): EntryValue[] {
  const data = node.data;
  const parts: string[] = [];
  if (typeof data === 'string') parts.push(data);
  else if (data && typeof data === 'object') {
    const keys = node.fhirNodeDataType === 'HumanName' ? NAME_PARTS : node.fhirNodeDataType === 'Address' ? ADDRESS_PARTS : [];
    for (const key of keys) {
      const value = (data as Record<string, unknown>)[key];
      for (const part of Array.isArray(value) ? value : [value]) if (typeof part === 'string') parts.push(part);
    }
  }
  return parts.filter((p) => p.trim()).map((p) => compact({ k: p, t: text(p) }));
}

function referenceValues(node: FhirNode): Array<EntryValue & { identifier?: true }> {
  const data = node.data;
  if (typeof data === 'string') {
    // canonical or uri: a versioned canonical also matches its unversioned url
    const bar = data.indexOf('|');
    return bar > 0 ? [{ k: data }, { k: data.slice(0, bar) }] : [{ k: data }];
  }
  if (!data || typeof data !== 'object' || node.fhirNodeDataType !== 'Reference') return [];
  const reference = data as Reference;
  const values: Array<EntryValue & { identifier?: true }> = [];
  if (reference.reference && !reference.reference.startsWith('#')) values.push({ k: normalizeReference(reference.reference) });
  if (reference.identifier?.value) {
    values.push({ ...compact({ s: reference.identifier.system, k: reference.identifier.value }), identifier: true });
  }
  return values;
}

function dateValues(node: FhirNode): EntryValue[] {
  const data = node.data;
  const ranges = [];
  if (typeof data === 'string') ranges.push(parseDateRange(data));
  else if (data && typeof data === 'object') {
    if (node.fhirNodeDataType === 'Period') ranges.push(periodRange((data as Period).start, (data as Period).end));
    if (node.fhirNodeDataType === 'Timing') {
      const timing = data as Timing;
      for (const event of timing.event ?? []) ranges.push(parseDateRange(event));
      const bounds = timing.repeat?.boundsPeriod;
      if (bounds) ranges.push(periodRange(bounds.start, bounds.end));
    }
  }
  return ranges.filter((r) => r !== undefined).map((r) => ({ lo: r.lo, hi: r.hi }));
}

function numeric(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' || typeof value === 'object' ? Number(String(value)) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function quantityEntry(quantity: Quantity): EntryValue | undefined {
  const v = numeric(quantity.value);
  return v === undefined ? undefined : compact({ v, s: quantity.system, k: quantity.code, u: text(quantity.unit) });
}

function quantityValues(node: FhirNode): EntryValue[] {
  const data = node.data;
  if (!data || typeof data !== 'object') {
    const v = numeric(data);
    return v === undefined ? [] : [{ v }];
  }
  const type = node.fhirNodeDataType ?? '';
  const values: Array<EntryValue | undefined> = [];
  if (QUANTITY_TYPES.has(type)) values.push(quantityEntry(data as Quantity));
  else if (type === 'Money') {
    const money = data as Money;
    const v = numeric(money.value);
    if (v !== undefined) values.push(compact({ v, s: 'urn:iso:std:iso:4217', k: money.currency }));
  } else if (type === 'Range') {
    const range = data as Range;
    if (range.low) values.push(quantityEntry(range.low));
    if (range.high) values.push(quantityEntry(range.high));
  }
  return values.filter((v) => v !== undefined);
}

function numberValues(node: FhirNode): EntryValue[] {
  if (node.data && typeof node.data === 'object' && (QUANTITY_TYPES.has(node.fhirNodeDataType ?? '') || node.fhirNodeDataType === 'Range')) {
    return quantityValues(node).map(({ v }) => ({ v }));
  }
  const v = numeric(node.data);
  return v === undefined ? [] : [{ v }];
}

function uriValues(node: FhirNode): EntryValue[] {
  return typeof node.data === 'string' ? [{ k: node.data }] : [];
}

/** The entries a node gives for a parameter of `type` (composites are assembled by the indexer). */
export function valuesOf(type: ParamType, node: FhirNode): Array<EntryValue & { identifier?: true }> {
  switch (type) {
    case 'token':
      return tokenValues(node);
    case 'string':
      return stringValues(node);
    case 'reference':
      return referenceValues(node);
    case 'date':
      return dateValues(node);
    case 'number':
      return numberValues(node);
    case 'quantity':
      return quantityValues(node);
    case 'uri':
      return uriValues(node);
    default:
      return [];
  }
}
