/** Subscriptions and matching resources for the rest-hook tests. */
import type { List, Subscription } from '@medplum/fhirtypes';
import { testConfig, type ServerConfig } from '../../src/config';
import { FHIR_JSON, type TestServer } from '../helpers/test-server';

export const DISCHARGE_LIST = 'http://loinc.org|10183-2';

/** A test server's Subscription settings: a receiver on 127.0.0.1 over http, fast retries. */
export function subscriptionSettings(overrides: Partial<ServerConfig['subscriptions']> = {}): ServerConfig['subscriptions'] {
  return { ...testConfig().subscriptions, allowPrivate: true, maxAttempts: 3, retryBaseMs: 1, retryMaxMs: 4, ...overrides };
}

export function subscription(criteria: string, endpoint: string, channel: Partial<Subscription['channel']> = {}): Subscription {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Tell the EHR when the review is done',
    criteria,
    channel: { type: 'rest-hook', endpoint, ...channel },
  };
}

export function dischargeList(patient: string, title = 'Hospital discharge medications'): List {
  return {
    resourceType: 'List',
    status: 'current',
    mode: 'snapshot',
    title,
    code: { coding: [{ system: 'http://loinc.org', code: '10183-2', display: 'Hospital discharge medications Narrative' }] },
    subject: { reference: `Patient/${patient}` },
    date: '2026-11-20T11:30:00-06:00',
    source: { reference: 'Practitioner/dr-patel' },
  };
}

export function personalList(patient: string): List {
  return { ...dischargeList(patient, 'Personal Medication List'), code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'CURMEDLIST' }] } };
}

/** Tests read arbitrary parts of FHIR JSON answers: the shape is asserted, not typed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export async function post(t: TestServer, path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await t.api().post(`${t.base}/${path}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
  return { status: res.status, body: res.body };
}

export async function put(t: TestServer, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  let req = t.api().put(`${t.base}/${path}`).set('Content-Type', FHIR_JSON);
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  const res = await req.send(JSON.stringify(body));
  return { status: res.status, body: res.body };
}

/** Reads the Subscription until `done` holds (the deliveries update it in the background). */
export async function subscriptionWhen(t: TestServer, id: string, done: (s: Subscription) => boolean): Promise<Subscription> {
  for (;;) {
    const res = await t.api().get(`${t.base}/Subscription/${id}`);
    if (done(res.body as Subscription)) return res.body as Subscription;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
