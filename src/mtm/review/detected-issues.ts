/**
 * Findings as DetectedIssue drafts (status preliminary, profile mtm-detected-issue), and storing
 * them idempotently: each finding carries an identifier made from the patient, the rule and the
 * medicines, so a second run finds the issue it stored the first time instead of adding another.
 */
import { createHash } from 'node:crypto';
import type { DetectedIssue } from '@medplum/fhirtypes';
import { MTM_BASE, PROFILE, SYSTEM } from '../../conformance/canonical';
import { findMatches, inTransaction, lockCondition } from '../../interactions/conditional';
import { validateForWrite } from '../../interactions/resource-body';
import type { RequestContext } from '../../interactions/types';
import { signature } from '../knowledge/drug-class';
import type { Finding } from './checks';

export const FINDING_IDENTIFIER_SYSTEM = `${MTM_BASE}/sid/mtm-review-finding`;
export const REVIEW_RULE_SYSTEM = `${MTM_BASE}/CodeSystem/mtm-review-rule`;

function medicineKey(finding: Finding, index: number): string {
  const m = finding.medicines[index];
  return m.rxnormCodes.length ? [...m.rxnormCodes].sort().join(',') : signature(m.ingredients);
}

/** Same patient, rule and medicines: same value. Hashed so the identifier says nothing by itself. */
export function findingIdentifier(patientId: string, finding: Finding): string {
  const medicines = finding.medicines.map((_, i) => medicineKey(finding, i)).sort();
  const key = [patientId, finding.rule.id, ...medicines, ...(finding.implicated ?? [])].join('|');
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

export function draftIssue(patientId: string, finding: Finding, identified: string): DetectedIssue {
  const { rule } = finding;
  const implicated = [...new Set([...(finding.implicated ?? []), ...finding.medicines.flatMap((m) => m.records)])];
  const matched = [...new Set(finding.matchedBy)];
  return {
    resourceType: 'DetectedIssue',
    meta: { profile: [PROFILE.detectedIssue] },
    identifier: [{ system: FINDING_IDENTIFIER_SYSTEM, value: findingIdentifier(patientId, finding) }],
    status: 'preliminary',
    code: { coding: [{ system: SYSTEM.v3ActCode, code: rule.code, display: rule.codeDisplay }], text: rule.title },
    severity: rule.severity,
    patient: { reference: `Patient/${patientId}` },
    identifiedDateTime: identified,
    implicated: implicated.map((reference) => ({ reference })),
    detail: finding.detail,
    evidence: [
      {
        code: [
          {
            coding: [{ system: REVIEW_RULE_SYSTEM, code: rule.id, display: rule.title }],
            text: `Rule ${rule.id}. Source: ${rule.source}.${matched.length ? ` Matched by ${matched.join(' and ')}.` : ''}`,
          },
        ],
        ...(finding.classes.length ? { detail: [...new Set(finding.classes)].map((reference) => ({ reference })) } : {}),
      },
    ],
  };
}

/** Stores each draft unless an issue with its identifier is already held; answers what is stored. */
export async function persistIssues(ctx: RequestContext, drafts: DetectedIssue[]): Promise<{ issues: DetectedIssue[]; created: number }> {
  let created = 0;
  const issues: DetectedIssue[] = [];
  for (const draft of drafts) {
    const identifier = draft.identifier?.[0];
    const query: Array<[string, string]> = [
      ['identifier', `${identifier?.system}|${identifier?.value}`],
      ['patient', draft.patient?.reference as string],
    ];
    const stored = await inTransaction(ctx, undefined, async (session) => {
      await lockCondition(ctx, 'DetectedIssue', query, session);
      const existing = (await findMatches(ctx, 'DetectedIssue', query, 1, session))[0] as DetectedIssue | undefined;
      if (existing) return existing;
      const valid = await validateForWrite(ctx, draft, 'create');
      created++;
      return (await ctx.services.repository.create(valid, { session })).resource as DetectedIssue;
    });
    issues.push(stored);
  }
  return { issues, created };
}
