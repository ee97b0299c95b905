/**
 * Regenerates the published StructureDefinitions (with snapshots) from the differentials in
 * profiles/src. `npm run profiles` writes them; the reproducibility test compares them.
 */
import path from 'node:path';
import type { StructureDefinition } from '@medplum/fhirtypes';
import { baseStructureDefinitions } from './base-structure-definitions';
import { jsonFiles, PROFILE_SOURCES_DIR, PROFILES_DIR, readJsonFile, serialise } from './files';
import { generateSnapshot } from './snapshot';

export interface GeneratedFile {
  file: string;
  content: string;
}

export function generateProfileFiles(): GeneratedFile[] {
  const sources = jsonFiles(PROFILE_SOURCES_DIR).map((file) => readJsonFile<StructureDefinition>(file));
  const ours = new Map(sources.map((sd) => [sd.url as string, sd]));
  const base = baseStructureDefinitions();
  const generated = new Map<string, StructureDefinition>();
  const resolve = (url: string): StructureDefinition | undefined => {
    if (generated.has(url)) return generated.get(url);
    const own = ours.get(url);
    // A profile on one of our profiles needs that profile's snapshot first.
    if (own) return build(own);
    return base.get(url);
  };
  const build = (sd: StructureDefinition): StructureDefinition => {
    const result = generateSnapshot(sd, { resolve });
    generated.set(sd.url as string, result);
    return result;
  };
  return sources.map((sd) => ({
    file: path.join(PROFILES_DIR, `StructureDefinition-${sd.id}.json`),
    content: serialise(generated.get(sd.url as string) ?? build(sd)),
  }));
}
