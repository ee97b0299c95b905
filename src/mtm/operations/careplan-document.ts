/** CarePlan/{id}/$document: the Medication Action Plan as a FHIR document Bundle (see map-document.ts). */
import type { CarePlan } from '@medplum/fhirtypes';
import { unprocessable } from '../../fhir/outcome';
import type { OperationHandler } from '../../interactions/operations/registry';
import { medicationActionPlanDocument } from '../documents/map-document';
import { readTarget } from '../documents/references';

export const CAREPLAN_DOCUMENT_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/CarePlan-document';
const MEDICATION_MANAGEMENT_PLAN = '736378000';

export const carePlanDocument: OperationHandler = {
  code: 'document',
  definition: CAREPLAN_DOCUMENT_DEFINITION,
  levels: ['instance'],
  resourceTypes: ['CarePlan'],
  allowGet: true,
  scopes: [
    { resourceType: 'CarePlan', permission: 'r' },
    { resourceType: 'Patient', permission: 'r' },
    { resourceType: 'DetectedIssue', permission: 'r' },
  ],
  async invoke({ ctx, id }) {
    const plan = await readTarget<CarePlan>(ctx, 'CarePlan', id as string);
    if (!plan.category?.some((c) => c.coding?.some((k) => k.system === 'http://snomed.info/sct' && k.code === MEDICATION_MANAGEMENT_PLAN))) {
      throw unprocessable(`CarePlan/${id} is not a Medication Action Plan (category SNOMED CT ${MEDICATION_MANAGEMENT_PLAN})`, 'CarePlan.category');
    }
    return { status: 200, headers: {}, body: await medicationActionPlanDocument(ctx, plan) };
  },
};
