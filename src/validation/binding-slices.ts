/**
 * Slices told apart by a required binding instead of a pattern (US Core's
 * `Condition.category:us-core`, 1..* bound to us-core-problem-or-health-concern): a value belongs
 * to the slice when one of its codes is in the ValueSet, as the IG publisher reads a pattern
 * discriminator on a slice that has only a binding. Medplum's slice counting does not see these, so
 * the cardinality of such slices on the resource's own elements is checked here. A ValueSet we
 * cannot expand checks nothing: we never refuse data for lack of a code system.
 */
import type { ElementDefinition, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { issue } from '../fhir/outcome';
import type { Terminology } from './terminology';

interface BindingSlice {
  element: string;
  sliceName: string;
  min: number;
  max: number;
  valueSet: string;
}

const hasValue = (ed: ElementDefinition): boolean => Object.keys(ed).some((k) => k.startsWith('pattern') || k.startsWith('fixed'));

function bindingSlices(sd: StructureDefinition): BindingSlice[] {
  const elements = sd.snapshot?.element ?? [];
  const byId = new Map(elements.map((e) => [e.id as string, e]));
  const found: BindingSlice[] = [];
  for (const ed of elements) {
    const id = ed.id as string;
    // Only slices of the resource's own elements ("Condition.category:us-core").
    const match = /^[A-Za-z]+\.([A-Za-z]+):([^.:]+)$/.exec(id);
    if (!match || ed.binding?.strength !== 'required' || !ed.binding.valueSet || hasValue(ed)) continue;
    const discriminators = byId.get(id.slice(0, id.lastIndexOf(':')))?.slicing?.discriminator ?? [];
    if (!discriminators.length || !discriminators.every((d) => (d.type === 'pattern' || d.type === 'value') && d.path === '$this')) continue;
    const max = ed.max === undefined || ed.max === '*' ? Infinity : Number(ed.max);
    if ((ed.min ?? 0) === 0 && max === Infinity) continue;
    found.push({ element: match[1], sliceName: match[2], min: ed.min ?? 0, max, valueSet: ed.binding.valueSet });
  }
  return found;
}

export class BindingSlices {
  private readonly byProfile = new Map<string, BindingSlice[]>();

  constructor(private readonly terminology: Terminology) {}

  check(resource: Resource, sd: StructureDefinition): OperationOutcomeIssue[] {
    const url = sd.url as string;
    let slices = this.byProfile.get(url);
    if (!slices) {
      slices = bindingSlices(sd);
      this.byProfile.set(url, slices);
    }
    const issues: OperationOutcomeIssue[] = [];
    for (const slice of slices) {
      const vs = this.terminology.valueSet(slice.valueSet);
      if (!vs) continue;
      const raw = (resource as unknown as Record<string, unknown>)[slice.element];
      const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
      const n = values.filter((v) => {
        const codings = (v as { coding?: unknown } | null)?.coding;
        return Array.isArray(codings) && codings.some((c) => {
          const { system, code } = (c ?? {}) as { system?: unknown; code?: unknown };
          return typeof code === 'string' && vs.has(typeof system === 'string' ? system : undefined, code);
        });
      }).length;
      if (n < slice.min || n > slice.max) {
        const max = Number.isFinite(slice.max) ? slice.max : '*';
        const text = `Incorrect number of values provided for slice '${slice.sliceName}' (codes from ${slice.valueSet.split('|')[0]}): expected ${slice.min}..${max}, but found ${n}`;
        issues.push(issue('error', 'structure', text, `${resource.resourceType}.${slice.element}`));
      }
    }
    return issues;
  }
}
