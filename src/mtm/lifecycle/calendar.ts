/**
 * Calendar arithmetic on FHIR dates (YYYY-MM-DD). A review's due dates are counted from the date it
 * happened as written (its local date), so no time zone can move a due date by a day.
 */

/** The calendar date of a FHIR date or dateTime as written: "2026-12-02T14:00:00-06:00" -> "2026-12-02". */
export function localDate(dateTime: string): string {
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(dateTime);
  if (!match) throw new Error(`Not a FHIR date: ${dateTime}`);
  return `${match[1]}-${match[2] ?? '01'}-${match[3] ?? '01'}`;
}

function parts(date: string): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number);
  return [y, m, d];
}

function format(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = parts(date);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return format(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** Adds calendar months; a day that the target month lacks becomes its last day (Jan 31 + 1 month = Feb 28). */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = parts(date);
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return format(year, month, Math.min(d, lastDay));
}
