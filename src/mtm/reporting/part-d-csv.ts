/**
 * The Part D report as a CSV file a plan's analyst opens in a spreadsheet (RFC 4180: CRLF line ends,
 * fields quoted when they hold a comma, quote or line break). A cell that a spreadsheet would run as a
 * formula (starting with = + - @, tab or carriage return) is prefixed with an apostrophe (OWASP "CSV
 * Injection"), since names and free text come from outside.
 */
import type { PartDRecord, Sourced } from './part-d-record';

const COLUMNS: Array<[string, keyof Omit<PartDRecord, 'issues'>]> = [
  ['beneficiary', 'beneficiary'],
  ['mbi', 'mbi'],
  ['name', 'name'],
  ['birth_date', 'birthDate'],
  ['met_targeting_criteria', 'metTargetingCriteria'],
  ['targeting_date', 'targetingDate'],
  ['enrollment_date', 'enrollmentDate'],
  ['opt_out_date', 'optOutDate'],
  ['opt_out_reason', 'optOutReason'],
  ['cmr_offered', 'cmrOffered'],
  ['cmr_offer_date', 'cmrOfferDate'],
  ['cmr_received', 'cmrReceived'],
  ['cmr_dates', 'cmrDates'],
  ['cmr_delivery_method', 'deliveryMethod'],
  ['cmr_provider_type', 'providerType'],
  ['cmr_recipient', 'recipient'],
  ['summary_sent_date', 'summarySentDate'],
  ['tmr_count', 'tmrCount'],
  ['recommendations_to_prescribers', 'recommendations'],
  ['recommendations_resulting_in_change', 'changes'],
];

export const CSV_HEADER = [...COLUMNS.map(([name]) => name), 'issues'];

export function csvCell(raw: string): string {
  const value = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function text(value: Sourced<unknown>['value']): string {
  if (value === null) return '';
  return Array.isArray(value) ? value.join(';') : String(value);
}

export function csvRow(record: PartDRecord): string {
  const cells = COLUMNS.map(([, key]) => text((record[key] as Sourced<unknown>).value));
  cells.push(record.issues.join('; '));
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export function* partDCsv(records: Iterable<PartDRecord>): Generator<string> {
  yield `${CSV_HEADER.join(',')}\r\n`;
  for (const record of records) yield csvRow(record);
}
