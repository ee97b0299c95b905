/**
 * Runs the review rules over a patient's active medicines. Pure: the medicines, the drug classes
 * and the patient's age come in; findings (or the reason a rule could not run) go out.
 */
import type { Extension, MedicationStatement } from '@medplum/fhirtypes';
import type { DrugClass, MatchPath } from '../knowledge/drug-class';
import type { Medicine } from '../medications/active-medications';
import type { ReviewRule } from './rules';

export interface Finding {
  rule: ReviewRule;
  medicines: Medicine[];
  /** Records to implicate when they are not the medicines' own (the adherence statement). */
  implicated?: string[];
  detail: string;
  /** The ValueSets the finding rests on, as "ValueSet/id". */
  classes: string[];
  /** How each medicine was recognised in its class. */
  matchedBy: MatchPath[];
}

export interface ReviewInput {
  medicines: Medicine[];
  /** Every MedicationStatement of the patient, for adherence (a stopped one may be the finding). */
  statements: MedicationStatement[];
  ageYears?: number;
  classes: ReadonlyMap<string, DrugClass | undefined>;
}

export interface ReviewRun {
  findings: Finding[];
  /** Rules that could not run, with why. */
  skipped: Array<{ rule: ReviewRule; reason: string }>;
}

export const ADHERENCE_EXTENSION = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationStatement.adherence';
export const ADHERENCE_SYSTEM = 'http://hl7.org/fhir/CodeSystem/medication-statement-adherence';
const NOT_AS_DIRECTED = new Set(['taking-not-as-directed', 'on-hold-not-as-directed', 'stopped-not-as-directed']);

const names = (medicines: Medicine[]): string => medicines.map((m) => m.name).join(' and ');

function members(cls: DrugClass, medicines: Medicine[]): Array<{ medicine: Medicine; path: MatchPath }> {
  const result: Array<{ medicine: Medicine; path: MatchPath }> = [];
  for (const medicine of medicines) {
    const path = cls.match(medicine);
    if (path) result.push({ medicine, path });
  }
  return result;
}

function sharedIngredient(a: Medicine, b: Medicine): string | undefined {
  return a.ingredients.find((i) => b.ingredients.includes(i));
}

function pairs<T>(items: T[]): Array<[T, T]> {
  const result: Array<[T, T]> = [];
  for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) result.push([items[i], items[j]]);
  return result;
}

function adherenceCode(statement: MedicationStatement): string | undefined {
  const extension = (statement.extension ?? []).find((e) => e.url === ADHERENCE_EXTENSION);
  const code = (extension?.extension ?? []).find((e: Extension) => e.url === 'code')?.valueCodeableConcept;
  return code?.coding?.find((c) => c.system === ADHERENCE_SYSTEM && c.code)?.code;
}

function runRule(rule: ReviewRule, input: ReviewInput, skipped: ReviewRun['skipped']): Finding[] {
  const check = rule.check;
  const classOf = (url: string): DrugClass | undefined => {
    const cls = input.classes.get(url);
    if (!cls) skipped.push({ rule, reason: `no ValueSet ${url} is held` });
    return cls;
  };
  switch (check.kind) {
    case 'duplicate-ingredient':
      return pairs(input.medicines)
        .map(([a, b]) => ({ a, b, shared: sharedIngredient(a, b) }))
        .filter((p) => p.shared)
        .map(({ a, b, shared }) => ({
          rule,
          medicines: [a, b],
          detail: `${a.name} and ${b.name} both contain ${shared}: the patient may be taking a double dose.`,
          classes: [],
          matchedBy: ['ingredient-name'],
        }));
    case 'duplicate-class': {
      const cls = classOf(check.class);
      if (!cls) return [];
      // Medicines sharing an ingredient are the duplicate-ingredient rule's finding, not this one's.
      return pairs(members(cls, input.medicines))
        .filter(([a, b]) => !sharedIngredient(a.medicine, b.medicine))
        .map(([a, b]) => ({
          rule,
          medicines: [a.medicine, b.medicine],
          detail: `${a.medicine.name} and ${b.medicine.name} are both ${cls.title.replace(/^Drug class: /, '')}: two medicines of the same class at once.`,
          classes: [cls.reference],
          matchedBy: [a.path, b.path],
        }));
    }
    case 'pair': {
      const first = classOf(check.classes[0]);
      const second = classOf(check.classes[1]);
      if (!first || !second) return [];
      const findings: Finding[] = [];
      for (const a of members(first, input.medicines)) {
        for (const b of members(second, input.medicines)) {
          if (a.medicine === b.medicine) continue;
          findings.push({
            rule,
            medicines: [a.medicine, b.medicine],
            detail: `${a.medicine.name} with ${b.medicine.name}: ${rule.title.toLowerCase()}, a combination to avoid or to manage closely.`,
            classes: [first.reference, second.reference],
            matchedBy: [a.path, b.path],
          });
        }
      }
      return findings;
    }
    case 'older-adult-count':
    case 'older-adult-each': {
      if (input.ageYears === undefined) {
        skipped.push({ rule, reason: 'the patient has no birthDate' });
        return [];
      }
      if (input.ageYears < check.minAge) return [];
      const cls = classOf(check.class);
      if (!cls) return [];
      const found = members(cls, input.medicines);
      if (check.kind === 'older-adult-each') {
        return found.map((f) => ({
          rule,
          medicines: [f.medicine],
          detail: `${f.medicine.name} is potentially harmful in adults ${check.minAge} and over; consider a safer alternative.`,
          classes: [cls.reference],
          matchedBy: [f.path],
        }));
      }
      if (found.length < check.minimum) return [];
      const medicines = found.map((f) => f.medicine);
      return [
        {
          rule,
          medicines,
          detail: `${found.length} ${cls.title.replace(/^Drug class: /, '')} at age ${input.ageYears}: ${names(medicines)}.`,
          classes: [cls.reference],
          matchedBy: found.map((f) => f.path),
        },
      ];
    }
    case 'adherence':
      return input.statements
        .filter((s) => s.status !== 'entered-in-error' && NOT_AS_DIRECTED.has(adherenceCode(s) ?? ''))
        .map((s) => {
          const medicine = input.medicines.find((m) => m.records.includes(`MedicationStatement/${s.id}`));
          const name = medicine?.name ?? s.medicationCodeableConcept?.text ?? s.medicationCodeableConcept?.coding?.[0]?.display ?? 'a medicine';
          return {
            rule,
            medicines: medicine ? [medicine] : [],
            implicated: [`MedicationStatement/${s.id}`],
            detail: `${name}: recorded as ${(adherenceCode(s) ?? '').replace(/-/g, ' ')}.`,
            classes: [],
            matchedBy: [],
          };
        });
  }
}

export function runReview(rules: readonly ReviewRule[], input: ReviewInput): ReviewRun {
  const skipped: ReviewRun['skipped'] = [];
  const findings = rules.flatMap((rule) => runRule(rule, input, skipped));
  return { findings, skipped };
}
