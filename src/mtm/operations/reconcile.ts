/**
 * List/{id}/$reconcile?against=List/{id}: the comparison discharge reconciliation makes, without
 * writing anything. The instance is the new (e.g. discharge) list; `against` is the list we hold.
 */
import type { Parameters } from '@medplum/fhirtypes';
import { badRequest, outcome } from '../../fhir/outcome';
import { type OperationHandler, parameterValue } from '../../interactions/operations/registry';
import { compareMedicationLists } from '../reconciliation/compare';
import { readMedicationList } from '../reconciliation/medication-list-reader';
import { itemParameter, summaryIssue } from '../reconciliation/report';

export const RECONCILE_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/List-reconcile';

export const reconcile: OperationHandler = {
  code: 'reconcile',
  definition: RECONCILE_DEFINITION,
  levels: ['instance'],
  resourceTypes: ['List'],
  allowGet: true,
  scopes: [
    { resourceType: 'List', permission: 'r' },
    { resourceType: 'MedicationStatement', permission: 'r' },
  ],
  async invoke({ ctx, id, parameters }) {
    const against = parameterValue(parameters, 'against');
    const reference = against?.valueReference?.reference ?? against?.valueString;
    const match = /^(?:.*\/)?List\/([A-Za-z0-9\-.]{1,64})$/.exec(reference ?? '');
    if (!match) throw badRequest('The "against" parameter must reference a List, e.g. against=List/123', 'against');
    const submitted = await readMedicationList(ctx, id as string);
    const current = await readMedicationList(ctx, match[1]);
    const items = compareMedicationLists(current.statements, submitted.statements);
    const result: Parameters = {
      resourceType: 'Parameters',
      parameter: [{ name: 'outcome', resource: outcome([summaryIssue(items)]) }, ...items.map(itemParameter)],
    };
    return { status: 200, headers: {}, body: result };
  },
};
