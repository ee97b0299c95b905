/**
 * Patient/{id}/$mtm-review (POST): the automated medication review. Runs the rules over the
 * patient's active medicines (MedicationStatement, MedicationRequest and MedicationDispense, each
 * medicine once), age and adherence records, and answers one DetectedIssue draft per finding.
 * With persist=true the issues are stored, idempotently.
 */
import type { DetectedIssue, OperationOutcomeIssue, Parameters } from '@medplum/fhirtypes';
import { outcome } from '../../fhir/outcome';
import type { OperationHandler } from '../../interactions/operations/registry';
import type { RequestContext } from '../../interactions/types';
import { drugClasses } from '../knowledge/knowledge';
import { activeMedicines, readMedicationRecords } from '../medications/active-medications';
import { runReview } from '../review/checks';
import { draftIssue, persistIssues } from '../review/detected-issues';
import { REVIEW_RULES, ruleClassUrls } from '../review/rules';
import { booleanInput } from './inputs';
import { readPatient } from './patient-access';

export const MTM_REVIEW_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/Patient-mtm-review';

export function ageInYears(birthDate: string | undefined, now: Date): number | undefined {
  if (!birthDate || !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(birthDate)) return undefined;
  const [y, m = 1, d = 1] = birthDate.split('-').map(Number);
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < m || (now.getUTCMonth() + 1 === m && now.getUTCDate() < d)) age--;
  return age;
}

export async function reviewPatient(ctx: RequestContext, patientId: string, birthDate: string | undefined, now: Date) {
  const urls = ruleClassUrls();
  const [{ classes, vocabulary }, records] = await Promise.all([drugClasses(ctx.services.repository, urls), readMedicationRecords(ctx, patientId)]);
  const medicines = await activeMedicines(ctx, records, vocabulary, now.getTime());
  const run = runReview(REVIEW_RULES, { medicines, statements: records.statements, ageYears: ageInYears(birthDate, now), classes });
  return { medicines, run };
}

export const mtmReview: OperationHandler = {
  code: 'mtm-review',
  definition: MTM_REVIEW_DEFINITION,
  levels: ['instance'],
  resourceTypes: ['Patient'],
  allowGet: false,
  scopes: [
    { resourceType: 'Patient', permission: 'r' },
    { resourceType: 'MedicationStatement', permission: 'r' },
    { resourceType: 'MedicationRequest', permission: 'r' },
    { resourceType: 'MedicationDispense', permission: 'r' },
  ],
  async invoke({ ctx, id, parameters }) {
    const persist = booleanInput(parameters, 'persist') ?? false;
    if (persist) ctx.services.access.requireScope(ctx.security, 'DetectedIssue', 'c');
    const patient = await readPatient(ctx, id);
    const now = new Date();
    const { medicines, run } = await reviewPatient(ctx, patient.id as string, patient.birthDate, now);
    const drafts = run.findings.map((f) => draftIssue(patient.id as string, f, now.toISOString()));
    let issues: DetectedIssue[] = drafts;
    let created = 0;
    if (persist) ({ issues, created } = await persistIssues(ctx, drafts));
    const notes: OperationOutcomeIssue[] = [
      {
        severity: 'information',
        code: 'informational',
        diagnostics: `${medicines.length} active medicines reviewed by ${REVIEW_RULES.length} rules: ${issues.length} finding(s)${persist ? `, ${created} newly stored` : ''}`,
      },
      ...run.skipped.map((s) => ({ severity: 'warning' as const, code: 'incomplete' as const, diagnostics: `Rule ${s.rule.id} did not run: ${s.reason}` })),
    ];
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [...issues.map((resource) => ({ name: 'issue', resource })), { name: 'outcome', resource: outcome(notes) }],
    };
    return { status: 200, headers: {}, body };
  },
};
