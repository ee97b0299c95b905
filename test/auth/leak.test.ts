/**
 * The leak test (issue 13): a client bound to payer B's Group (Walter Nguyen) probes the other
 * patients (Rosa Álvarez, Margaret Holloway) and the other Groups through every path: reads, search,
 * _include, _revinclude, chains, _has, history, compartment search, batch and every operation. No
 * resource about them may come back, and no reference to them either. The same probes made by a
 * client that is bound to no Group find them, which shows the probes reach the data. Over HTTP,
 * with real tokens from the token endpoint (test/helpers/auth.ts).
 */
import assert from 'node:assert/strict';
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { GROUP_B_PATIENTS, loadAccessScenario, security, touchesOutsider } from './access-fixture';
import { type Answer, type ApiClient, clientFor, resourcesIn } from './http-client';

const MRN = 'http://hospital.example.org/mrn';
const OUTSIDER_IDS = /rosa-alvarez|margaret-holloway|payer-a|other-plan|MRN-1001|MRN-1002/;

const GETS = [
  // reads and vreads
  'Patient/rosa-alvarez', 'Patient/margaret-holloway/_history/1', 'Task/task-rosa-cmr', 'List/list-margaret-holloway', 'Group/payer-a', 'Group/other-plan',
  // search
  'Patient', 'Patient?name=Holloway', `Patient?identifier=${MRN}|MRN-1001`, 'Patient?_id=rosa-alvarez,margaret-holloway', 'Patient?_summary=count',
  'Task', 'Task?patient=Patient/rosa-alvarez', 'MedicationStatement?subject=Patient/margaret-holloway', 'List', 'CarePlan', 'DetectedIssue', 'Observation',
  'Group', 'Group?member=Patient/rosa-alvarez', '?_type=Patient,Task,List,CarePlan,Group', '?_type=Patient&name=Alvarez',
  // _include and _revinclude
  'Task?_include=Task:patient', 'CarePlan?_include=CarePlan:supporting-info', 'List?_include=List:item', 'DetectedIssue?_include=DetectedIssue:implicated',
  'Group?_include=Group:member', 'Task?_include=Task:owner&_revinclude:iterate=Task:owner',
  'Practitioner?_revinclude=Task:owner', 'Practitioner?_revinclude=List:source&_revinclude=CarePlan:author', 'Organization?_revinclude=Patient:organization',
  'Practitioner?_revinclude=Patient:general-practitioner', 'Practitioner?_revinclude=DetectedIssue:author&_include:iterate=DetectedIssue:patient',
  // chains and _has
  'Task?patient.name=Holloway', `MedicationStatement?subject:Patient.identifier=${MRN}|MRN-1001`, 'CarePlan?subject:Patient.name=Rosa',
  'Observation?subject:Patient.name=Alvarez', 'Patient?_has:Task:patient:code=cmr', 'Practitioner?_has:Task:owner:patient=Patient/rosa-alvarez',
  'Organization?_has:Patient:organization:name=Holloway', 'Patient?_has:Group:member:_id=payer-a', 'Practitioner?_has:List:source:subject=Patient/margaret-holloway',
  // history at every level
  '_history?_count=1000', 'Task/_history', 'Patient/_history', 'Group/_history', 'Patient/rosa-alvarez/_history', 'Task/task-rosa-cmr/_history',
  'List/list-margaret-holloway/_history',
  // compartment search
  'Patient/rosa-alvarez/*', 'Patient/rosa-alvarez/Task', 'Patient/margaret-holloway/MedicationStatement', 'Patient/margaret-holloway/*?_include=MedicationStatement:subject',
  // operations by GET
  'List/list-rosa-alvarez/$reconcile?against=List/list-margaret-holloway', 'List/list-walter-nguyen/$reconcile?against=List/list-rosa-alvarez',
  'Patient/rosa-alvarez/$mtm-interventions?periodStart=2000&periodEnd=2100',
  'Task/task-rosa-cmr/$cmr-summary', 'Task/task-holloway-cmr/$cmr-summary', 'CarePlan/map-holloway/$document', 'CarePlan/map-rosa/$document',
];

const smpQuery = (mrn: string): Parameters => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'patient', resource: { resourceType: 'Patient', identifier: [{ system: MRN, value: mrn }] } }],
});

const POSTS: Array<[string, unknown]> = [
  ['$smp-query', smpQuery('MRN-1001')],
  ['$smp-query', smpQuery('MRN-1002')],
  ['Patient/rosa-alvarez/$validate', { resourceType: 'Parameters' }],
  ['List/list-margaret-holloway/$validate', { resourceType: 'Parameters' }],
  ['Task/task-holloway-cmr/$cmr-summary?persist=true', { resourceType: 'Parameters' }],
  ['Patient/_search', 'name=Holloway'],
  ['', { resourceType: 'Bundle', type: 'batch', entry: GETS.slice(0, 30).map((url) => ({ request: { method: 'GET', url } })) }],
];

interface ProbeResult {
  answers: number;
  resources: number;
  outsiders: string[];
  mentions: string[];
}

/** References and values an operation returns in Parameters (beyond whole resources). */
function parameterValues(parameters: ParametersParameter[] | undefined): string[] {
  return (parameters ?? []).flatMap((p) => {
    const { resource: _resource, part, ...value } = p;
    return [JSON.stringify(value), ...parameterValues(part)];
  });
}

async function probe(client: ApiClient): Promise<ProbeResult> {
  const answers: Answer[] = [];
  for (const path of GETS) answers.push(await client.get(path));
  for (const [path, body] of POSTS) {
    const form = typeof body === 'string';
    answers.push(await client.send('POST', path, body, form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}));
  }
  const resources: Resource[] = answers.flatMap((a) => resourcesIn(a.body));
  const parameters = answers.flatMap((a) => resourcesIn({ resourceType: 'Bundle', entry: [{ resource: a.body }] }))
    .filter((r) => r.resourceType === 'Parameters');
  const bodies = answers.map((a) => a.body).filter((b) => b?.resourceType === 'Parameters') as Parameters[];
  const mentions = [...bodies, ...(parameters as Parameters[])].flatMap((p) => parameterValues(p.parameter)).filter((v) => OUTSIDER_IDS.test(v));
  return {
    answers: answers.length,
    resources: resources.length,
    outsiders: resources.filter((r) => touchesOutsider(r, GROUP_B_PATIENTS) || /payer-a|other-plan/.test(r.id ?? '')).map((r) => `${r.resourceType}/${r.id}`),
    mentions,
  };
}

describe('Leak test: a Group-bound client probing other patients through every path', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await loadAccessScenario(t);
  });
  after(async () => t.close());

  it('gets back 0 resources, and 0 references, outside its Group', async () => {
    const result = await probe(clientFor(t, security('payer-b', 'system/*.rs', 'payer-b')));
    assert.deepEqual(result.outsiders, []);
    assert.deepEqual(result.mentions, []);
    assert.ok(result.resources > 20, `the probes return the client's own data (${result.resources} resources)`);
    console.log(`      leak probe: ${GETS.length + POSTS.length} requests (${result.answers} answers), ${result.resources} resources returned, ${result.outsiders.length} outside the Group`);
  });

  it('the same probes by a client bound to no Group do find the other patients', async () => {
    const result = await probe(clientFor(t, security('all-members', 'system/*.rs')));
    assert.ok(result.outsiders.length > 100, `found ${result.outsiders.length}`);
  });
});
