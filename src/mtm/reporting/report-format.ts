/** The two forms a report is offered in, chosen from the Accept header (JSON when it does not say). */
import { notAcceptable } from '../../fhir/outcome';

export type ReportFormat = 'application/json' | 'text/csv';

export function chooseReportFormat(accept: string | undefined): ReportFormat {
  if (!accept?.trim()) return 'application/json';
  const ranges = accept.split(',').map((part) => {
    const [range, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? '1');
    return { range, q: Number.isFinite(q) ? q : 0 };
  });
  const quality = (type: string) => {
    const [major] = type.split('/');
    const exact = ranges.find((r) => r.range === type) ?? ranges.find((r) => r.range === `${major}/*`) ?? ranges.find((r) => r.range === '*/*');
    return exact?.q ?? 0;
  };
  const json = Math.max(quality('application/json'), quality('application/fhir+json'));
  const csv = quality('text/csv');
  if (json <= 0 && csv <= 0) throw notAcceptable(`The report is available as application/json or text/csv, not ${accept}`);
  return csv > json ? 'text/csv' : 'application/json';
}
