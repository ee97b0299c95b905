/**
 * What kind of medication list a List is, by its code. The codes are facts from LOINC and HL7 v3
 * ActCode (see ../shared/notes/mtm-standards.md and profiles/ValueSet-mtm-medication-list-type.json).
 */
import type { CodeableConcept, List } from '@medplum/fhirtypes';

export const LOINC = 'http://loinc.org';
export const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
/** R4's list-item-flag CodeSystem is identified by this OID (hl7.org/fhir/R4/codesystem-list-item-flag.html). */
export const LIST_ITEM_FLAG = 'urn:oid:1.2.36.1.2001.1001.101.104.16592';

/** Every medication list type this server knows (SMP's, discharge, current, history): profiles/ValueSet-mtm-medication-list-type.json. */
export const MEDICATION_LIST_TYPES = 'http://mtm-fhir.org/fhir/ValueSet/mtm-medication-list-type';

interface Code {
  system: string;
  code: string;
}

/** LOINC 10183-2 "Hospital discharge medications", 75311-1 (as C-CDA uses it), v3 DISCMEDLIST. */
export const DISCHARGE_LIST_CODES: readonly Code[] = [
  { system: LOINC, code: '10183-2' },
  { system: LOINC, code: '75311-1' },
  { system: V3_ACT_CODE, code: 'DISCMEDLIST' },
];

/** v3 CURMEDLIST and MEDLIST, and LOINC 10160-0 "History of medication use": the list we keep current. */
export const CURRENT_LIST_CODES: readonly Code[] = [
  { system: V3_ACT_CODE, code: 'CURMEDLIST' },
  { system: V3_ACT_CODE, code: 'MEDLIST' },
  { system: LOINC, code: '10160-0' },
];

function hasCode(concept: CodeableConcept | undefined, codes: readonly Code[]): boolean {
  return !!concept?.coding?.some((c) => codes.some((k) => k.system === c.system && k.code === c.code));
}

export function isDischargeList(list: List): boolean {
  return hasCode(list.code, DISCHARGE_LIST_CODES);
}

export function isCurrentList(list: List): boolean {
  return hasCode(list.code, CURRENT_LIST_CODES);
}

/** A token search value matching any of the codes: `system|code,system|code`. */
export function tokenSearch(codes: readonly Code[]): string {
  return codes.map((c) => `${c.system}|${c.code}`).join(',');
}

/** The list-item-flag codes reconciliation writes (HL7 CodeSystem list-item-flag). */
export const ITEM_FLAGS = {
  unchanged: { code: '01', display: 'Unchanged' },
  changed: { code: '02', display: 'Changed' },
  new: { code: '04', display: 'Prescribed' },
  ceased: { code: '05', display: 'Ceased' },
} as const;
