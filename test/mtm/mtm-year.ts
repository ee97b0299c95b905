/**
 * A small MTM year (2026) built through the API, for the Part D report and the PQA measure: enrolments,
 * CMRs run through the lifecycle, a summary handed over, a TMR, recommendations and their answers.
 */
import assert from 'node:assert/strict';
import type { CommunicationRequest, EpisodeOfCare, Patient, Practitioner, Task } from '@medplum/fhirtypes';
import { createResource, FHIR_JSON, type TestServer } from '../helpers/test-server';
import { completeCmr, putTask } from './cmr-fixture';

const REVIEW = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type';
const PARAM = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-parameter';
const INTERVENTION = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-intervention';
const OPT_OUT = 'http://mtm-fhir.org/fhir/StructureDefinition/mtm-opt-out-reason';

export interface MtmYear {
  pharmacist: string;
  /** Ann: enrolled 2026-01-15, CMR 2026-03-02 by telephone, summary sent 2026-03-10, one TMR done and one started, 2 recommendations, 1 change. */
  ann: { patient: string; cmr: string; summary: string; tmr: string };
  /** Bob: enrolled 2025-06-01, offered a CMR on 2026-02-01 (started 2026-02-10, never completed), opted out 2026-05-01 (03). */
  bob: { patient: string; offer: string; episode: string };
  /** Cy: enrolled 2026-02-01, a CMR on 2026-04-01 stored (before the profile required it) with no delivery method. */
  cy: { patient: string; cmr: string };
  /** Dee, 17: enrolled 2026-01-10, CMR 2026-05-05. */
  dee: { patient: string; cmr: string };
  /** Eve: enrolled 2026-01-02, in hospice from 2026-02-01, no CMR. */
  eve: { patient: string };
  /** Not in 2026: Fay enrolled only in 2027, Gus opted out in 2025, Hal never enrolled but had a CMR. */
  outside: string[];
}

async function patient(t: TestServer, family: string, birthDate: string, mbi?: string, given = 'Test'): Promise<string> {
  const p = await createResource<Patient>(t, {
    resourceType: 'Patient',
    name: [{ family, given: [given] }],
    birthDate,
    ...(mbi ? { identifier: [{ system: 'http://hl7.org/fhir/sid/us-mbi', value: mbi }] } : {}),
  });
  return `Patient/${p.id}`;
}

async function enrol(t: TestServer, who: string, start: string, end?: string, reason?: string): Promise<string> {
  const e = await createResource<EpisodeOfCare>(t, {
    resourceType: 'EpisodeOfCare',
    status: end ? 'finished' : 'active',
    type: [{ coding: [{ system: 'http://mtm-fhir.org/fhir/CodeSystem/mtm-episode-type', code: 'mtm-program' }] }],
    patient: { reference: who },
    period: { start, ...(end ? { end } : {}) },
    ...(reason ? { extension: [{ url: OPT_OUT, valueCoding: { system: 'http://mtm-fhir.org/fhir/CodeSystem/cms-mtm-opt-out-reason', code: reason } }] } : {}),
  });
  return `EpisodeOfCare/${e.id}`;
}

function cmrFor(who: string, pharmacist: string, authoredOn: string, status: Task['status'] = 'requested'): Task {
  return {
    resourceType: 'Task',
    status,
    intent: 'order',
    code: { coding: [{ system: REVIEW, code: 'cmr' }] },
    for: { reference: who },
    owner: { reference: pharmacist },
    authoredOn,
    input: [
      { type: { coding: [{ system: PARAM, code: 'delivery-method' }] }, valueCodeableConcept: { coding: [{ system: 'http://mtm-fhir.org/fhir/CodeSystem/cms-cmr-delivery-method', code: '02' }] } },
      { type: { coding: [{ system: PARAM, code: 'recipient' }] }, valueReference: { reference: who } },
    ],
  };
}

/** A CMR of `who` completed on `date`, with a MAP and PML to point at (mtm-task-3). */
async function cmrDone(t: TestServer, who: string, pharmacist: string, outputs: Task['output'], date: string): Promise<Task & { id: string }> {
  const offered = await createResource<Task>(t, { ...cmrFor(who, pharmacist, date), output: outputs });
  return completeCmr(t, offered, `${date}T10:00:00Z`, `${date}T10:40:00Z`);
}

async function recommend(t: TestServer, who: string, pharmacist: string, authoredOn: string, answer?: string, change?: string): Promise<void> {
  const issue = await createResource(t, { resourceType: 'DetectedIssue', status: 'final', code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'DRG' }] }, severity: 'high', patient: { reference: who } });
  const request = await createResource<CommunicationRequest>(t, {
    resourceType: 'CommunicationRequest',
    status: 'active',
    category: [{ coding: [{ system: INTERVENTION, code: 'prescriber-recommendation' }] }],
    subject: { reference: who },
    about: [{ reference: `DetectedIssue/${issue.id}` }],
    recipient: [{ reference: pharmacist }],
    authoredOn,
    payload: [{ contentString: 'Stop the interacting medicine' }],
  });
  if (!answer) return;
  await createResource(t, {
    resourceType: 'Communication',
    status: 'completed',
    basedOn: [{ reference: `CommunicationRequest/${request.id}` }],
    category: [{ coding: [{ system: INTERVENTION, code: answer }, ...(change ? [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: change }] : [])] }],
    subject: { reference: who },
    received: authoredOn,
  });
}

export async function buildMtmYear(t: TestServer, outputs: Task['output']): Promise<MtmYear> {
  const pharmacist = `Practitioner/${(await createResource<Practitioner>(t, { resourceType: 'Practitioner', name: [{ family: 'Okafor' }], qualification: [{ code: { text: 'PharmD, licensed pharmacist' } }] })).id}`;

  const annP = await patient(t, 'Ann', '1950-02-03', '1EG4TE5MK73');
  await enrol(t, annP, '2026-01-15');
  const annCmr = await cmrDone(t, annP, pharmacist, outputs, '2026-03-02');
  const summaries = await t.api().get(`${t.base}/Task?part-of=Task/${annCmr.id}`);
  let summary = summaries.body.entry[0].resource as Task & { id: string };
  for (const status of ['accepted', 'in-progress', 'completed'] as const) {
    const res = await putTask(t, summary, { status, executionPeriod: status === 'accepted' ? undefined : { start: '2026-03-10', ...(status === 'completed' ? { end: '2026-03-10' } : {}) } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    summary = res.body;
  }
  const tmrs = await t.api().get(`${t.base}/Task?based-on=Task/${annCmr.id}&code=${encodeURIComponent(`${REVIEW}|tmr`)}&_sort=due`);
  let tmr = tmrs.body.entry[0].resource as Task & { id: string };
  for (const status of ['accepted', 'in-progress', 'completed'] as const) {
    const res = await putTask(t, tmr, { status, executionPeriod: status === 'accepted' ? undefined : { start: '2026-06-01T09:00:00Z' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    tmr = res.body;
  }
  // The second TMR has started but is not done: it does not count.
  let tmr2 = tmrs.body.entry[1].resource as Task & { id: string };
  for (const status of ['accepted', 'in-progress'] as const) {
    const res = await putTask(t, tmr2, { status, executionPeriod: status === 'accepted' ? undefined : { start: '2026-09-01T09:00:00Z' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    tmr2 = res.body;
  }
  await recommend(t, annP, pharmacist, '2026-03-02', 'accepted', '13');
  await recommend(t, annP, pharmacist, '2026-03-03', 'declined');

  const bobP = await patient(t, 'Bob', '1948-07-07');
  const bobEpisode = await enrol(t, bobP, '2025-06-01', '2026-05-01', '03');
  let offer = await createResource<Task>(t, cmrFor(bobP, pharmacist, '2026-02-01'));
  // Bob accepted and the review started, but it was never completed: offered, not received.
  for (const status of ['accepted', 'in-progress'] as const) {
    const res = await putTask(t, offer, { status, executionPeriod: status === 'accepted' ? undefined : { start: '2026-02-10T15:00:00Z' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    offer = res.body;
  }

  const cyP = await patient(t, 'Cy', '1955-01-01', undefined, '=HYPERLINK("http://evil.example")');
  await enrol(t, cyP, '2026-02-01');
  // Stored straight into the repository, as data loaded before the profile required a delivery method would be.
  const legacy = { ...cmrFor(cyP, pharmacist, '2026-03-20', 'completed'), input: [], output: outputs, executionPeriod: { start: '2026-04-01' } };
  const cyCmr = (await t.server.services.repository.create(legacy)).resource;

  const deeP = await patient(t, 'Dee', '2009-06-01');
  await enrol(t, deeP, '2026-01-10');
  const deeCmr = await cmrDone(t, deeP, pharmacist, outputs, '2026-05-05');

  const eveP = await patient(t, 'Eve', '1940-01-01');
  await enrol(t, eveP, '2026-01-02');
  await createResource(t, { resourceType: 'Procedure', status: 'in-progress', code: { coding: [{ system: 'http://snomed.info/sct', code: '385763009' }] }, subject: { reference: eveP }, performedPeriod: { start: '2026-02-01' } });

  const fayP = await patient(t, 'Fay', '1951-01-01');
  await enrol(t, fayP, '2027-01-05');
  const gusP = await patient(t, 'Gus', '1952-01-01');
  await enrol(t, gusP, '2024-01-05', '2025-12-01', '01');
  const halP = await patient(t, 'Hal', '1953-01-01');
  await cmrDone(t, halP, pharmacist, outputs, '2026-07-07');

  return {
    pharmacist,
    ann: { patient: annP, cmr: `Task/${annCmr.id}`, summary: `Task/${summary.id}`, tmr: `Task/${tmr.id}` },
    bob: { patient: bobP, offer: `Task/${offer.id}`, episode: bobEpisode },
    cy: { patient: cyP, cmr: `Task/${cyCmr.id}` },
    dee: { patient: deeP, cmr: `Task/${deeCmr.id}` },
    eve: { patient: eveP },
    outside: [fayP, gusP, halP],
  };
}

export { FHIR_JSON };
