/**
 * The example CMR (examples/cmr/completed-cmr.bundle.json) loaded through the API, and helpers to
 * read the written summary the way a client does: the HTML page, the PDF and the PDF's text.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, Resource, Task } from '@medplum/fhirtypes';
import { PDFParse } from 'pdf-parse';
import { createResource, FHIR_JSON, type TestServer } from '../helpers/test-server';

export const TASK_TYPE_SYSTEM = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-task-type';

export interface LoadedCmr {
  task: string;
  patient: string;
  carePlan: string;
  list: string;
  practitioner: string;
  /** MedicationStatement ids in the order the example lists them. */
  statements: string[];
}

/** The example CMR; with `copy`, a copy whose conditional creates match nothing already loaded. */
export function exampleCmrBundle(copy?: string): Bundle {
  const bundle = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../examples/cmr/completed-cmr.bundle.json'), 'utf8')) as Bundle;
  if (copy) {
    for (const entry of bundle.entry ?? []) {
      if (entry.request?.ifNoneExist) entry.request.ifNoneExist = entry.request.ifNoneExist.replace(/\|(.*)$/, `|$1-${copy}`);
      const identifier = (entry.resource as { identifier?: Array<{ value?: string }> }).identifier?.[0];
      if (identifier?.value) identifier.value = `${identifier.value}-${copy}`;
    }
  }
  return bundle;
}

/** Posts a transaction and returns the id given to each entry, in order. */
export async function postTransaction(t: TestServer, bundle: Bundle): Promise<Array<{ type: string; id: string }>> {
  const res = await t.api().post(t.base).set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as Bundle).entry!.map((e) => {
    // Location: [base/]Type/id/_history/n
    const [type, id] = (e.response?.location as string).split('/').slice(-4);
    return { type, id };
  });
}

export async function loadExampleCmr(t: TestServer, bundle: Bundle = exampleCmrBundle()): Promise<LoadedCmr> {
  const ids = await postTransaction(t, bundle);
  const first = (type: string) => ids.find((e) => e.type === type)?.id as string;
  return {
    task: first('Task'),
    patient: first('Patient'),
    carePlan: first('CarePlan'),
    list: first('List'),
    practitioner: first('Practitioner'),
    statements: ids.filter((e) => e.type === 'MedicationStatement').map((e) => e.id),
  };
}

/** The CMR's "deliver the written summary" Task, shaped as the review lifecycle opens it. */
export async function openDeliveryTask(t: TestServer, cmr: LoadedCmr): Promise<Task & { id: string }> {
  return createResource<Task>(t, {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: TASK_TYPE_SYSTEM, code: 'written-summary-delivery', display: 'Deliver the CMR written summary' }] },
    partOf: [{ reference: `Task/${cmr.task}` }],
    for: { reference: `Patient/${cmr.patient}` },
    restriction: { period: { end: '2026-12-16' } },
  });
}

export async function summaryHtml(t: TestServer, taskId: string): Promise<string> {
  const res = await t.api().get(`${t.base}/Task/${taskId}/$cmr-summary`).set('Accept', 'text/html');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^text\/html; charset=utf-8/);
  return res.text;
}

export async function summaryPdf(t: TestServer, taskId: string): Promise<Buffer> {
  const res = await t.api().get(`${t.base}/Task/${taskId}/$cmr-summary`).set('Accept', 'application/pdf').responseType('blob');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/pdf');
  return res.body as Buffer;
}

/** The PDF's text as a reader's copy-and-paste gives it, pages joined in order. */
export async function pdfText(pdf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(pdf) });
  try {
    return (await parser.getText()).text.replace(/[ \t]+/g, ' ');
  } finally {
    await parser.destroy();
  }
}

/** The text of each h1-h3 heading, in document order, tags removed and entities decoded. */
export function headings(html: string): string[] {
  return [...html.matchAll(/<h([1-3])[^>]*>([\s\S]*?)<\/h\1>/g)].map((m) => decode(m[2].replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim());
}

export function decode(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The visible text of an HTML page, one space between words. */
export function htmlText(html: string): string {
  return decode(html.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ');
}

/** Asserts the needles appear in `text` in this order. */
export function assertInOrder(text: string, needles: string[], what: string): void {
  let at = -1;
  for (const needle of needles) {
    const found = text.indexOf(needle, at + 1);
    assert.ok(found > at, `${what}: "${needle}" should come after what precedes it (found at ${found}, previous at ${at})`);
    at = found;
  }
}

export async function read<T extends Resource>(t: TestServer, reference: string): Promise<T> {
  const res = await t.api().get(`${t.base}/${reference}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as T;
}
