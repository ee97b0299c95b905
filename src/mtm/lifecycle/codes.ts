/** Codes the review lifecycle writes and recognises (profiles/CodeSystem-mtm-*.json). */
import type { CodeableConcept, Task } from '@medplum/fhirtypes';
import { REVIEW_TYPE_SYSTEM } from '../review-codes';

export const TASK_TYPE_SYSTEM = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-task-type';
export const REVIEW_PARAMETER_SYSTEM = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-parameter';

/** CMS: the written summary is sent within 14 days of the CMR when not handed over at the visit (../shared/notes/mtm-standards.md). */
export const SUMMARY_DUE_DAYS = 14;

export const WRITTEN_SUMMARY_DELIVERY: CodeableConcept = {
  coding: [{ system: TASK_TYPE_SYSTEM, code: 'written-summary-delivery', display: 'Deliver the CMR written summary' }],
};

export const reviewCode = (code: 'cmr' | 'tmr'): CodeableConcept => ({
  coding: [
    {
      system: REVIEW_TYPE_SYSTEM,
      code,
      display: code === 'cmr' ? 'Comprehensive medication review' : 'Targeted medication review',
    },
  ],
});

export function hasCode(task: Task, system: string, code: string): boolean {
  return task.code?.coding?.some((c) => c.system === system && c.code === code) ?? false;
}

export const isCmr = (task: Task): boolean => hasCode(task, REVIEW_TYPE_SYSTEM, 'cmr');
export const isTmr = (task: Task): boolean => hasCode(task, REVIEW_TYPE_SYSTEM, 'tmr');
export const isSummaryDelivery = (task: Task): boolean => hasCode(task, TASK_TYPE_SYSTEM, 'written-summary-delivery');
