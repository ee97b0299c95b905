/**
 * GET /$mtm-part-d-report?year=2026: the CMS Part D MTM beneficiary-level report, one record per
 * beneficiary enrolled in MTM at any time in the year. JSON (default) gives each value with the
 * resources it came from; Accept: text/csv gives the same records as a file for a spreadsheet.
 * Only the patients the caller may see are reported.
 */
import { badRequest } from '../../fhir/outcome';
import { type OperationHandler, parameterValue } from '../../interactions/operations/registry';
import type { FhirResponse } from '../../interactions/types';
import { partDCsv } from '../reporting/part-d-csv';
import { partDRecord } from '../reporting/part-d-record';
import { loadPeriodData } from '../reporting/period-data';
import { chooseReportFormat } from '../reporting/report-format';

export const MTM_PART_D_REPORT_DEFINITION = 'http://mtm-fhir.org/fhir/OperationDefinition/mtm-part-d-report';

export const mtmPartDReport: OperationHandler = {
  code: 'mtm-part-d-report',
  definition: MTM_PART_D_REPORT_DEFINITION,
  levels: ['system'],
  allowGet: true,
  scopes: ['Patient', 'EpisodeOfCare', 'Task', 'DocumentReference', 'CommunicationRequest', 'Communication', 'Practitioner'].map((resourceType) => ({
    resourceType,
    permission: 's' as const,
  })),
  async invoke({ ctx, req, parameters }): Promise<FhirResponse> {
    const raw = parameterValue(parameters, 'year');
    const year = raw?.valueInteger !== undefined ? String(raw.valueInteger) : raw?.valueString;
    if (!year || !/^\d{4}$/.test(year)) throw badRequest('year must be a four-digit year, e.g. year=2026', 'year');
    const format = chooseReportFormat(req.headers.accept);
    const data = await loadPeriodData(ctx, { start: `${year}-01-01`, end: `${year}-12-31` });
    const records = data.patients.map((row) => partDRecord(row, data));
    if (format === 'text/csv') {
      return {
        status: 200,
        headers: { 'Content-Disposition': `attachment; filename="mtm-part-d-${year}.csv"` },
        representation: { contentType: 'text/csv; charset=utf-8; header=present', content: [...partDCsv(records)].join('') },
      };
    }
    const withIssues = records.filter((r) => r.issues.length).length;
    return {
      status: 200,
      headers: {},
      representation: {
        contentType: 'application/json; charset=utf-8',
        content: JSON.stringify({ year: Number(year), beneficiaries: records.length, beneficiariesWithIssues: withIssues, records }),
      },
    };
  },
};
