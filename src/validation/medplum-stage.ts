/**
 * Stage 2: @medplum/core's validator against the base definition or a profile. Structure,
 * cardinality, fixed/pattern values, top-level slices and constraint expressions.
 *
 * Two things make it fit:
 * - Speed. `validateResource(r, { profile })` re-parses the profile on every call (~590 µs). We
 *   parse each profile once and register the parsed schema in Medplum's type table under a key of
 *   our own; `validateTypedValue` with that key as the type then validates against the cached
 *   schema. (Registered with kind "profile" so it never shows up as a resource type.)
 * - What it can parse and apply. Medplum attaches a slice nested inside another slice to the outer one, so
 *   the schema it gets leaves nested slices out (stage 3 checks them), and leaves out the data-type
 *   children a snapshot unfolds without constraining, which would only be validated twice.
 */
import {
  getAllDataTypes,
  OperationOutcomeError,
  parseStructureDefinition,
  validateResource,
  validateTypedValue,
} from '@medplum/core';
import type { ElementDefinition, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { issue } from '../fhir/outcome';

const KEY_PREFIX = 'MTMProfile|';

const isBackbone = (ed: ElementDefinition | undefined): boolean =>
  !ed?.type || ed.type.some((t) => t.code === 'BackboneElement' || t.code === 'Element');

/** The snapshot elements Medplum should see (see the module comment). */
export function medplumElements(sd: StructureDefinition): ElementDefinition[] {
  const elements = sd.snapshot?.element ?? [];
  const constrained = new Set((sd.differential?.element ?? []).map((e) => e.id));
  const byId = new Map(elements.map((e) => [e.id as string, e]));
  return elements.filter((ed, i) => {
    const id = ed.id as string;
    if (i === 0) return true;
    const slices = id.split(':').length - 1;
    if (slices >= 2) return false;
    if (slices === 1 || constrained.has(id)) return true;
    const segments = id.split('.');
    for (let k = 2; k < segments.length; k++) {
      if (!isBackbone(byId.get(segments.slice(0, k).join('.')))) return false;
    }
    return true;
  });
}

/** Medplum's issues in our shape: diagnostics from details.text, one issue per location and message. */
export function normalise(raw: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const result: OperationOutcomeIssue[] = [];
  const characterErrors = new Set<string>();
  for (const i of raw) {
    const text = i.details?.text ?? i.diagnostics ?? 'Invalid';
    const expression = i.expression?.[0];
    // A string given where an object belongs comes back as one error per character: ".0", ".1", ...
    const perCharacter = expression && /^Invalid additional property "\d+"$/.test(text) ? /^(.*)\.\d+$/.exec(expression) : null;
    if (perCharacter) {
      if (!characterErrors.has(perCharacter[1])) {
        characterErrors.add(perCharacter[1]);
        result.push(issue(i.severity, 'structure', 'Expected an object, but found a string', perCharacter[1]));
      }
      continue;
    }
    result.push(issue(i.severity, i.code, text, expression));
  }
  return result;
}

export class MedplumStage {
  private readonly keys = new Map<string, string>();

  /** Parse a profile once and register it; cheap to call again. */
  register(sd: StructureDefinition): void {
    const url = sd.url as string;
    if (this.keys.has(url)) return;
    const schema = parseStructureDefinition({ ...sd, snapshot: { element: medplumElements(sd) } });
    // Medplum's crawler looks up a backbone type among the innerTypes of the schema it is in, and
    // only the root has any: without this, a profile's constraints on a backbone inside a backbone
    // (CarePlan.activity.detail.description) would silently fall back to the base definition.
    for (const inner of schema.innerTypes) inner.innerTypes = schema.innerTypes;
    const key = KEY_PREFIX + url;
    getAllDataTypes()[key] = { ...schema, kind: 'profile' };
    this.keys.set(url, key);
  }

  /** The key under which a registered profile's parsed schema sits in Medplum's type table. */
  schemaKey(profileUrl: string): string | undefined {
    return this.keys.get(profileUrl);
  }

  /** Issues against the base definition, or against a registered profile. Never throws. */
  validate(resource: Resource, profileUrl?: string): OperationOutcomeIssue[] {
    try {
      if (!profileUrl) return normalise(validateResource(resource));
      const key = this.keys.get(profileUrl);
      if (!key) throw new Error(`Profile ${profileUrl} is not registered`);
      return normalise(validateTypedValue({ type: key, value: resource }));
    } catch (error) {
      if (error instanceof OperationOutcomeError) return normalise(error.outcome.issue ?? []);
      return [issue('error', 'exception', `The validator could not process this resource: ${(error as Error).message}`)];
    }
  }
}
