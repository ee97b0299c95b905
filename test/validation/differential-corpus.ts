/**
 * The inputs the compiled structural stage is held to Medplum's on: every example resource (and
 * every resource inside an example Bundle), every invalid variant of examples/invalid/variants.json,
 * the SMP example fixtures, and a corpus generated from all of those by systematic mutation: at
 * every element, drop it, give it the wrong JSON type, a bad code or date, null, an empty or blank
 * string, one value too many or an array where one value belongs; add an unknown property to every
 * object. Deterministic: the same inputs every run.
 */
import type { Operation } from 'fast-json-patch';
import { applyPatch } from 'fast-json-patch';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { exampleFiles, readExample } from '../examples/example-files';
import { usCoreResources } from '../fixtures/us-core-resources';
import { smpDetectedIssue, smpMedicationActionPlan, smpMedicationLists, smpMedicationStatements, smpTransactionBundle } from '../fixtures/smp-examples';

export interface CorpusItem {
  name: string;
  resource: Resource;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const INTERVENTION = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-intervention';

/** Valid resources of the MTM profiles no example file covers (as the MTM tests write them). */
const uncovered: Record<string, Resource> = {
  'prescriber-recommendation': {
    resourceType: 'CommunicationRequest',
    status: 'active',
    category: [{ coding: [{ system: INTERVENTION, code: 'prescriber-recommendation' }] }],
    subject: { reference: 'Patient/p1' },
    about: [{ reference: 'DetectedIssue/d1' }],
    recipient: [{ reference: 'Practitioner/prescriber' }],
    requester: { reference: 'Practitioner/pharmacist' },
    authoredOn: '2026-02-02',
    payload: [{ contentString: 'Please consider stopping phenelzine.' }],
  },
  'prescriber-response': {
    resourceType: 'Communication',
    status: 'completed',
    basedOn: [{ reference: 'CommunicationRequest/r1' }],
    category: [{ coding: [{ system: INTERVENTION, code: 'accepted' }, { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'DISCONT' }] }],
    subject: { reference: 'Patient/p1' },
    sender: { reference: 'Practitioner/prescriber' },
    received: '2026-12-04T09:30:00-06:00',
  },
  'program-enrolment': {
    resourceType: 'EpisodeOfCare',
    status: 'finished',
    type: [{ coding: [{ system: 'http://mtm-fhir.org/fhir/CodeSystem/mtm-episode-type', code: 'mtm-program' }] }],
    patient: { reference: 'Patient/p1' },
    period: { start: '2026-01-01', end: '2026-06-30' },
    extension: [
      {
        url: 'http://mtm-fhir.org/fhir/StructureDefinition/mtm-opt-out-reason',
        valueCoding: { system: 'http://mtm-fhir.org/fhir/CodeSystem/cms-mtm-opt-out-reason', code: '01' },
      },
    ],
  },
};


/** The valid resources: the examples, each entry of the example Bundles, the SMP fixtures, the uncovered MTM profiles, US Core. */
export function baseResources(): CorpusItem[] {
  const items: CorpusItem[] = Object.entries(uncovered).map(([name, resource]) => ({ name: `mtm:${name}`, resource }));
  for (const [name, resource] of Object.entries(usCoreResources)) items.push({ name: `us-core:${name}`, resource: resource as Resource });
  for (const file of exampleFiles()) {
    const resource = readExample(file);
    items.push({ name: file, resource });
    if (resource.resourceType === 'Bundle') {
      (resource as Bundle).entry?.forEach((e, i) => {
        if (e.resource) items.push({ name: `${file}#entry${i}`, resource: e.resource });
      });
    }
  }
  const smp: Record<string, Resource> = { ...smpMedicationStatements, ...smpMedicationLists, 'smp-detected-issue': smpDetectedIssue, 'smp-map': smpMedicationActionPlan };
  for (const [name, resource] of Object.entries(smp)) items.push({ name: `smp:${name}`, resource });
  const bundle = smpTransactionBundle('Patient/smp-example', 'Practitioner/smp-example');
  items.push({ name: 'smp:transaction', resource: bundle });
  bundle.entry?.forEach((e, i) => {
    if (e.resource) items.push({ name: `smp:transaction#entry${i}`, resource: e.resource });
  });
  return items;
}

interface Variant {
  name: string;
  base: string;
  patch: Operation[];
}

/** examples/invalid/variants.json, applied to their bases. */
export function invalidVariants(): CorpusItem[] {
  const { variants } = readExample<{ variants: Variant[] }>('invalid/variants.json');
  return variants.map((v) => ({
    name: `variant:${v.name}`,
    resource: applyPatch(readExample(v.base), v.patch, true, false).newDocument as Resource,
  }));
}

/** Every (path, value) in the JSON, parents before children. */
function locations(value: Json, path: (string | number)[] = []): { path: (string | number)[]; value: Json }[] {
  const found = [{ path, value }];
  if (Array.isArray(value)) value.forEach((v, i) => found.push(...locations(v, [...path, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) found.push(...locations(v, [...path, k]));
  return found;
}

function replaced(root: Json, path: (string | number)[], next: Json | undefined): Json {
  const copy = clone(root);
  let parent = copy as Record<string | number, Json>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (next === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    parent[last] = next;
  }
  return copy;
}

/** The mutations of one value: a wrong JSON type, a bad code/date, null, blank, cardinality. */
function mutationsOf(value: Json, key: string | number): { kind: string; next: Json }[] {
  const out: { kind: string; next: Json }[] = [{ kind: 'null', next: null }];
  if (typeof value === 'string') {
    out.push({ kind: 'number-for-string', next: 42 }, { kind: 'blank', next: '   ' }, { kind: 'empty', next: '' });
    if (/^\d{4}-\d{2}-\d{2}/.test(value)) out.push({ kind: 'impossible-date', next: '2023-02-30' }, { kind: 'bad-date', next: '12/02/2026' });
    if (key === 'code' || key === 'status' || key === 'intent' || key === 'mode' || key === 'priority') out.push({ kind: 'bad-code', next: 'bogus-code' });
    if (key === 'reference') out.push({ kind: 'wrong-target', next: 'Group/g1' }, { kind: 'contained-target', next: '#missing' });
    if (key === 'system' || key === 'url') out.push({ kind: 'space-in-uri', next: 'http://a b' });
    out.push({ kind: 'array-for-single', next: [value] });
  } else if (typeof value === 'number') {
    out.push({ kind: 'string-for-number', next: String(value) }, { kind: 'fraction', next: value + 0.5 }, { kind: 'negative', next: -1 });
  } else if (typeof value === 'boolean') {
    out.push({ kind: 'string-for-boolean', next: String(value) });
  } else if (Array.isArray(value)) {
    out.push({ kind: 'empty-array', next: [] }, { kind: 'one-too-many', next: [...value, ...value] });
    if (value.length) out.push({ kind: 'single-for-array', next: value[0] });
  } else if (value && typeof value === 'object') {
    out.push(
      { kind: 'string-for-object', next: 'text' },
      { kind: 'empty-object', next: {} },
      { kind: 'extra-property', next: { ...value, bogusProperty: 'x' } },
      { kind: 'array-for-single', next: [value] },
    );
  }
  return out;
}

/** Systematic mutations of each base resource; at most `perBase` per resource (spread over all its elements). */
export function mutatedResources(bases: CorpusItem[], perBase = 400): CorpusItem[] {
  const items: CorpusItem[] = [];
  for (const base of bases) {
    const root = base.resource as unknown as Json;
    const mine: CorpusItem[] = [];
    for (const { path, value } of locations(root)) {
      if (path.length === 0) continue;
      const key = path[path.length - 1];
      if (key === 'resourceType') continue;
      const where = path.join('.');
      mine.push({ name: `${base.name}: drop ${where}`, resource: replaced(root, path, undefined) as unknown as Resource });
      for (const m of mutationsOf(value, key)) {
        mine.push({ name: `${base.name}: ${m.kind} at ${where}`, resource: replaced(root, path, m.next) as unknown as Resource });
      }
    }
    // Spread evenly when a large resource (a Bundle) has more than perBase mutations.
    const step = Math.max(1, Math.ceil(mine.length / perBase));
    for (let i = 0; i < mine.length; i += step) items.push(mine[i]);
  }
  return items;
}

const EXTENSION = { extension: [{ url: 'http://example.org/fhir/StructureDefinition/note', valueString: 'x' }] };

/**
 * Primitive values with extensions (FHIR JSON's `_x` twins), at most `perBase` per resource: beside
 * the value, instead of it, and for an array of primitives a twin array extending its first item
 * (with a null placeholder for the others).
 */
export function primitiveExtensions(bases: CorpusItem[], perBase = 30): CorpusItem[] {
  const items: CorpusItem[] = [];
  for (const base of bases) {
    const root = base.resource as unknown as Json;
    const mine: CorpusItem[] = [];
    for (const { path, value } of locations(root)) {
      const key = path[path.length - 1];
      if (typeof key !== 'string' || key === 'resourceType' || key.startsWith('_') || value === null) continue;
      const parentPath = path.slice(0, -1);
      const with_ = (next: Record<string, Json>): Resource => replaced(root, parentPath, next) as unknown as Resource;
      const parent = parentPath.reduce<Json>((v, step) => (v as Record<string | number, Json>)[step], root) as Record<string, Json>;
      const where = path.join('.');
      if (typeof value !== 'object') {
        mine.push({ name: `${base.name}: extension beside ${where}`, resource: with_({ ...parent, [`_${key}`]: EXTENSION }) });
        const { [key]: _dropped, ...rest } = parent;
        mine.push({ name: `${base.name}: extension instead of ${where}`, resource: with_({ ...rest, [`_${key}`]: EXTENSION }) });
      } else if (Array.isArray(value) && value.length && value.every((v) => typeof v !== 'object')) {
        mine.push({ name: `${base.name}: extension of ${where}[0]`, resource: with_({ ...parent, [`_${key}`]: value.map((_, i) => (i === 0 ? EXTENSION : null)) }) });
      }
    }
    const step = Math.max(1, Math.ceil(mine.length / perBase));
    for (let i = 0; i < mine.length; i += step) items.push(mine[i]);
  }
  return items;
}
