/**
 * Measure/{id}/$evaluate-measure (FHIR R4 clinical reasoning) for the measure this server knows how
 * to evaluate, the CMR completion rate: a MeasureReport, `summary` by default, `subject-list` with the
 * patients of each population (contained Lists), `individual` for one patient.
 */
import type { List, Measure, MeasureReport, MeasureReportGroupPopulation, Parameters } from '@medplum/fhirtypes';
import { badRequest, notSupported } from '../../fhir/outcome';
import { type OperationHandler, parameterValue } from '../../interactions/operations/registry';
import type { FhirResponse } from '../../interactions/types';
import { CMR_COMPLETION_MEASURE, evaluateCmrCompletion, POPULATIONS } from '../reporting/cmr-completion-measure';
import { loadPeriodData, referenceKey } from '../reporting/period-data';

export const EVALUATE_MEASURE_DEFINITION = 'http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure';
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const REPORT_TYPES = ['summary', 'subject-list', 'individual'] as const;
type ReportType = (typeof REPORT_TYPES)[number];

function text(parameters: Parameters, name: string): string | undefined {
  const p = parameterValue(parameters, name);
  return p?.valueString ?? p?.valueDate ?? p?.valueCode ?? p?.valueReference?.reference;
}

export const evaluateMeasure: OperationHandler = {
  code: 'evaluate-measure',
  definition: EVALUATE_MEASURE_DEFINITION,
  levels: ['instance'],
  resourceTypes: ['Measure'],
  allowGet: true,
  scopes: ['Measure', 'Patient', 'EpisodeOfCare', 'Task', 'Procedure'].map((resourceType) => ({ resourceType, permission: 's' as const })),
  async invoke({ ctx, id, parameters }): Promise<FhirResponse> {
    const start = text(parameters, 'periodStart');
    const end = text(parameters, 'periodEnd');
    if (!start || !DATE.test(start)) throw badRequest('periodStart must be a date (YYYY-MM-DD)', 'periodStart');
    if (!end || !DATE.test(end)) throw badRequest('periodEnd must be a date (YYYY-MM-DD)', 'periodEnd');
    if (end < start) throw badRequest('periodEnd is before periodStart', 'periodEnd');
    const reportType = (text(parameters, 'reportType') ?? 'summary') as ReportType;
    if (!REPORT_TYPES.includes(reportType)) throw badRequest(`reportType must be one of ${REPORT_TYPES.join(', ')}`, 'reportType');
    const subjectParam = text(parameters, 'subject');
    const subject = subjectParam ? referenceKey(subjectParam, 'Patient') : undefined;
    if (subjectParam && !subject) throw badRequest('subject must reference a Patient, e.g. subject=Patient/123', 'subject');
    if (reportType === 'individual' && !subject) throw badRequest('An individual report needs subject=Patient/{id}', 'subject');

    const { resource } = await ctx.services.repository.read('Measure', id as string);
    const measure = resource as Measure;
    if (measure.url !== CMR_COMPLETION_MEASURE) throw notSupported(`This server evaluates only ${CMR_COMPLETION_MEASURE}, not ${measure.url ?? `Measure/${id}`}`);
    if (subject) await ctx.services.repository.read('Patient', subject.slice('Patient/'.length));

    const data = await loadPeriodData(ctx, { start, end });
    const result = evaluateCmrCompletion(data, subject);
    const contained: List[] = [];
    const population: MeasureReportGroupPopulation[] = POPULATIONS.map((code) => {
      const entry: MeasureReportGroupPopulation = {
        code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/measure-population', code }] },
        count: result.members[code].length,
      };
      if (reportType === 'subject-list') {
        contained.push({ resourceType: 'List', id: code, status: 'current', mode: 'snapshot', title: code, entry: result.members[code].map((reference) => ({ item: { reference } })) });
        entry.subjectResults = { reference: `#${code}` };
      }
      return entry;
    });
    const report: MeasureReport = {
      resourceType: 'MeasureReport',
      ...(contained.length ? { contained } : {}),
      status: 'complete',
      type: reportType,
      measure: CMR_COMPLETION_MEASURE,
      ...(subject ? { subject: { reference: subject } } : {}),
      date: new Date().toISOString(),
      period: { start, end },
      improvementNotation: measure.improvementNotation,
      group: [{ population, ...(result.score !== undefined ? { measureScore: { value: Number(result.score.toFixed(6)) } } : {}) }],
    };
    return { status: 200, headers: {}, body: report };
  },
};
