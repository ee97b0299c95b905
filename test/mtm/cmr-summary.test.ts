import assert from 'node:assert/strict';
import type { Binary, DocumentReference, MedicationStatement, Task } from '@medplum/fhirtypes';
import { loadAccessScenario, security } from '../auth/access-fixture';
import { clientFor } from '../auth/client';
import { createResource, FHIR_JSON, startTestServer, type TestServer } from '../helpers/test-server';
import {
  assertInOrder,
  exampleCmrBundle,
  headings,
  htmlText,
  loadExampleCmr,
  type LoadedCmr,
  openDeliveryTask,
  pdfText,
  read,
  summaryHtml,
  summaryPdf,
  TASK_TYPE_SYSTEM,
} from './summary-fixture';

/** The example CMR's medicines as the patient reads them: name, how, why (examples/cmr). */
const MEDICINES: Array<[string, string, string]> = [
  ['lisinopril 10 mg Oral Tablet', 'Take 1 tablet (10 mg) by mouth once daily.', 'Hypertensive disorder, systemic arterial'],
  ['metoprolol tartrate 25 mg Oral Tablet', 'Take 1 tablet (25 mg) by mouth twice daily.', 'Heart failure'],
  ['furosemide 20 mg Oral Tablet', 'Take 2 tablets (40 mg) by mouth every morning.', 'Heart failure'],
  ['atorvastatin 40 mg Oral Tablet', 'Take 1 tablet (40 mg) by mouth at bedtime.', 'Hyperlipidemia'],
  ['sertraline 50 mg Oral Tablet', 'Take 1 tablet (50 mg) by mouth once daily.', 'Depressive disorder'],
  ['warfarin sodium 5 mg Oral Tablet', 'Take 1 tablet (5 mg) by mouth every evening, or as directed by the anticoagulation clinic.', 'Atrial fibrillation'],
  ['clopidogrel 75 mg Oral Tablet', 'Take 1 tablet (75 mg) by mouth once daily.', 'Coronary arteriosclerosis'],
  ['spironolactone 25 mg Oral Tablet', 'Take 1 tablet (25 mg) by mouth once daily.', 'Heart failure'],
  ['acetaminophen 500 mg Oral Tablet', 'Take 1 tablet (500 mg) by mouth every 6 hours if needed for joint pain', 'Osteoarthritis'],
];

const ACTION_ITEMS: Array<[string, string]> = [
  ['Bleeding risk from warfarin with clopidogrel', 'Ask Dr. Alvarez at your heart doctor visit on December 9 whether you still need clopidogrel together with warfarin.'],
  ['Water pill on days out', 'Take your water pill (furosemide) every morning, even on days you go out.'],
];

const MAP_HEADING = 'Medication Action Plan for Margaret Holloway, DOB: April 17, 1953';
const PML_HEADING = 'Personal Medication List for Margaret Holloway, DOB: April 17, 1953';

/** Everything the format prescribes, in its order: letter, action plan, medication list. */
function expectedSequence(): string[] {
  return [
    'Dear Margaret Holloway:',
    'Thank you for talking with me on December 2, 2026',
    'Sincerely,',
    'Daniel Okafor, PharmD',
    MAP_HEADING,
    'Date prepared: December 2, 2026',
    ...ACTION_ITEMS.flatMap(([talked, todo]) => ['What we talked about', talked, 'What I need to do', todo, 'What I did and when I did it']),
    'My follow-up plan',
    'Questions I want to ask',
    PML_HEADING,
    'Date prepared: December 2, 2026',
    'Allergies or side effects',
    'Ankle swelling with amlodipine',
    ...MEDICINES.flatMap(([name, how, why]) => ['Medicine:', name, 'How I use it:', how, 'Why I use it:', why, 'Prescriber:', 'Date I started:', 'Date I stopped:', 'Why I stopped:']),
    'Other information',
  ];
}

describe('The CMR written summary in the CMS Standardized Format (Task/{id}/$cmr-summary)', () => {
  let t: TestServer;
  let cmr: LoadedCmr;
  before(async () => {
    t = await startTestServer();
    cmr = await loadExampleCmr(t);
  });
  after(async () => t.close());

  describe('as an HTML page', () => {
    let html: string;
    before(async () => {
      html = await summaryHtml(t, cmr.task);
    });

    it('has the cover letter, the Medication Action Plan and the Personal Medication List as headings, in that order', () => {
      const h = headings(html);
      assertInOrder(h.join('\n'), [
        'Cover letter',
        MAP_HEADING,
        'What we talked about',
        'What I need to do',
        'What I did and when I did it',
        'What we talked about',
        'My follow-up plan',
        'Questions I want to ask',
        PML_HEADING,
        'Allergies or side effects',
        `Medicine: ${MEDICINES[0][0]}`,
        `Medicine: ${MEDICINES[8][0]}`,
        'Other information',
      ], 'headings');
      assert.equal(h.filter((x) => x.startsWith('Medicine:')).length, MEDICINES.length, 'one heading per medicine');
      assert.equal(h.filter((x) => x === 'What we talked about').length, ACTION_ITEMS.length, 'one item per action plan activity');
    });

    it('says every field of the format in order, with the patient, each medicine (how and why) and each action item', () => {
      assertInOrder(htmlText(html), expectedSequence(), 'HTML text');
    });

    it('addresses the letter to the patient at her home address', () => {
      assertInOrder(htmlText(html), ['Margaret Holloway', '41 Alder Court', 'Springfield, IL 62704', 'Dear Margaret Holloway:'], 'inside address');
    });

    it('is an accessible page: a language, a title, one h1, and a print stylesheet that starts each part on a new page', () => {
      assert.match(html, /^<!DOCTYPE html>\n<html lang="en-US">/);
      assert.match(html, /<title>Your medication review summary: Margaret Holloway<\/title>/);
      assert.equal((html.match(/<h1[ >]/g) ?? []).length, 1);
      assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
      assert.match(html, /@media print \{[\s\S]*break-before: page/);
    });

    it('leaves the prescriber blank when none is recorded, rather than naming someone', () => {
      // The example's medicines were reported by the patient: no MedicationRequest, no prescriber.
      const prescribers = [...html.matchAll(/<dt>Prescriber:<\/dt><dd>([\s\S]*?)<\/dd>/g)].map((m) => m[1]);
      assert.equal(prescribers.length, MEDICINES.length);
      for (const dd of prescribers) assert.match(dd, /^<span class="blank"><span class="sr-only">Blank: write it in<\/span><\/span>$/);
    });

    it('escapes recorded text, so markup in the data is shown as text and never runs', async () => {
      const bundle = exampleCmrBundle('escape');
      const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as { name: Array<{ given: string[] }> };
      patient.name[0].given = ['<script>alert(1)</script>Rosa'];
      const other = await loadExampleCmr(t, bundle);
      const page = await summaryHtml(t, other.task);
      assert.ok(!page.includes('<script>'), 'no script element comes from the data');
      assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;Rosa Holloway'));
    });
  });

  describe('as a PDF made in-process', () => {
    let pdf: Buffer;
    let text: string;
    before(async () => {
      pdf = await summaryPdf(t, cmr.task);
      text = (await pdfText(pdf)).replace(/\s+/g, ' ');
    });

    it('is a PDF document', () => {
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.match(pdf.subarray(-8).toString('latin1'), /%%EOF\s*$/);
    });

    it('says every field of the format in order, with the patient, each medicine (how and why) and each action item', () => {
      assertInOrder(text, expectedSequence(), 'PDF text');
    });

    it('starts the Medication Action Plan and the Personal Medication List on pages of their own, numbered', async () => {
      const pages = (await pdfText(pdf)).split(/-- \d+ of \d+ --/).map((p) => p.replace(/\s+/g, ' ').trim());
      const pageOf = (needle: string) => pages.findIndex((p) => p.includes(needle));
      assert.equal(pageOf('Dear Margaret Holloway'), 0);
      assert.ok(pageOf(MAP_HEADING) > 0 && pages[pageOf(MAP_HEADING)].startsWith(MAP_HEADING), 'the action plan opens its page');
      assert.ok(pages[pageOf(PML_HEADING)].startsWith(PML_HEADING), 'the medication list opens its page');
      const total = pages.filter((p) => p.length > 0).length;
      assert.ok(pages[0].includes(`Page 1 of ${total}`));
    });
  });

  describe('answers by the Accept header', () => {
    it('gives FHIR clients the PDF as a Binary', async () => {
      const res = await t.api().get(`${t.base}/Task/${cmr.task}/$cmr-summary`).set('Accept', FHIR_JSON);
      assert.equal(res.status, 200);
      const binary = res.body as Binary;
      assert.equal(binary.resourceType, 'Binary');
      assert.equal(binary.contentType, 'application/pdf');
      assertInOrder((await pdfText(Buffer.from(binary.data as string, 'base64'))).replace(/\s+/g, ' '), [MAP_HEADING, PML_HEADING], 'Binary PDF');
    });

    it('prefers what the client weights higher (a browser gets HTML)', async () => {
      const res = await t.api().get(`${t.base}/Task/${cmr.task}/$cmr-summary`).set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'], /^text\/html/);
    });

    it('is 406 with an OperationOutcome for a media type it cannot make', async () => {
      const res = await t.api().get(`${t.base}/Task/${cmr.task}/$cmr-summary`).set('Accept', 'image/png');
      assert.equal(res.status, 406);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    });
  });

  describe('refuses what it cannot summarise', () => {
    it('is 409 for a CMR that is not completed', async () => {
      const task = await read<Task>(t, `Task/${cmr.task}`);
      const { id: _id, meta: _meta, ...copy } = task;
      const open = await createResource<Task>(t, { ...copy, status: 'in-progress', identifier: undefined });
      const res = await t.api().get(`${t.base}/Task/${open.id}/$cmr-summary`).set('Accept', 'text/html');
      assert.equal(res.status, 409);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match(res.body.issue[0].diagnostics, /in-progress/);
    });

    it('is 404 for a Task that does not exist', async () => {
      const res = await t.api().get(`${t.base}/Task/no-such-task/$cmr-summary`).set('Accept', 'application/pdf');
      assert.equal(res.status, 404);
      assert.equal(res.body.resourceType, 'OperationOutcome');
    });
  });

  describe('missing data shows as blanks, never invented', () => {
    it('leaves the start date blank when none is recorded, and names the prescriber of record when there is one', async () => {
      const prescriber = await createResource(t, { resourceType: 'Practitioner', name: [{ family: 'Alvarez', given: ['Elena'], suffix: ['MD'] }] });
      const statement = await read<MedicationStatement>(t, `MedicationStatement/${cmr.statements[6]}`); // clopidogrel
      const request = await createResource(t, {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: statement.medicationCodeableConcept,
        subject: { reference: `Patient/${cmr.patient}` },
        requester: { reference: `Practitioner/${prescriber.id}` },
      });
      // Taken, but since when is unknown: the profile wants effectivePeriod, which says so.
      const unknown = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };
      const updated = { ...statement, basedOn: [{ reference: `MedicationRequest/${request.id}` }], effectivePeriod: unknown };
      const put = await t.api().put(`${t.base}/MedicationStatement/${statement.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(updated));
      assert.equal(put.status, 200, JSON.stringify(put.body));

      const html = await summaryHtml(t, cmr.task);
      const box = html.slice(html.indexOf('clopidogrel 75 mg Oral Tablet'), html.indexOf('spironolactone 25 mg Oral Tablet'));
      assert.match(box, /<dt>Prescriber:<\/dt><dd>Elena Alvarez, MD<\/dd>/);
      assert.match(box, /<dt>Date I started:<\/dt><dd><span class="blank">/);
      const text = (await pdfText(await summaryPdf(t, cmr.task))).replace(/\s+/g, ' ');
      const pdfBox = text.slice(text.indexOf('clopidogrel 75 mg Oral Tablet'), text.indexOf('spironolactone 25 mg Oral Tablet'));
      assert.match(pdfBox, /Prescriber: Elena Alvarez, MD/);
      assert.match(pdfBox, /Date I started: Date I stopped: Why I stopped:/, 'the dates are write-in lines, no text');
    });
  });
});

describe('Filing the written summary (persist=true)', () => {
  let t: TestServer;
  let cmr: LoadedCmr;
  before(async () => {
    t = await startTestServer();
    cmr = await loadExampleCmr(t);
  });
  after(async () => t.close());

  const persist = () => t.api().post(`${t.base}/Task/${cmr.task}/$cmr-summary?persist=true`).set('Accept', FHIR_JSON);

  it('stores the PDF as a DocumentReference with its Binary, links it from the CMR and completes the delivery Task with the date sent', async () => {
    const delivery = await openDeliveryTask(t, cmr);
    const res = await persist();
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const document = res.body as DocumentReference;
    assert.equal(document.resourceType, 'DocumentReference');
    assert.match(res.headers.location, new RegExp(`/DocumentReference/${document.id}/_history/1$`));
    assert.equal(document.status, 'current');
    assert.equal(document.subject?.reference, `Patient/${cmr.patient}`);
    assert.deepEqual(document.context?.related, [{ reference: `Task/${cmr.task}` }]);
    const attachment = document.content[0].attachment;
    assert.equal(attachment.contentType, 'application/pdf');

    const binary = await read<Binary>(t, attachment.url as string);
    const pdf = Buffer.from(binary.data as string, 'base64');
    assert.equal(pdf.length, attachment.size);
    assertInOrder((await pdfText(pdf)).replace(/\s+/g, ' '), ['Dear Margaret Holloway:', MAP_HEADING, PML_HEADING], 'stored PDF');

    const task = await read<Task>(t, `Task/${cmr.task}`);
    const summaryOutput = task.output?.filter((o) => o.type?.coding?.[0].code === 'summary-document');
    assert.deepEqual(summaryOutput?.map((o) => o.valueReference?.reference), [`DocumentReference/${document.id}`]);
    assert.equal(task.output?.length, 3, 'the MAP and PML outputs are kept');

    const delivered = await read<Task>(t, `Task/${delivery.id}`);
    assert.equal(delivered.status, 'completed');
    assert.equal(delivered.executionPeriod?.end, document.date, 'the delivery is dated when the summary was sent');
    assert.ok(delivered.output?.some((o) => o.valueReference?.reference === `DocumentReference/${document.id}`));
  });

  it('filing again replaces the summary: the new one points at the old, which is superseded', async () => {
    const first = (await read<Task>(t, `Task/${cmr.task}`)).output?.find((o) => o.type?.coding?.[0].code === 'summary-document')?.valueReference?.reference;
    const res = await persist();
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const second = res.body as DocumentReference;
    assert.deepEqual(second.relatesTo, [{ code: 'replaces', target: { reference: first } }]);
    assert.equal((await read<DocumentReference>(t, first as string)).status, 'superseded');
    const outputs = (await read<Task>(t, `Task/${cmr.task}`)).output?.filter((o) => o.type?.coding?.[0].code === 'summary-document');
    assert.deepEqual(outputs?.map((o) => o.valueReference?.reference), [`DocumentReference/${second.id}`]);
  });

  it('answers the PDF itself when asked, with Content-Location naming where it was filed', async () => {
    const res = await t.api().post(`${t.base}/Task/${cmr.task}/$cmr-summary?persist=true`).set('Accept', 'application/pdf').responseType('blob');
    assert.equal(res.status, 201);
    assert.equal(res.headers['content-type'], 'application/pdf');
    const filed = await read<DocumentReference>(t, res.headers['content-location'].replace(/^.*\/fhir\//, ''));
    assert.equal(filed.content[0].attachment.size, (res.body as Buffer).length);
  });

  it('opens and completes the delivery Task when the CMR was recorded as already completed and has none', async () => {
    const recorded = await loadExampleCmr(t, exampleCmrBundle('recorded'));
    const deliveryTasks = async () =>
      (await t.api().get(`${t.base}/Task?part-of=Task/${recorded.task}&code=${TASK_TYPE_SYSTEM}|written-summary-delivery`)).body.entry ?? [];
    assert.equal((await deliveryTasks()).length, 0);
    const res = await t.api().post(`${t.base}/Task/${recorded.task}/$cmr-summary?persist=true`).set('Accept', FHIR_JSON);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const [delivery] = await deliveryTasks();
    assert.equal(delivery.resource.status, 'completed');
    assert.equal(delivery.resource.executionPeriod.end, res.body.date);
  });

  it('refuses persist=true on GET (405): GET never changes anything', async () => {
    const res = await t.api().get(`${t.base}/Task/${cmr.task}/$cmr-summary?persist=true`);
    assert.equal(res.status, 405);
    assert.equal(res.body.resourceType, 'OperationOutcome');
  });

  it('refuses a persist value that is not a boolean (400), storing nothing', async () => {
    const before = (await t.api().get(`${t.base}/DocumentReference?_summary=count`)).body.total;
    const res = await t.api().post(`${t.base}/Task/${cmr.task}/$cmr-summary?persist=yes`);
    assert.equal(res.status, 400);
    assert.equal((await t.api().get(`${t.base}/DocumentReference?_summary=count`)).body.total, before);
  });
});

describe('Access to the written summary and the MAP document', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await loadAccessScenario(t);
  });
  after(async () => t.close());

  it('needs read scopes on the review and what it summarises (403 without them)', async () => {
    const taskOnly = clientFor(t, security('task-reader', 'system/Task.rs'));
    const res = await taskOnly.get('Task/task-holloway-cmr/$cmr-summary');
    assert.equal(res.status, 403);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.equal((await taskOnly.get('CarePlan/map-holloway/$document')).status, 403);
  });

  it('needs create scopes to file it (403 with read scopes only), and files nothing', async () => {
    const reader = clientFor(t, security('reader', 'system/*.rs'));
    assert.equal((await reader.get('Task/task-holloway-cmr/$cmr-summary')).status, 200);
    const res = await reader.send('POST', 'Task/task-holloway-cmr/$cmr-summary?persist=true');
    assert.equal(res.status, 403);
    assert.equal((await reader.get('DocumentReference?_summary=count')).body.total, 0);
  });

  it('shows a Group-bound client the reviews of its own members only', async () => {
    const payerA = clientFor(t, security('payer-a', 'system/*.rs', 'payer-a'));
    const own = await payerA.get('Task/task-holloway-cmr/$cmr-summary');
    assert.equal(own.status, 200);
    assert.equal(own.body.securityContext.reference, 'Patient/margaret-holloway');
    const payerB = clientFor(t, security('payer-b', 'system/*.rs', 'payer-b'));
    assert.notEqual((await payerB.get('Task/task-holloway-cmr/$cmr-summary')).status, 200);
    assert.notEqual((await payerB.get('CarePlan/map-holloway/$document')).status, 200);
  });
});
