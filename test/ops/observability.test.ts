/**
 * What the people who run the server see: liveness and readiness, one log line per request that
 * never carries patient data, and Prometheus metrics on their own listener.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { testConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { buildServer, type FhirServer } from '../../src/server';
import { authHeader, tokenFor } from '../helpers/auth';
import type { TestServer } from '../helpers/test-server';

const FHIR_JSON = 'application/fhir+json';

describe('Operating the server: health, request logs and metrics', () => {
  let server: FhirServer;
  let dataDir: string;
  const lines: Array<Record<string, unknown>> = [];

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtm-fhir-ops-'));
    const logger = createLogger('info', { destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    server = await buildServer(testConfig({ dataDir }), logger);
  });

  after(async () => {
    await server.close().catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const api = () => request(server.app);
  const requestLines = () => lines.filter((l) => l.event === 'request');

  it('answers /healthz and /readyz outside the FHIR base, without credentials, with no patient data', async () => {
    const health = await api().get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const ready = await api().get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
    assert.deepEqual(
      (ready.body.checks as Array<{ name: string; ready: boolean }>).map((c) => [c.name, c.ready]),
      [
        ['storage', true],
        ['validation', true],
      ],
    );
  });

  it('logs one line per request with its id, interaction and route template, and no ids or query values', async () => {
    const created = await api()
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Patient', name: [{ family: 'Okonkwo', given: ['Adaeze'] }] });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    lines.length = 0;
    const read = await api().get(`/fhir/Patient/${id}?_elements=name`).set('X-Request-Id', 'trace-42');
    assert.equal(read.status, 200);
    assert.equal(read.headers['x-request-id'], 'trace-42');
    await api().get('/fhir/Patient?family=Okonkwo&birthdate=1950-03-01');

    const [readLine, searchLine] = requestLines();
    assert.equal(readLine.requestId, 'trace-42');
    assert.equal(readLine.interaction, 'read');
    assert.equal(readLine.resourceType, 'Patient');
    assert.equal(readLine.route, '/Patient/{id}');
    assert.equal(readLine.status, 200);
    assert.equal(typeof readLine.durationMs, 'number');
    assert.equal(searchLine.interaction, 'search-type');
    assert.equal(searchLine.route, '/Patient');
    const logged = JSON.stringify(lines);
    for (const secret of [id, 'Okonkwo', '1950-03-01', 'Adaeze']) assert.ok(!logged.includes(secret), `the log carries ${secret}`);
  });

  it('makes up a request id when the caller sends none, or one that is not a plain token', async () => {
    const none = await api().get('/fhir/metadata');
    assert.match(none.headers['x-request-id'], /^[0-9a-f-]{36}$/);
    const hostile = await api().get('/fhir/metadata').set('X-Request-Id', 'a b"<script>');
    assert.match(hostile.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  });

  it('exposes request, validation, storage, process and stored-resource metrics on the metrics app only', async () => {
    const created = await api().post('/fhir/Practitioner').set('Content-Type', FHIR_JSON).send({ resourceType: 'Practitioner', name: [{ family: 'Lee' }] });
    assert.equal(created.status, 201);
    await api().get(`/fhir/Practitioner/${created.body.id}`).expect(200);
    await api().get('/fhir/Practitioner/does-not-exist').expect(404);

    const scraped = await request(server.metricsApp).get('/metrics');
    assert.equal(scraped.status, 200);
    assert.match(scraped.headers['content-type'], /^text\/plain/);
    const text = scraped.text;
    assert.match(text, /fhir_requests_total\{interaction="read",type="Practitioner",status="200"\} 1\n/);
    assert.match(text, /fhir_requests_total\{interaction="read",type="Practitioner",status="404"\} 1\n/);
    assert.match(text, /fhir_requests_total\{interaction="create",type="Practitioner",status="201"\} 1\n/);
    assert.match(text, /fhir_request_duration_seconds_bucket\{le="\+Inf",interaction="read",type="Practitioner"\} 2\n/);
    assert.match(text, /fhir_resources_stored\{type="Practitioner"\} 1\n/);
    assert.match(text, /fhir_validation_duration_seconds_count [1-9]/);
    assert.match(text, /fhir_validation_queue_depth 0\n/);
    assert.match(text, /storage_transaction_duration_seconds_count\{outcome="committed"\} [1-9]/);
    assert.match(text, /nodejs_eventloop_lag_seconds /);
    assert.match(text, /process_resident_memory_bytes /);
    assert.match(text, /nodejs_heap_size_used_bytes /);

    const notOnTheApi = await api().get('/metrics');
    assert.equal(notOnTheApi.status, 404);
  });

  it('names the authenticated client in the request line', async () => {
    const asTestServer: TestServer = { server, api, base: '/fhir', dataDir, close: async () => undefined };
    const token = await tokenFor(asTestServer, { scopes: 'system/Patient.rs', name: 'Sunrise Health Plan' });
    const client = (await server.auth.clients.list()).find((c) => c.name === 'Sunrise Health Plan');
    lines.length = 0;
    assert.equal((await api().get('/fhir/Patient').set(authHeader(token))).status, 200);
    const line = requestLines().find((l) => l.route === '/Patient');
    assert.equal(line?.client, client?._id);
  });

  it('reports not ready, naming storage, once storage can no longer be written', async () => {
    await server.close();
    const ready = await api().get('/readyz');
    assert.equal(ready.status, 503);
    const storage = (ready.body.checks as Array<{ name: string; ready: boolean; detail?: string }>).find((c) => c.name === 'storage');
    assert.equal(storage?.ready, false);
    assert.equal((await api().get('/healthz')).status, 200);
  });
});
