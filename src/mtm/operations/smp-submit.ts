/**
 * $smp-submit (HL7 SMP IG): a transaction Bundle of medication data, processed atomically; when it
 * carries a discharge medication list, reconciliation runs in the same transaction.
 */
import type { Bundle, List, OperationOutcomeIssue, Parameters } from '@medplum/fhirtypes';
import { badRequest, outcome } from '../../fhir/outcome';
import { prepareTransaction, runTransaction } from '../../interactions/bundles/transaction';
import { dispatch } from '../../interactions/dispatch';
import type { OperationHandler } from '../../interactions/operations/registry';
import { parameterValue } from '../../interactions/operations/registry';
import type { RequestContext } from '../../interactions/types';
import type { StorageSession } from '../../storage/port';
import { isDischargeList } from '../medication-lists';
import { type DischargeReconciliation, reconcileDischargeList } from '../reconciliation/discharge-reconciliation';
import { itemParameter, summaryIssue } from '../reconciliation/report';


export const SMP_SUBMIT_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/smp-submit';

/** The ids of the discharge Lists the transaction wrote, read back inside the transaction. */
async function submittedDischargeLists(ctx: RequestContext, response: Bundle, session: StorageSession): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of response.entry ?? []) {
    const match = /\/List\/([^/]+)\/_history\//.exec(entry.response?.location ?? '');
    if (!match) continue;
    const { resource } = await ctx.services.repository.read('List', match[1], session);
    if (isDischargeList(resource as List)) ids.push(match[1]);
  }
  return ids;
}

/** What the transaction did, entry by entry, in one sentence: "2 created, 1 updated, 1 read (nothing stored)". */
export function describeEntries(request: Bundle, response: Bundle): string {
  const counts = new Map<string, number>();
  (response.entry ?? []).forEach((entry, i) => {
    const method = request.entry?.[i]?.request?.method;
    const status = Number.parseInt(entry.response?.status ?? '', 10);
    let what: string;
    if (method === 'GET' || method === 'HEAD') what = 'read (nothing stored)';
    else if (method === 'DELETE') what = 'deleted';
    else if (status === 201) what = 'created';
    else if (method === 'POST') what = 'already present (conditional create; nothing stored)';
    else what = 'updated';
    counts.set(what, (counts.get(what) ?? 0) + 1);
  });
  const total = response.entry?.length ?? 0;
  const parts = [...counts].map(([what, n]) => `${n} ${what}`);
  return `Processed ${total} ${total === 1 ? 'entry' : 'entries'} of the submitted medication data: ${parts.join(', ') || 'nothing to do'}`;
}

export const smpSubmit: OperationHandler = {
  code: 'smp-submit',
  definition: SMP_SUBMIT_DEFINITION,
  levels: ['system'],
  allowGet: false,
  scopes: [
    { resourceType: 'List', permission: 'c' },
    { resourceType: 'List', permission: 'u' },
    { resourceType: 'MedicationStatement', permission: 'c' },
    { resourceType: 'MedicationStatement', permission: 'u' },
  ],
  async invoke({ ctx, req, parameters }) {
    const data = parameterValue(parameters, 'smp-medication-data')?.resource as Bundle | undefined;
    if (!data || data.resourceType !== 'Bundle' || data.type !== 'transaction') {
      throw badRequest('smp-medication-data must be a Bundle of type transaction', 'Parameters.parameter[smp-medication-data]');
    }
    const entries = prepareTransaction(ctx, { ...req, segments: [], body: data, bodyKind: 'resource' }, data);
    // Inside a transaction Bundle, the submission joins the Bundle's transaction: its writes commit
    // or roll back with the Bundle (and a second storage transaction would wait on the first's lock).
    const inTransaction = <R>(work: (session: StorageSession) => Promise<R>): Promise<R> =>
      req.session ? work(req.session) : ctx.services.repository.engine.withTransaction(work);
    const result = await inTransaction(async (session) => {
      const response = await runTransaction(ctx, entries, dispatch, session);
      const reconciliations: DischargeReconciliation[] = [];
      for (const listId of await submittedDischargeLists(ctx, response.body, session)) {
        reconciliations.push(await reconcileDischargeList(ctx, listId, session));
      }
      return { response: response.body, reconciliations };
    });

    const issues: OperationOutcomeIssue[] = [{ severity: 'information', code: 'informational', diagnostics: describeEntries(data, result.response) }];
    const output: Parameters = { resourceType: 'Parameters', parameter: [] };
    for (const r of result.reconciliations) {
      if (r.skipped) {
        issues.push({ severity: 'information', code: 'informational', diagnostics: `List/${r.submittedList} was not reconciled: ${r.skipped}` });
        continue;
      }
      issues.push(summaryIssue(r.items));
      const part = [
        { name: 'submitted-list', valueReference: { reference: `List/${r.submittedList}` } },
        { name: 'current-list', valueReference: { reference: `List/${r.currentList}` } },
        ...r.items.map(itemParameter),
      ];
      if (r.reviewTask) part.push({ name: 'review-task', valueReference: { reference: r.reviewTask } });
      output.parameter?.push({ name: 'reconciliation', part });
    }
    output.parameter?.unshift({ name: 'outcome', resource: outcome(issues) });
    output.parameter?.push({ name: 'response', resource: result.response });
    return { status: 200, headers: {}, body: output };
  },
};
