/**
 * Starts the real application on a real engine for supertest: the embedded engine in a fresh
 * temporary directory, or, when MONGODB_URI is set, MongoDB with a fresh database dropped at close.
 * Every test server gets its own store, so tests never see each other's data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { type ServerConfig, testConfig } from '../../src/config';
import { buildServer, type FhirServer } from '../../src/server';
import { dropDatabase, freshDatabaseName, TEST_MONGODB_URI } from './mongodb';

export interface TestServer {
  server: FhirServer;
  /** supertest agent bound to the app; paths are relative to the FHIR base, e.g. api().get('/fhir/Patient'). */
  api: () => ReturnType<typeof request>;
  base: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-fhir-test-'));
  const mongo = TEST_MONGODB_URI && !overrides.dataDir ? { mongodbUri: TEST_MONGODB_URI, mongodbDatabase: freshDatabaseName('mtm_test') } : {};
  const config = testConfig({ dataDir, ...mongo, ...overrides });
  const server = await buildServer(config);
  return {
    server,
    api: () => request(server.app),
    base: config.basePath,
    dataDir,
    async close() {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (config.mongodbUri) await dropDatabase(config.mongodbUri, config.mongodbDatabase);
    },
  };
}

export const FHIR_JSON = 'application/fhir+json';

/** Creates a resource through the API and returns what the server stored. */
export async function createResource<T extends Resource>(t: TestServer, resource: T): Promise<T & { id: string }> {
  const res = await t.api().post(`${t.base}/${resource.resourceType}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(resource));
  if (res.status !== 201) throw new Error(`create ${resource.resourceType} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T & { id: string };
}
