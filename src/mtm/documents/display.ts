/** Plain-language text from FHIR data types, for documents a patient reads. */
import type { Address, Annotation, CodeableConcept, ContactPoint, HumanName, Reference } from '@medplum/fhirtypes';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * "December 2, 2026" from a FHIR date or dateTime, taking the calendar date as recorded: a visit at
 * 14:00-06:00 happened on the 2nd where it happened, whatever the server's time zone. A year or
 * year-month stays as precise as it was recorded.
 */
export function longDate(value: string | undefined): string | undefined {
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value ?? '');
  if (!match) return undefined;
  const [, year, month, day] = match;
  if (!month) return year;
  const name = MONTHS[Number(month) - 1];
  if (!name) return undefined;
  return day ? `${name} ${Number(day)}, ${year}` : `${name} ${year}`;
}

/** The name to address a person by: the official (or first) name, "Margaret Holloway". */
export function personName(names: HumanName[] | undefined, options: { suffix?: boolean } = {}): string | undefined {
  const name = names?.find((n) => n.use === 'official') ?? names?.find((n) => n.use !== 'nickname' && n.use !== 'old') ?? names?.[0];
  if (!name) return undefined;
  const parts = name.text ? [name.text] : [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean);
  let text = parts.join(' ').trim();
  if (options.suffix && !name.text && name.suffix?.length) text = `${text}, ${name.suffix.join(', ')}`;
  return text || undefined;
}

const SNOMED = 'http://snomed.info/sct';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
/** The semantic tag that ends a SNOMED CT fully specified name, "(disorder)": not for patients. */
const SEMANTIC_TAG = /\s+\((disorder|finding|procedure|situation|substance|product|medicinal product|clinical drug|morphologic abnormality|observable entity|regime\/therapy)\)$/;
/** RxNorm writes units in capitals ("10 MG"); people read "10 mg". */
const RXNORM_UNITS = /\b(MG|MCG|ML|MEQ|UNT|HR|ACTUAT)\b/g;

/** What a coded concept is called, for a patient: its text, else the first display, tidied. */
export function conceptText(concept: CodeableConcept | undefined): string | undefined {
  const text = concept?.text?.trim();
  const coding = concept?.coding?.find((c) => c.display?.trim());
  let result = text || coding?.display?.trim();
  if (!result) return undefined;
  if (!text && coding?.system === SNOMED) result = result.replace(SEMANTIC_TAG, '');
  if (concept?.coding?.some((c) => c.system === RXNORM)) result = result.replace(RXNORM_UNITS, (unit) => unit.toLowerCase());
  return result;
}

/** The text with its first letter capitalised, as a sentence starts. */
export function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function referenceDisplay(reference: Reference | undefined): string | undefined {
  return reference?.display?.trim() || undefined;
}

export function addressLines(address: Address | undefined): string[] {
  if (!address) return [];
  if (address.text && !address.line?.length) return address.text.split('\n').map((l) => l.trim()).filter(Boolean);
  const cityLine = [address.city, [address.state, address.postalCode].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  return [...(address.line ?? []), cityLine].map((l) => l.trim()).filter(Boolean);
}

/** The first phone number, preferring a work one: where a patient calls their pharmacist. */
export function phone(telecom: ContactPoint[] | undefined): string | undefined {
  const phones = (telecom ?? []).filter((t) => t.system === 'phone' && t.value);
  return (phones.find((t) => t.use === 'work') ?? phones[0])?.value;
}

export function annotationText(note: Annotation): string | undefined {
  const text = note.text?.trim();
  if (!text) return undefined;
  const when = longDate(note.time);
  return when ? `${when}: ${text}` : text;
}

/** "Monday to Friday, 9:00 to 17:00": opening hours as recorded, days in the week's order. */
export function hours(available: Array<{ daysOfWeek?: string[]; allDay?: boolean; availableStartTime?: string; availableEndTime?: string }> | undefined): string | undefined {
  const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  const NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
  const parts = (available ?? []).map((a) => {
    const days = (a.daysOfWeek ?? []).map((d) => DAYS.indexOf(d)).filter((i) => i >= 0).sort((x, y) => x - y);
    const contiguous = days.length > 2 && days.every((d, i) => i === 0 || d === days[i - 1] + 1);
    const dayText = contiguous ? `${NAMES[days[0]]} to ${NAMES[days[days.length - 1]]}` : days.map((d) => NAMES[d]).join(', ');
    const time = a.allDay ? 'all day' : a.availableStartTime && a.availableEndTime ? `${a.availableStartTime.slice(0, 5)} to ${a.availableEndTime.slice(0, 5)}` : '';
    return [dayText, time].filter(Boolean).join(', ');
  });
  const text = parts.filter(Boolean).join('; ');
  return text || undefined;
}
