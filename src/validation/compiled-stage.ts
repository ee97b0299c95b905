/**
 * Stage 2, compiled: the same structural checks as MedplumStage (structure, cardinality, fixed and
 * pattern values, slices, element and root constraints), run by the closures compiled-structure.ts
 * builds once per type schema instead of Medplum's generic walk. Profiles are parsed and registered
 * exactly as for MedplumStage, so both read the same schemas; which one the pipeline runs is
 * configuration (`structuralStage`), and a differential test holds them to the same errors.
 */
import * as medplum from '@medplum/core';
import type { InternalTypeSchema, TypedValue } from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { issue } from '../fhir/outcome';
import type { Run } from './compiled-constraints';
import { checkConstraints, compiledRootConstraints } from './compiled-constraints';
import { compiledType } from './compiled-structure';
import { MedplumStage, normalise } from './medplum-stage';

// Bound once: a named import from @medplum/core is read through its bundle's re-export getters on every call.
const { createStructureIssue, getDataType, OperationOutcomeError, toTypedValue } = medplum;

/** The structural stage's contract, met by Medplum's validator and by the compiled one. */
export interface StructuralStage {
  register(sd: StructureDefinition): void;
  validate(resource: Resource, profileUrl?: string): OperationOutcomeIssue[];
}

export type StructuralStageName = 'medplum' | 'compiled';

export function createStructuralStage(name: StructuralStageName): StructuralStage {
  return name === 'medplum' ? new MedplumStage() : new CompiledStage();
}

export class CompiledStage implements StructuralStage {
  /** Registration (parse once, put in Medplum's type table) is shared with the reference stage. */
  private readonly registry = new MedplumStage();

  register(sd: StructureDefinition): void {
    this.registry.register(sd);
  }

  /** Issues against the base definition, or against a registered profile. Never throws. */
  validate(resource: Resource, profileUrl?: string): OperationOutcomeIssue[] {
    try {
      let root: TypedValue;
      if (profileUrl) {
        const key = this.registry.schemaKey(profileUrl);
        if (!key) throw new Error(`Profile ${profileUrl} is not registered`);
        root = { type: key, value: resource };
      } else {
        root = toTypedValue(resource);
      }
      return normalise(run(root, getDataType(root.type)));
    } catch (error) {
      if (error instanceof OperationOutcomeError) return normalise(error.outcome.issue ?? []);
      return [issue('error', 'exception', `The validator could not process this resource: ${(error as Error).message}`)];
    }
  }
}

function run(root: TypedValue, schema: InternalTypeSchema): OperationOutcomeIssue[] {
  const state: Run = { issues: [], resources: [], rootResource: undefined };
  if (isResourceValue(root.value)) {
    state.resources.push(root.value as Resource);
    state.rootResource = root;
  }
  nullsIn(root.value as Record<string, unknown>, schema.path, state.issues);
  const start = { type: root.type, value: root.value, path: schema.path };
  checkConstraints(compiledRootConstraints(schema), start, state);
  compiledType(schema, root.type).validateObject(start, schema.path, state);
  if (state.issues.some((i) => i.severity === 'error')) throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: state.issues });
  return state.issues;
}

const isResourceValue = (value: unknown): boolean => !!value && typeof value === 'object' && 'resourceType' in value;

/** null anywhere, except a null in a primitive array whose `_x` twin extends that position. */
function nullsIn(obj: Record<string, unknown>, path: string, issues: OperationOutcomeIssue[]): void {
  // for-in over own keys: Object.keys' keys in its order, without its array; paths and twins built only where needed.
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    const value = obj[key];
    if (value === null) {
      issues.push(createStructureIssue(`${path}.${key}`, 'Invalid null value'));
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (item === undefined) {
          issues.push(createStructureIssue(`${path}.${key}[${i}]`, 'Invalid undefined value'));
        } else if (item === null) {
          const twin = obj[key.startsWith('_') ? key.slice(1) : `_${key}`] as unknown[] | undefined;
          if (!twin?.[i]) issues.push(createStructureIssue(`${path}.${key}[${i}]`, 'Invalid null value'));
        } else if (typeof item === 'object') {
          nullsIn(item as Record<string, unknown>, `${path}.${key}[${i}]`, issues);
        }
      }
    } else if (typeof value === 'object') {
      nullsIn(value as Record<string, unknown>, `${path}.${key}`, issues);
    }
  }
}
