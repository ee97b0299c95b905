/**
 * FHIR date, dateTime and instant values as UTC ranges [lo, hi) in epoch milliseconds. The range is
 * the value's precision: "2024" is the whole year, "2024-03-05T10:00" the whole minute. A value
 * without a time zone is read as UTC. Never compared as strings (an offset of +05:00 sorts wrongly).
 */
import { MAX_TIME, MIN_TIME } from './types';

export interface TimeRange {
  lo: number;
  hi: number;
}

const DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The range a FHIR date/dateTime/instant denotes, or undefined when the text is not one. */
export function parseDateRange(text: string): TimeRange | undefined {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (h === undefined) {
    const lo = Date.UTC(year, month - 1, day);
    if (mo === undefined) return { lo, hi: Date.UTC(year + 1, 0, 1) };
    if (d === undefined) return { lo, hi: Date.UTC(year, month, 1) };
    return { lo, hi: Date.UTC(year, month - 1, day + 1) };
  }
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMinutes = 0;
  if (tz && tz !== 'Z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    const [oh, om] = tz.slice(1).split(':').map(Number);
    if (oh > 14 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const millis = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  const lo = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  const width = s === undefined ? 60_000 : frac === undefined ? 1000 : Math.max(1, 10 ** (3 - Math.min(frac.length, 3)));
  return { lo, hi: lo + width };
}

/** A Period as a range; a missing start or end leaves that side open. */
export function periodRange(start: string | undefined, end: string | undefined): TimeRange | undefined {
  const from = start === undefined ? undefined : parseDateRange(start);
  const to = end === undefined ? undefined : parseDateRange(end);
  if (!from && !to) return undefined;
  return { lo: from?.lo ?? MIN_TIME, hi: to?.hi ?? MAX_TIME };
}
