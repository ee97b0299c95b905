/**
 * The element tree our own checks (stage 3) walk: built from a profile's snapshot, or from
 * @medplum/core's parsed base schema for base types and for every data type a snapshot does not
 * unfold. Nodes carry just what stage 3 needs: cardinality, types with reference targets, required
 * bindings, fixed/pattern values and slicing.
 */
import { tryGetDataType } from '@medplum/core';
import type { InternalSchemaElement } from '@medplum/core';
import type { ElementDefinition, ElementDefinitionConstraint, StructureDefinition } from '@medplum/fhirtypes';
import type { CompiledConstraint } from './constraints';
import { compileConstraints } from './constraints';

export interface TypeRef {
  code: string;
  /** Resource types a Reference may point at; undefined means any. */
  targets?: string[];
}

export interface Discriminator {
  type: string;
  path: string;
}

export interface ElementNode {
  /** Last path segment, e.g. "status" or "effective[x]". */
  name: string;
  min: number;
  max: number;
  types: TypeRef[];
  requiredValueSet?: string;
  fixed?: unknown;
  pattern?: unknown;
  /** Children from a snapshot; when absent, the children are those of the node's type. */
  children?: ElementNode[];
  discriminators?: Discriminator[];
  slices?: ElementNode[];
  sliceName?: string;
  /** Inside a slice: Medplum does not look here, so cardinality, fixed and pattern are ours to check. */
  inSlice: boolean;
  /** Constraints a profile added on this element (Medplum reports only the first failing one, and no warnings). */
  constraints?: CompiledConstraint[];
}

const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';
const FHIRPATH_TYPE = 'http://hl7.org/fhirpath/System.';

export const PRIMITIVE_TYPES = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer',
  'integer64', 'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'xhtml',
]);

/** Type names that can end a choice element's JSON name (R4 open types). */
export const CHOICE_TYPE_NAMES = new Set(
  [
    ...PRIMITIVE_TYPES,
    'Address', 'Age', 'Annotation', 'Attachment', 'CodeableConcept', 'Coding', 'ContactPoint', 'Count', 'Distance',
    'Duration', 'HumanName', 'Identifier', 'Money', 'Period', 'Quantity', 'Range', 'Ratio', 'Reference',
    'SampledData', 'Signature', 'Timing', 'ContactDetail', 'Contributor', 'DataRequirement', 'Expression',
    'ParameterDefinition', 'RelatedArtifact', 'TriggerDefinition', 'UsageContext', 'Dosage', 'Meta',
  ].map((t) => t[0].toUpperCase() + t.slice(1)),
);

export const isPrimitive = (code: string): boolean => PRIMITIVE_TYPES.has(code) || code.startsWith(FHIRPATH_TYPE);

export type ProfileTypeLookup = (url: string) => string | undefined;

function targetsOf(profiles: string[] | undefined, profileType: ProfileTypeLookup): string[] | undefined {
  if (!profiles?.length) return undefined;
  const types: string[] = [];
  for (const url of profiles) {
    const type = url.startsWith(HL7_SD) ? url.slice(HL7_SD.length) : profileType(url);
    // Resource, or a profile we cannot map to a type: any target will do.
    if (!type || type === 'Resource' || type === 'DomainResource') return undefined;
    types.push(type);
  }
  return types;
}

const cardinality = (max: string | undefined): number => (max === undefined || max === '*' ? Infinity : Number(max));

function valueOf(ed: ElementDefinition, prefix: 'fixed' | 'pattern'): unknown {
  const record = ed as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) if (key.startsWith(prefix)) return record[key];
  return undefined;
}

const HL7_DEFINITION = 'http://hl7.org/fhir/StructureDefinition/';

/** The constraints a profile (not the R4 base or a data type) put on an element. */
function profileAdded(constraints: ElementDefinitionConstraint[] | undefined): ElementDefinitionConstraint[] {
  return (constraints ?? []).filter((c) => c.source !== undefined && !c.source.startsWith(HL7_DEFINITION));
}

/** The root constraints of a profile (all of them: base and added), or of a base type; compiled. */
export function rootConstraints(sd: StructureDefinition | undefined, type: string): CompiledConstraint[] {
  if (sd) return compileConstraints(type, sd.snapshot?.element?.[0]?.constraint);
  const schema = tryGetDataType(type);
  return compileConstraints(
    type,
    (schema?.constraints ?? []).map((c) => ({ key: c.key, severity: c.severity, human: c.description, expression: c.expression, source: `${HL7_DEFINITION}${type}` })),
  );
}

/** The element tree of a profile, from its complete snapshot. */
export function treeFromSnapshot(sd: StructureDefinition, profileType: ProfileTypeLookup): ElementNode[] {
  const elements = sd.snapshot?.element ?? [];
  const byId = new Map<string, ElementNode>();
  const roots: ElementNode[] = [];
  for (const ed of elements.slice(1)) {
    const id = ed.id as string;
    const lastDot = id.lastIndexOf('.');
    const segment = id.slice(lastDot + 1);
    const colon = segment.indexOf(':');
    const parentId = id.slice(0, lastDot);
    const parent = byId.get(parentId);
    const inSlice = !!ed.sliceName || (parent?.inSlice ?? false);
    const node: ElementNode = {
      name: colon >= 0 ? segment.slice(0, colon) : segment,
      min: ed.min ?? 0,
      max: cardinality(ed.max),
      types: (ed.type ?? []).map((t) => ({
        code: t.code as string,
        targets: t.code === 'Reference' ? targetsOf(t.targetProfile, profileType) : undefined,
      })),
      requiredValueSet: ed.binding?.strength === 'required' ? ed.binding.valueSet : undefined,
      fixed: valueOf(ed, 'fixed'),
      pattern: valueOf(ed, 'pattern'),
      discriminators: ed.slicing?.discriminator?.map((d) => ({ type: d.type as string, path: d.path as string })),
      sliceName: ed.sliceName,
      inSlice,
    };
    const own = compileConstraints(ed.path ?? id, profileAdded(ed.constraint));
    if (own.length) node.constraints = own;
    byId.set(id, node);
    if (colon >= 0) {
      const sliced = byId.get(id.slice(0, lastDot + 1 + colon));
      if (sliced) (sliced.slices ??= []).push(node);
    } else if (parent) {
      (parent.children ??= []).push(node);
    } else {
      roots.push(node);
    }
    if (ed.contentReference && !ed.type) {
      // Same children as the element it refers to (e.g. Questionnaire.item.item).
      const target = byId.get(ed.contentReference.slice(ed.contentReference.indexOf('#') + 1));
      if (target) {
        node.types = target.types;
        node.children = target.children;
      }
    }
  }
  return roots;
}

function nodeFromSchema(key: string, element: InternalSchemaElement): ElementNode {
  return {
    name: key,
    min: element.min,
    max: element.max,
    types: element.type.map((t) => ({
      code: t.code,
      targets: t.code === 'Reference' ? targetsOf(t.targetProfile, () => undefined) : undefined,
    })),
    requiredValueSet: element.binding?.strength === 'required' ? element.binding.valueSet : undefined,
    inSlice: false,
  };
}

const typeTrees = new Map<string, ElementNode[]>();

/** The children of a base type (resource, data type or Medplum-named backbone type). */
export function typeChildren(code: string): ElementNode[] {
  let nodes = typeTrees.get(code);
  if (!nodes) {
    const schema = tryGetDataType(code);
    nodes = schema ? Object.entries(schema.elements).map(([key, element]) => nodeFromSchema(key, element)) : [];
    typeTrees.set(code, nodes);
  }
  return nodes;
}

/** Error-severity invariants on the root of a data type (per-1, qty-3, ...), which Medplum never evaluates. */
export function typeInvariants(code: string): { key: string; human: string; expression: string }[] {
  const schema = tryGetDataType(code);
  // Only data types: constraints of backbone types are element constraints, which Medplum does check.
  if (schema?.kind !== 'complex-type') return [];
  return (schema.constraints ?? [])
    .filter((c) => c.severity === 'error' && c.key !== 'ele-1')
    .map((c) => ({ key: c.key, human: c.description, expression: c.expression }));
}
