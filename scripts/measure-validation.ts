/**
 * Full-pipeline validations per second for a typical MTM MedicationStatement (examples/mtm), in
 * one process: `npx tsx scripts/measure-validation.ts [runs] [validations-per-run]`.
 * Measures the pipeline with each structural stage, Medplum's generic validator (the reference,
 * and what every write used before the compiled stage) and the compiled one, alternating runs so
 * that both see the same machine load. Prints start-up time, each run, the medians and their
 * ratio; then the peer figure: Medplum's validateResource with the profile passed (and so
 * re-parsed) on every call.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { createResourceValidator } from '../src/validation';
import type { ResourceValidator, StructuralStageName } from '../src/validation';

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

const stages: StructuralStageName[] = ['medplum', 'compiled'];
const validators = new Map<StructuralStageName, ResourceValidator>();
for (const stage of stages) {
  const started = process.hrtime.bigint();
  const validator = createResourceValidator({ lenientUnknownProfiles: false, structuralStage: stage });
  console.log(`validator start-up, ${stage} stage (base definitions, profiles, terminology, ajv for the MTM types): ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms`);
  const check = validator.validate(resource);
  if (!check.valid) throw new Error(`the example is not valid: ${JSON.stringify(check.issues)}`);
  rate(1000, () => validator.validate(resource)); // warm-up for the JIT
  validators.set(stage, validator);
}

const results = new Map<StructuralStageName, number[]>(stages.map((s) => [s, []]));
for (let r = 0; r < runs; r++) {
  for (const stage of stages) {
    const validator = validators.get(stage) as ResourceValidator;
    results.get(stage)?.push(rate(perRun, () => validator.validate(resource)));
  }
}

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

console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`);
for (const stage of stages) {
  const xs = results.get(stage) as number[];
  console.log(`full pipeline, ${stage} stage, MTM MedicationStatement: runs ${xs.map((x) => x.toFixed(0)).join(', ')} /s`);
  console.log(`  median: ${median(xs).toFixed(0)} validations/s (${(1e6 / median(xs)).toFixed(1)} µs each)`);
}
const speedup = median(results.get('compiled') as number[]) / median(results.get('medplum') as number[]);
console.log(`compiled vs medplum stage: ${speedup.toFixed(2)}x per resource`);
console.log(`peer, Medplum validateResource re-parsing the profile per call: median ${median(peer).toFixed(0)} /s`);
console.log(`ratio (compiled pipeline / peer): ${(median(results.get('compiled') as number[]) / median(peer)).toFixed(1)}x`);
