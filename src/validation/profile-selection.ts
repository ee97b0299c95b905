/**
 * Which MTM profiles a resource must conform to even when meta.profile does not name them: the
 * per-type rules, configurable. A rule applies to every resource of its type, or only to those for
 * which a FHIRPath expression is true, or only to those with a code from a ValueSet at an element.
 */
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import type { Resource } from '@medplum/fhirtypes';
import { CODE_SYSTEM, MAP_CATEGORY_CODE, PROFILE, SYSTEM } from '../conformance/canonical';
import type { Terminology } from './terminology';

export interface RequiredProfileRule {
  resourceType: string;
  profile: string;
  /** FHIRPath on the resource; the rule applies when it yields true. */
  when?: string;
  /** The rule applies when a Coding of this top-level element is in this ValueSet. */
  whenCodedIn?: { element: string; valueSet: string };
}

/**
 * By default: every MedicationStatement and DetectedIssue; a CarePlan with the MAP category; a Task with an MTM review code;
 * an EpisodeOfCare of the MTM program; a List with an MTM list code; a CommunicationRequest or Communication with an MTM
 * intervention category.
 */
export const DEFAULT_REQUIRED_PROFILES: readonly RequiredProfileRule[] = [
  { resourceType: 'MedicationStatement', profile: PROFILE.medicationStatement },
  { resourceType: 'DetectedIssue', profile: PROFILE.detectedIssue },
  {
    resourceType: 'CarePlan',
    profile: PROFILE.medicationActionPlan,
    when: `category.coding.where(system = '${SYSTEM.snomed}' and code = '${MAP_CATEGORY_CODE}').exists()`,
  },
  {
    resourceType: 'Task',
    profile: PROFILE.reviewTask,
    when: `code.coding.where(system = '${CODE_SYSTEM.reviewType}').exists()`,
  },
  {
    resourceType: 'CommunicationRequest',
    profile: PROFILE.prescriberRecommendation,
    when: `category.coding.where(system = '${CODE_SYSTEM.intervention}').exists()`,
  },
  {
    resourceType: 'Communication',
    profile: PROFILE.prescriberResponse,
    when: `category.coding.where(system = '${CODE_SYSTEM.intervention}').exists()`,
  },
  {
    resourceType: 'EpisodeOfCare',
    profile: PROFILE.programEnrolment,
    when: `type.coding.where(system = '${CODE_SYSTEM.episodeType}').exists()`,
  },
  {
    resourceType: 'List',
    profile: PROFILE.medicationList,
    whenCodedIn: { element: 'code', valueSet: 'http://mtm-fhir.org/fhir/ValueSet/mtm-medication-list-type' },
  },
];

type Predicate = (resource: Resource) => boolean;

export class ProfileSelector {
  private readonly byType = new Map<string, { profile: string; applies: Predicate }[]>();

  constructor(rules: readonly RequiredProfileRule[], terminology: Terminology) {
    for (const rule of rules) {
      const list = this.byType.get(rule.resourceType) ?? [];
      list.push({ profile: rule.profile, applies: predicate(rule, terminology) });
      this.byType.set(rule.resourceType, list);
    }
  }

  /** The profiles the rules require of this resource. */
  required(resource: Resource): string[] {
    return (this.byType.get(resource.resourceType) ?? []).filter((r) => r.applies(resource)).map((r) => r.profile);
  }
}

function predicate(rule: RequiredProfileRule, terminology: Terminology): Predicate {
  const checks: Predicate[] = [];
  if (rule.when) {
    const fn = fhirpath.compile(rule.when, r4model);
    checks.push((resource) => {
      try {
        return (fn(resource) as unknown[]).some((v) => v === true);
      } catch {
        return false;
      }
    });
  }
  if (rule.whenCodedIn) {
    const { element, valueSet } = rule.whenCodedIn;
    checks.push((resource) => {
      const vs = terminology.valueSet(valueSet);
      const raw = (resource as unknown as Record<string, unknown>)[element];
      const concepts = (Array.isArray(raw) ? raw : [raw]) as { coding?: { system?: string; code?: string }[] }[];
      return concepts.some((cc) => cc?.coding?.some((c) => typeof c.code === 'string' && (vs?.has(c.system, c.code) ?? false)));
    });
  }
  return (resource) => checks.every((check) => check(resource));
}
