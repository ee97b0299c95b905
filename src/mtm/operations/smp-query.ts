/**
 * $smp-query (HL7 SMP IG): finds the patient by identifier — exactly one match, never a guess —
 * and returns their medication list with its MedicationStatements, the Patient and the
 * practitioners involved, as a collection Bundle.
 */
import type { Bundle, CodeableConcept, List, Patient, Resource } from '@medplum/fhirtypes';
import { badRequest, conflict, notFound, outcome } from '../../fhir/outcome';
import { findMatches } from '../../interactions/conditional';
import { type OperationHandler, parameterValue } from '../../interactions/operations/registry';
import type { RequestContext } from '../../interactions/types';
import { MEDICATION_LIST_TYPES } from '../medication-lists';
import { readMedicationList } from '../reconciliation/medication-list-reader';

export const SMP_QUERY_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/smp-query';
const PRACTITIONER_TYPES = new Set(['Practitioner', 'PractitionerRole']);

async function matchPatient(ctx: RequestContext, patient: Patient): Promise<string> {
  const identifiers = (patient.identifier ?? []).filter((i) => i.system && i.value);
  if (identifiers.length === 0) throw badRequest('The patient parameter needs at least one identifier with system and value', 'patient.identifier');
  const ids = new Set<string>();
  for (const identifier of identifiers) {
    const matches = await findMatches(ctx, 'Patient', [['identifier', `${identifier.system}|${identifier.value}`]], 2);
    for (const match of matches) ids.add(match.id as string);
  }
  if (ids.size === 0) throw notFound('No patient matches the identifiers given');
  if (ids.size > 1) throw conflict(`${ids.size} patients match the identifiers given; refusing to guess which one is meant`);
  return [...ids][0];
}

/** The code criterion: the codes asked for, or, without list-type, any medication list type (the OperationDefinition's promise). */
function listCodes(listType: CodeableConcept | undefined): [string, string] {
  const codings = (listType?.coding ?? []).filter((c) => c.code);
  if (codings.length === 0) return ['code:in', MEDICATION_LIST_TYPES];
  return ['code', codings.map((c) => (c.system ? `${c.system}|${c.code}` : (c.code as string))).join(',')];
}

async function readIfPresent(ctx: RequestContext, reference: string | undefined): Promise<Resource | undefined> {
  const [type, id] = (reference ?? '').split('/');
  if (!type || !id) return undefined;
  try {
    return (await ctx.services.repository.read(type, id)).resource;
  } catch {
    return undefined; // a dangling reference leaves that practitioner out; the list itself is still served
  }
}

export const smpQuery: OperationHandler = {
  code: 'smp-query',
  definition: SMP_QUERY_DEFINITION,
  levels: ['system'],
  allowGet: false,
  scopes: [
    { resourceType: 'List', permission: 's' },
    { resourceType: 'MedicationStatement', permission: 'r' },
  ],
  async invoke({ ctx, parameters }) {
    const patientInput = parameterValue(parameters, 'patient')?.resource as Patient | undefined;
    if (patientInput?.resourceType !== 'Patient') throw badRequest('The patient parameter must carry a Patient resource', 'patient');
    const patientId = await matchPatient(ctx, patientInput);
    const listType = parameterValue(parameters, 'list-type')?.valueCodeableConcept;
    const lists = await findMatches(
      ctx,
      'List',
      [
        ['subject', `Patient/${patientId}`],
        listCodes(listType),
        ['status', 'current'],
      ],
      50,
    );
    const latest = (lists as List[]).sort((a, b) => (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? ''))[0];
    if (!latest?.id) {
      throw notFound(listType ? `Patient/${patientId} has no current medication list of the requested type` : `Patient/${patientId} has no current medication list`);
    }

    const { list, statements } = await readMedicationList(ctx, latest.id);
    const patient = (await ctx.services.repository.read('Patient', patientId)).resource;
    const practitionerRefs = new Set<string>();
    for (const ref of [list.source?.reference, ...statements.map((s) => s.informationSource?.reference)]) {
      if (ref && PRACTITIONER_TYPES.has(ref.split('/')[0])) practitionerRefs.add(ref);
    }
    const practitioners = (await Promise.all([...practitionerRefs].map((r) => readIfPresent(ctx, r)))).filter((r): r is Resource => !!r);
    const resources: Resource[] = [list, ...statements, patient, ...practitioners];
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      timestamp: new Date().toISOString(),
      entry: resources.map((resource) => ({ fullUrl: `${ctx.baseUrl}/${resource.resourceType}/${resource.id}`, resource })),
    };
    const message = `Medication list List/${list.id} with ${statements.length} medication statements for Patient/${patientId}`;
    return {
      status: 200,
      headers: {},
      body: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'smp-medication-data', resource: bundle },
          { name: 'outcome', resource: outcome([{ severity: 'information', code: 'informational', diagnostics: message }]) },
        ],
      },
    };
  },
};
