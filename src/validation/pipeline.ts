/**
 * The validation pipeline (DESIGN.md decision 4): structure (ajv) -> base definition or profiles
 * (@medplum/core, parsed profiles cached) -> our own checks (bindings, references, choice types,
 * data-type invariants, slice contents), for the profiles that apply: those in meta.profile, those
 * asked for, and those the per-type rules require.
 */
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { mtmStructureDefinitions, mtmTerminology } from '../conformance';
import { checkJsonRules } from './json-rules';
import { checkNarratives } from './narrative';
import { BindingSlices } from './binding-slices';
import { DefinedExtensions } from './defined-extensions';
import { publishedProfile, specProfiles } from './spec-profiles';
import { usCoreStructureDefinitions, usCoreTerminology } from '../conformance/us-core';
import { coreExtensions } from './core-extensions';
import { checkCoreExtensions } from './extension-checks';
import { checkBundleRules } from './bundle-rules';
import { isKnownResourceType, loadBaseDefinitions } from '../fhir/definitions';
import { hasErrors, issue } from '../fhir/outcome';
import { ElementChecker } from './element-checks';
import type { CompiledConstraint } from './constraints';
import { evaluateConstraints } from './constraints';
import type { ElementNode } from './element-model';
import { rootConstraints, treeFromSnapshot, typeChildren } from './element-model';
import { appendAll, mergeIssues, withoutRepeats } from './issues';
import type { StructuralStage, StructuralStageName } from './compiled-stage';
import { createStructuralStage } from './compiled-stage';
import type { RequiredProfileRule } from './profile-selection';
import { ProfileSelector } from './profile-selection';
import { StructureValidator } from './structure';
import { Terminology } from './terminology';

export interface ValidationOptions {
  profiles?: string[];
  mode?: 'create' | 'update' | 'delete';
}

export interface ValidationResult {
  valid: boolean;
  issues: OperationOutcomeIssue[];
  appliedProfiles: string[];
}

export interface PipelineOptions {
  lenientUnknownProfiles: boolean;
  requiredProfiles: readonly RequiredProfileRule[];
  /** Which stage 2 runs: the compiled one (default) or Medplum's generic validator, the reference it is tested against. */
  structuralStage?: StructuralStageName;
}

interface KnownProfile {
  sd: StructureDefinition;
  type: string;
  tree?: ElementNode[];
  constraints?: CompiledConstraint[];
}

const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

/** The resource types our profiles constrain, compiled by ajv at start instead of on first use. */
const WARM_TYPES = ['MedicationStatement', 'List', 'CarePlan', 'DetectedIssue', 'Task', 'Patient', 'Practitioner', 'Bundle'];

/** Small resources that go through every stage (the MTM profiles, a reference, a Period, a coding). */
const WARM_RESOURCES: Resource[] = [
  {
    resourceType: 'MedicationStatement',
    status: 'active',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '197361' }], text: 'amlodipine' },
    subject: { reference: 'Patient/warm-up' },
    effectivePeriod: { start: '2024-01-01', end: '2024-02-01' },
    dosage: [{ text: 'once daily', timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } } }],
  },
  { resourceType: 'Task', status: 'requested', intent: 'plan', for: { reference: 'Patient/warm-up' } },
  { resourceType: 'List', status: 'current', mode: 'working', subject: { reference: 'Patient/warm-up' }, entry: [{ item: { reference: 'MedicationStatement/warm-up' } }] },
];

export class ValidationPipeline {
  private readonly structure = new StructureValidator();
  private readonly medplum: StructuralStage;
  private readonly terminology: Terminology;
  private readonly profiles = new Map<string, KnownProfile>();
  private readonly selector: ProfileSelector;
  private readonly extensions: DefinedExtensions;
  private readonly bindingSlices: BindingSlices;

  constructor(private readonly options: PipelineOptions) {
    loadBaseDefinitions();
    this.medplum = createStructuralStage(options.structuralStage ?? 'compiled');
    this.extensions = new DefinedExtensions(usCoreStructureDefinitions(), this.medplum);
    for (const sd of mtmStructureDefinitions()) {
      this.profiles.set(sd.url as string, { sd, type: sd.type as string });
      this.medplum.register(sd);
    }
    for (const rule of options.requiredProfiles) {
      if (!this.profiles.has(rule.profile)) throw new Error(`Required profile ${rule.profile} (for ${rule.resourceType}) is not known`);
    }
    this.terminology = new Terminology([...mtmTerminology(), ...usCoreTerminology()]);
    this.selector = new ProfileSelector(options.requiredProfiles, this.terminology);
    this.bindingSlices = new BindingSlices(this.terminology);
  }

  /** Does at start what would otherwise slow down the first requests. */
  warmUp(): void {
    this.terminology.load();
    this.structure.prepare(WARM_TYPES);
    for (const [url, known] of this.profiles) {
      this.tree(url);
      this.constraints(url, known.type);
    }
    for (const type of WARM_TYPES) this.constraints(undefined, type);
    specProfiles(); // read now; each is parsed on its first claim
    usCoreStructureDefinitions();
    coreExtensions(); // the R4 core extensions' rules (~0.3 MB; ~40 ms from the slimmed cache, ~300 ms the first time)
    // A few runs through every stage, so the first requests do not pay for lazy compilation and a cold JIT.
    for (let i = 0; i < 20; i++) for (const resource of WARM_RESOURCES) this.validate(resource);
  }

  /** A profile published with R4 itself (vitalsigns, bp, ...) or by US Core, registered on its first claim. */
  private specProfile(url: string): KnownProfile | undefined {
    const sd = publishedProfile(url);
    if (!sd) return undefined;
    this.medplum.register(sd);
    const known: KnownProfile = { sd, type: sd.type as string };
    this.profiles.set(url, known);
    return known;
  }

  knownProfiles(): string[] {
    return [...this.profiles.keys()];
  }

  private readonly baseConstraints = new Map<string, CompiledConstraint[]>();

  /** The root constraints of a profile (its snapshot holds the base's too) or of a base type. */
  private constraints(url: string | undefined, type: string): CompiledConstraint[] {
    if (url) {
      const known = this.profiles.get(url) as KnownProfile;
      known.constraints ??= rootConstraints(known.sd, type);
      return known.constraints;
    }
    let base = this.baseConstraints.get(type);
    if (!base) {
      base = rootConstraints(undefined, type);
      this.baseConstraints.set(type, base);
    }
    return base;
  }

  private tree(url: string): ElementNode[] {
    const known = this.profiles.get(url) as KnownProfile;
    known.tree ??= treeFromSnapshot(known.sd, (u) => (this.profiles.get(u) ?? publishedProfile(u))?.type);
    return known.tree;
  }

  validate(resource: Resource, options: ValidationOptions = {}): ValidationResult {
    try {
      return this.run(resource, options);
    } catch (error) {
      // A bug here must not take a request down with it: report it as the outcome.
      return { valid: false, issues: [issue('error', 'exception', `Validation failed: ${(error as Error).message}`)], appliedProfiles: [] };
    }
  }

  private run(resource: Resource, options: ValidationOptions): ValidationResult {
    const type = (resource as { resourceType?: unknown } | null)?.resourceType;
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource) || typeof type !== 'string') {
      return fail([issue('error', 'structure', 'This is not a FHIR resource: it has no resourceType')]);
    }
    if (!isKnownResourceType(type)) return fail([issue('error', 'not-supported', `"${type}" is not a FHIR R4 resource type`)]);
    if (options.mode === 'delete') {
      return { valid: true, issues: [issue('information', 'informational', 'No rule prevents deleting this resource')], appliedProfiles: [] };
    }
    const issues: OperationOutcomeIssue[] = [];
    if (options.mode === 'update' && !resource.id) issues.push(issue('error', 'required', 'An update needs the resource id', `${type}.id`));

    // Every stage runs, whatever the structural stage found: a client learns every problem in one answer.
    const placeholders = new Set<string>(); // nulls that hold a place for their _ twin's item: not errors
    const jsonRules = checkJsonRules(resource as unknown as Record<string, unknown>, type, placeholders);
    const structural = this.structure.check(resource).filter((i) => !placeholders.has(i.expression?.[0] ?? ''));
    appendAll(structural, withoutRepeats(jsonRules, structural));
    appendAll(structural, withoutRepeats(checkNarratives(resource as unknown as Record<string, unknown>, type), structural));
    appendAll(structural, withoutRepeats(checkCoreExtensions(resource as unknown as Record<string, unknown>, type), structural));
    appendAll(structural, withoutRepeats(checkBundleRules(resource as unknown as Record<string, unknown>, type), structural));
    const applied = this.selectProfiles(resource, options.profiles ?? [], issues);
    const stage2: OperationOutcomeIssue[] = [];
    const stage3: OperationOutcomeIssue[] = [];
    const narrowed: { expression: string; choice: string }[] = [];
    // A profile's snapshot includes its base, so with profiles the base needs no run of its own.
    for (const url of applied.length ? applied : [undefined]) {
      const medplumIssues = this.medplum.validate(resource, url);
      appendAll(stage2, medplumIssues);
      if (url) appendAll(stage3, this.bindingSlices.check(resource, (this.profiles.get(url) as KnownProfile).sd));
      // Medplum evaluates the root's error constraints and reports the first that fails; only then
      // must the others be evaluated here, so that each failing one is reported.
      const rootFailed = medplumIssues.some((i) => i.code === 'invariant' && i.expression?.[0] === type);
      const constraints = this.constraints(url, type).filter((c) => rootFailed || c.severity === 'warning');
      appendAll(stage3, evaluateConstraints(constraints, resource, type, { resource, rootResource: resource }));
      try {
        const checker = new ElementChecker(this.terminology, resource).check(url ? this.tree(url) : typeChildren(type));
        appendAll(stage3, checker.issues);
        appendAll(narrowed, checker.narrowed);
      } catch (error) {
        // Values of the wrong shape can trip our checks; the structural stage has said what is wrong.
        if (!structural.length) throw error;
      }
    }
    appendAll(stage3, this.extensions.check(resource));
    const later = mergeIssues(stage2, stage3, narrowed);
    const all = [...issues, ...structural, ...withoutRepeats(later, structural)];
    return { valid: !hasErrors(all), issues: all, appliedProfiles: applied };
  }

  private selectProfiles(resource: Resource, requested: string[], issues: OperationOutcomeIssue[]): string[] {
    const applied: string[] = [];
    const listed = resource.meta?.profile;
    if (Array.isArray(listed)) {
      const type = resource.resourceType;
      for (let i = 0; i < listed.length; i++) this.consider(resource, listed[i], `${type}.meta.profile[${i}]`, this.options.lenientUnknownProfiles, applied, issues);
    }
    // A profile asked for explicitly ($validate?profile=) cannot be skipped, lenient or not.
    for (const p of requested) this.consider(resource, p, undefined, false, applied, issues);
    for (const url of this.selector.required(resource)) if (!applied.includes(url)) applied.push(url);
    return applied;
  }

  /** A claimed or requested profile: applied when known and of the resource's type, else an issue. */
  private consider(resource: Resource, raw: unknown, expression: string | undefined, lenient: boolean, applied: string[], issues: OperationOutcomeIssue[]): void {
    if (typeof raw !== 'string') return;
    const type = resource.resourceType;
    const url = raw.includes('|') ? raw.split('|')[0] : raw;
    if (url === `${HL7_SD}${type}`) return;
    const known = this.profiles.get(url) ?? this.specProfile(url);
    if (!known) {
      const text = lenient ? `; the resource was not checked against it` : '';
      issues.push(issue(lenient ? 'warning' : 'error', 'not-supported', `Profile ${raw} is not known to this server${text}`, expression));
    } else if (known.type !== type) {
      issues.push(issue('error', 'invalid', `Profile ${url} constrains ${known.type}, not ${type}`, expression));
    } else if (!applied.includes(url)) {
      applied.push(url);
    }
  }
}

function fail(issues: OperationOutcomeIssue[]): ValidationResult {
  return { valid: false, issues, appliedProfiles: [] };
}
