/**
 * The conformance resources this server publishes: everything in profiles/ (StructureDefinitions
 * with snapshots, ValueSets, CodeSystems, SearchParameters, OperationDefinitions). The server seeds
 * them into storage at start so they can be read and searched by url and name; the validator and
 * the search layer read them from here.
 */
import type { CodeSystem, Resource, SearchParameter, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { jsonFiles, PROFILES_DIR, readJsonFile } from './files';

export { MTM_BASE, PROFILE, CODE_SYSTEM } from './canonical';

let cache: readonly Resource[] | undefined;

function loaded(): readonly Resource[] {
  cache ??= Object.freeze(jsonFiles(PROFILES_DIR).map((file) => readJsonFile<Resource>(file)));
  return cache;
}

/** Every conformance resource in profiles/, as fresh copies the caller may change. */
export function loadConformanceResources(): Resource[] {
  return loaded().map((r) => structuredClone(r));
}

/** Our StructureDefinitions (shared, do not modify). */
export function mtmStructureDefinitions(): readonly StructureDefinition[] {
  return loaded().filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition');
}

/** Our ValueSets and CodeSystems (shared, do not modify). */
export function mtmTerminology(): readonly (ValueSet | CodeSystem)[] {
  return loaded().filter((r): r is ValueSet | CodeSystem => r.resourceType === 'ValueSet' || r.resourceType === 'CodeSystem');
}

/** Our SearchParameters (shared, do not modify). */
export function mtmSearchParameters(): readonly SearchParameter[] {
  return loaded().filter((r): r is SearchParameter => r.resourceType === 'SearchParameter');
}

/** Canonical URL of each MTM profile with the resource type it constrains (for CapabilityStatement.supportedProfile). */
export function mtmProfileTypes(): ReadonlyMap<string, string> {
  return new Map(mtmStructureDefinitions().map((sd) => [sd.url as string, sd.type as string]));
}
