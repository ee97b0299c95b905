/**
 * What US Core 6.1.0 (profiles/us-core) costs: reading its definitions at start-up, registering
 * each profile on its first claim, and validations per second of a US Core Patient against the
 * same Patient without the claim. One process; run with the GC exposed for honest heap figures:
 *   npx node --expose-gc --import tsx scripts/measure-us-core.ts [runs] [validations-per-run]
 */
import type { Resource } from '@medplum/fhirtypes';
import { usCoreStructureDefinitions, usCoreTerminology } from '../src/conformance/us-core';
import { createResourceValidator } from '../src/validation';

const runs = Number(process.argv[2] ?? 5);
const perRun = Number(process.argv[3] ?? 2000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function cost<T>(fn: () => T): { ms: number; heap: number; rss: number; value: T } {
  gc();
  const before = process.memoryUsage();
  const start = process.hrtime.bigint();
  const value = fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  gc();
  const after = process.memoryUsage();
  return { ms, heap: after.heapUsed - before.heapUsed, rss: after.rss - before.rss, value };
}

function rate(n: number, fn: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

// US Core is read first, from a cold cache, so that the validator's own start-up after it excludes it.
const read = cost(() => {
  const sds = usCoreStructureDefinitions();
  return { profiles: sds.size, terminology: usCoreTerminology().length };
});
const validatorStart = cost(() => createResourceValidator({ lenientUnknownProfiles: true }));
const validator = validatorStart.value;

const profiles = [...usCoreStructureDefinitions().values()].filter((sd) => sd.kind === 'resource');
const firstClaims = cost(() => {
  for (const sd of profiles) validator.validate({ resourceType: sd.type, meta: { profile: [sd.url] } } as Resource);
});

const patient = {
  resourceType: 'Patient',
  meta: { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'] },
  identifier: [{ system: 'http://hospital.example.org/fhir/sid/mrn', value: '1032702' }],
  name: [{ family: 'Shaw', given: ['Amy'] }],
  gender: 'female',
  birthDate: '1987-02-20',
} as Resource;
const { meta: _meta, ...plain } = patient as Resource & { meta: unknown };
if (!validator.validate(patient).valid) throw new Error('the US Core Patient is not valid');

const measure = (resource: Resource): number[] => {
  rate(500, () => validator.validate(resource));
  return Array.from({ length: runs }, () => rate(perRun, () => validator.validate(resource)));
};
const claimed = measure(patient);
const unclaimed = measure(plain as Resource);

console.log(`validator start-up without the US Core read: ${validatorStart.ms.toFixed(0)} ms, heap +${mb(validatorStart.heap)}`);
console.log(`US Core read alone (${read.value.profiles} StructureDefinitions, ${read.value.terminology} ValueSets/CodeSystems): ${read.ms.toFixed(0)} ms, heap +${mb(read.heap)}`);
console.log(`first claim of all ${profiles.length} US Core resource profiles (parse and register): ${firstClaims.ms.toFixed(0)} ms, heap +${mb(firstClaims.heap)}, rss +${mb(firstClaims.rss)}`);
console.log(`Patient claiming us-core-patient: ${claimed.map((x) => x.toFixed(0)).join(', ')} /s, median ${median(claimed).toFixed(0)}`);
console.log(`same Patient, no claim (base only): ${unclaimed.map((x) => x.toFixed(0)).join(', ')} /s, median ${median(unclaimed).toFixed(0)}`);
