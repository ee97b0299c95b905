/**
 * A patient's active medicines, from MedicationStatement, MedicationRequest and MedicationDispense
 * alike (EHR and pharmacy data is mostly requests and dispenses). One medicine known from several
 * of them counts once: records are merged when they share an RxNorm code, when one refers to the
 * other (basedOn, partOf, authorizingPrescription), or when one has no RxNorm code and both have
 * the same ingredients.
 */
import type {
  CodeableConcept,
  Medication,
  MedicationDispense,
  MedicationRequest,
  MedicationStatement,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { SYSTEM } from '../../conformance/canonical';
import type { RequestContext } from '../../interactions/types';
import { signature } from '../knowledge/drug-class';
import { type IngredientVocabulary, ingredientsFromDisplay } from './ingredients';

type MedicationRecord = MedicationStatement | MedicationRequest | MedicationDispense;

export interface Medicine {
  /** What to call it in a plain-language detail. */
  name: string;
  rxnormCodes: string[];
  ingredients: string[];
  /** "Type/id" of every record it was found in. */
  records: string[];
  statements: MedicationStatement[];
}

const DAY = 86_400_000;
/** How long a dispense counts as current when it does not say its days' supply. */
const DEFAULT_SUPPLY_DAYS = 90;
/** A dispense stays current for its days' supply and half as long again (refill slack). */
const SUPPLY_SLACK = 1.5;
const MAX_RECORDS = 2000;

export interface PatientMedicationRecords {
  statements: MedicationStatement[];
  requests: MedicationRequest[];
  dispenses: MedicationDispense[];
}

export async function readMedicationRecords(ctx: RequestContext, patientId: string): Promise<PatientMedicationRecords> {
  const search = ctx.services.search;
  if (!search) return { statements: [], requests: [], dispenses: [] };
  const query: Array<[string, string]> = [['patient', `Patient/${patientId}`]];
  const [statements, requests, dispenses] = await Promise.all([
    search.findMatches('MedicationStatement', query, { limit: MAX_RECORDS }),
    search.findMatches('MedicationRequest', query, { limit: MAX_RECORDS }),
    search.findMatches('MedicationDispense', query, { limit: MAX_RECORDS }),
  ]);
  return {
    statements: statements as MedicationStatement[],
    requests: requests as MedicationRequest[],
    dispenses: dispenses as MedicationDispense[],
  };
}

export function isActiveStatement(s: MedicationStatement): boolean {
  return s.status === 'active';
}

export function isActiveRequest(r: MedicationRequest): boolean {
  return r.status === 'active' && r.intent !== 'proposal' && r.intent !== 'plan';
}

export function isCurrentDispense(d: MedicationDispense, now: number): boolean {
  if (d.status !== 'completed' && d.status !== 'in-progress') return false;
  const when = Date.parse(d.whenHandedOver ?? d.whenPrepared ?? '');
  if (Number.isNaN(when)) return false;
  const supply = d.daysSupply?.value && d.daysSupply.value > 0 ? d.daysSupply.value : DEFAULT_SUPPLY_DAYS;
  return when + supply * SUPPLY_SLACK * DAY >= now;
}

/** The medication concept of a record: its CodeableConcept, or the Medication it references. */
async function concept(ctx: RequestContext, record: MedicationRecord): Promise<CodeableConcept | undefined> {
  if (record.medicationCodeableConcept) return record.medicationCodeableConcept;
  const ref = record.medicationReference?.reference;
  if (!ref) return undefined;
  if (ref.startsWith('#')) {
    const contained = (record.contained ?? []).find((r) => r.resourceType === 'Medication' && r.id === ref.slice(1)) as Medication | undefined;
    return contained?.code;
  }
  const [type, id] = ref.split('/').slice(-2);
  if (type !== 'Medication' || !id) return undefined;
  try {
    return ((await ctx.services.repository.read('Medication', id)).resource as Medication).code;
  } catch {
    return { text: record.medicationReference?.display }; // a dangling reference: its display is all there is
  }
}

function describe(cc: CodeableConcept | undefined, vocabulary: IngredientVocabulary): { name: string; rxnormCodes: string[]; ingredients: string[] } {
  const codings = cc?.coding ?? [];
  const rxnormCodes = codings.filter((c) => c.system === SYSTEM.rxnorm && c.code).map((c) => c.code as string);
  const texts = [cc?.text, ...codings.map((c) => c.display)].filter((t): t is string => !!t);
  const known = new Set<string>();
  for (const text of texts) for (const name of vocabulary.find(text)) known.add(name);
  // Known names are precise; the RxNorm grammar is the fallback for medicines no class mentions.
  const ingredients = known.size > 0 ? [...known] : [...new Set(texts.flatMap((t) => ingredientsFromDisplay(t)))];
  return { name: texts[0] ?? 'an unnamed medicine', rxnormCodes, ingredients };
}

const refOf = (r: Resource): string => `${r.resourceType}/${r.id}`;

function linkedRefs(record: MedicationRecord): string[] {
  const refs: Array<Reference | undefined> = [];
  if (record.resourceType === 'MedicationStatement') refs.push(...(record.basedOn ?? []), ...(record.partOf ?? []));
  if (record.resourceType === 'MedicationDispense') refs.push(...(record.authorizingPrescription ?? []));
  return refs.map((r) => r?.reference?.split('/').slice(-2).join('/')).filter((r): r is string => !!r);
}

/** The active medicines, deduplicated. `now` decides whether a dispense is still current. */
export async function activeMedicines(
  ctx: RequestContext,
  records: PatientMedicationRecords,
  vocabulary: IngredientVocabulary,
  now: number,
): Promise<Medicine[]> {
  const active: MedicationRecord[] = [
    ...records.statements.filter(isActiveStatement),
    ...records.requests.filter(isActiveRequest),
    ...records.dispenses.filter((d) => isCurrentDispense(d, now)),
  ];
  const entries = await Promise.all(
    active.map(async (record) => ({ record, ...describe(await concept(ctx, record), vocabulary) })),
  );
  // Union-find over the records: each group is one medicine.
  const parent = entries.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const union = (a: number, b: number) => {
    parent[find(a)] = find(b);
  };
  const byRef = new Map(entries.map((e, i) => [refOf(e.record), i]));
  for (let i = 0; i < entries.length; i++) {
    for (const ref of linkedRefs(entries[i].record)) {
      const j = byRef.get(ref);
      if (j !== undefined) union(i, j);
    }
    for (let j = 0; j < i; j++) {
      const a = entries[i];
      const b = entries[j];
      const sameCode = a.rxnormCodes.some((c) => b.rxnormCodes.includes(c));
      const uncoded = a.rxnormCodes.length === 0 || b.rxnormCodes.length === 0;
      const sameIngredients = a.ingredients.length > 0 && signature(a.ingredients) === signature(b.ingredients);
      if (sameCode || (uncoded && sameIngredients)) union(i, j);
    }
  }
  const groups = new Map<number, typeof entries>();
  entries.forEach((e, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), e]));
  return [...groups.values()].map((group) => {
    // Name it after the record with an RxNorm code, which usually carries the fullest display.
    const best = group.find((e) => e.rxnormCodes.length > 0) ?? group[0];
    return {
      name: best.name,
      rxnormCodes: [...new Set(group.flatMap((e) => e.rxnormCodes))],
      ingredients: [...new Set(group.flatMap((e) => e.ingredients))],
      records: group.map((e) => refOf(e.record)),
      statements: group.map((e) => e.record).filter((r): r is MedicationStatement => r.resourceType === 'MedicationStatement'),
    };
  });
}
