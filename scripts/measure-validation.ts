/**
 * Full-pipeline validations per second for a typical MTM MedicationStatement (examples/mtm), in
 * one process: `npx tsx scripts/measure-validation.ts [runs] [validations-per-run]`.
 * Prints start-up time, each run, and the median; the peer figure is Medplum's validateResource
 * with the profile passed (and so re-parsed) on every call, measured in the same process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { createResourceValidator } from '../src/validation';

const runs = Number(process.argv[2] ?? 7);
const perRun = Number(process.argv[3] ?? 5000);
const root = path.resolve(__dirname, '..');
const resource = JSON.parse(fs.readFileSync(path.join(root, 'examples/mtm/medication-statement.json'), 'utf8')) as Resource;
const profile = JSON.parse(
  fs.readFileSync(path.join(root, 'profiles/StructureDefinition-mtm-medication-statement.json'), 'utf8'),
) as StructureDefinition;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function rate(n: number, fn: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

const started = process.hrtime.bigint();
const validator = createResourceValidator({ lenientUnknownProfiles: false });
const startupMs = Number(process.hrtime.bigint() - started) / 1e6;
const check = validator.validate(resource);
if (!check.valid) throw new Error(`the example is not valid: ${JSON.stringify(check.issues)}`);

rate(1000, () => validator.validate(resource)); // warm-up for the JIT
const ours: number[] = [];
for (let r = 0; r < runs; r++) ours.push(rate(perRun, () => validator.validate(resource)));

// Medplum drops what it cannot parse; to measure its speed only, give it the profile anyway.
const reparse = (): void => {
  try {
    validateResource(resource, { profile });
  } catch (e) {
    if (!(e instanceof OperationOutcomeError)) throw e;
  }
};
const peer: number[] = [];
for (let r = 0; r < Math.min(runs, 3); r++) peer.push(rate(Math.max(200, perRun / 10), reparse));

console.log(`validator start-up (base definitions, profiles, terminology, ajv for the MTM types): ${startupMs.toFixed(0)} ms`);
console.log(`full pipeline, MTM MedicationStatement: runs ${ours.map((x) => x.toFixed(0)).join(', ')} /s`);
console.log(`median: ${median(ours).toFixed(0)} validations/s (${(1e6 / median(ours)).toFixed(0)} µs each)`);
console.log(`peer, Medplum validateResource re-parsing the profile per call: median ${median(peer).toFixed(0)} /s`);
console.log(`ratio: ${(median(ours) / median(peer)).toFixed(1)}x`);
