/**
 * GET [base]/SearchParameter/[id]/$reindex-status: whether a SearchParameter is applied at run time
 * and how far the background re-index of the resources stored before it has got. A Parameters
 * answer, as HAPI's `$reindex` job status and Medplum's AsyncJob report it; a stored Task was the
 * other candidate, but progress written as new versions of a resource would fill its history with
 * counters, and Task is profiled here for MTM reviews. Changes nothing.
 */
import type { ParametersParameter } from '@medplum/fhirtypes';
import type { RuntimeSearchParameters } from '../../search/runtime-parameters';
import type { OperationHandler } from './registry';

export const REINDEX_STATUS_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/SearchParameter-reindex-status';

export function reindexStatusOperation(runtime: RuntimeSearchParameters): OperationHandler {
  return {
    code: 'reindex-status',
    definition: REINDEX_STATUS_DEFINITION,
    levels: ['instance'],
    resourceTypes: ['SearchParameter'],
    allowGet: true,
    scopes: [{ resourceType: 'SearchParameter', permission: 'r' }],
    async invoke({ ctx, id }) {
      // Through the client's repository: 404 or 410 as a read would answer, and the access policy asked.
      await ctx.services.repository.read('SearchParameter', id as string);
      const status = await runtime.status(id as string);
      const parameter: ParametersParameter[] = [{ name: 'applied', valueCode: status?.applied ?? 'inactive' }];
      if (status?.code) parameter.push({ name: 'code', valueCode: status.code });
      for (const base of status?.bases ?? []) parameter.push({ name: 'base', valueCode: base });
      if (status?.applied === 'active') {
        const indexing = status.indexing;
        const state = indexing?.failed ? 'failed' : indexing ? 'in-progress' : 'completed';
        parameter.push({ name: 'status', valueCode: state });
        const processed = indexing?.processed ?? status.job?.processed ?? 0;
        parameter.push({ name: 'processed', valueInteger: processed });
        parameter.push({ name: 'total', valueInteger: Math.max(indexing?.total ?? status.job?.total ?? 0, processed) });
        if (status.job?.error) parameter.push({ name: 'message', valueString: status.job.error });
      }
      return { status: 200, headers: {}, body: { resourceType: 'Parameters', parameter } };
    },
  };
}
