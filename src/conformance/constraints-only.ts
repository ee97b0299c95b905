/**
 * Conformance resources published by others (US Core), reduced to what validation needs: the
 * constraints. Documentation text (descriptions, definitions, comments, requirements, mappings,
 * examples) and documentation extensions are dropped; cardinality, types, fixed/pattern values,
 * slicing, bindings (strength and ValueSet), invariants, mustSupport and extension contexts stay.
 */
import type {
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  ElementDefinitionBinding,
  ElementDefinitionConstraint,
  StructureDefinition,
  ValueSet,
  ValueSetComposeInclude,
} from '@medplum/fhirtypes';

const FHIR_TYPE = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

/** StructureDefinition fields kept (everything else is documentation or publishing metadata). */
const SD_FIELDS = [
  'resourceType', 'id', 'url', 'version', 'name', 'status', 'fhirVersion', 'kind', 'abstract',
  'context', 'contextInvariant', 'type', 'baseDefinition', 'derivation',
] as const;

/** ElementDefinition fields that are documentation only. */
const ELEMENT_DOCUMENTATION = new Set([
  'extension', 'short', 'definition', 'comment', 'requirements', 'alias', 'mapping', 'example', 'label', 'code',
  'meaningWhenMissing', 'orderMeaning', 'isModifierReason',
]);

function pick<T extends object>(from: T, keys: readonly string[]): Partial<T> {
  const record = from as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of keys) if (record[key] !== undefined) out[key] = record[key];
  return out as Partial<T>;
}

function bindingConstraints(binding: ElementDefinitionBinding): ElementDefinitionBinding {
  return pick(binding, ['strength', 'valueSet']) as ElementDefinitionBinding;
}

function invariant(constraint: ElementDefinitionConstraint): ElementDefinitionConstraint {
  // `human` stays: it is the message a client gets when the invariant fails.
  return pick(constraint, ['key', 'severity', 'human', 'expression', 'source']) as ElementDefinitionConstraint;
}

export function elementConstraints(element: ElementDefinition): ElementDefinition {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(element)) {
    if (ELEMENT_DOCUMENTATION.has(key) || value === undefined) continue;
    if (key === 'binding') out.binding = bindingConstraints(value as ElementDefinitionBinding);
    else if (key === 'constraint') out.constraint = (value as ElementDefinitionConstraint[]).map(invariant);
    else if (key === 'slicing') {
      const { description: _description, ...slicing } = value as Record<string, unknown>;
      out.slicing = slicing;
    } else if (key === 'type') {
      // Type extensions are documentation too (must-support flags, hierarchy), except the FHIR type of a system type.
      out.type = (value as { extension?: { url?: string }[] }[]).map(({ extension, ...t }) => {
        const kept = extension?.filter((x) => x.url === FHIR_TYPE);
        return kept?.length ? { extension: kept, ...t } : t;
      });
    } else out[key] = value;
  }
  return out as unknown as ElementDefinition;
}

/** A StructureDefinition with its constraints only (differential and, when present, snapshot). */
export function structureDefinitionConstraints(sd: StructureDefinition, version: string): StructureDefinition {
  const out = pick(sd, SD_FIELDS) as StructureDefinition;
  out.version ??= version;
  if (sd.differential) out.differential = { element: (sd.differential.element ?? []).map(elementConstraints) };
  if (sd.snapshot) out.snapshot = { element: (sd.snapshot.element ?? []).map(elementConstraints) };
  return out;
}

function includeConstraints(include: ValueSetComposeInclude): ValueSetComposeInclude {
  const out = pick(include, ['system', 'version', 'filter', 'valueSet']) as ValueSetComposeInclude;
  if (include.concept) out.concept = include.concept.map((c) => ({ code: c.code }));
  return out;
}

/** A ValueSet's definition (compose) without names, displays or narrative. */
export function valueSetConstraints(vs: ValueSet, version: string): ValueSet {
  const out = pick(vs, ['resourceType', 'id', 'url', 'version', 'name', 'status']) as ValueSet;
  out.version ??= version;
  if (vs.compose) {
    out.compose = {
      ...pick(vs.compose, ['inactive']),
      include: (vs.compose.include ?? []).map(includeConstraints),
      ...(vs.compose.exclude ? { exclude: vs.compose.exclude.map(includeConstraints) } : {}),
    };
  }
  return out;
}

function conceptCodes(concepts: CodeSystemConcept[]): CodeSystemConcept[] {
  return concepts.map((c) => (c.concept ? { code: c.code, concept: conceptCodes(c.concept) } : { code: c.code }));
}

/** A CodeSystem's codes (and hierarchy) without displays, definitions or narrative. */
export function codeSystemConstraints(cs: CodeSystem, version: string): CodeSystem {
  const out = pick(cs, ['resourceType', 'id', 'url', 'version', 'name', 'status', 'content', 'caseSensitive', 'hierarchyMeaning']) as CodeSystem;
  out.version ??= version;
  if (cs.concept) out.concept = conceptCodes(cs.concept);
  return out;
}
