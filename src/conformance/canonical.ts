/**
 * The one canonical base for every conformance resource this project publishes. Profiles,
 * ValueSets, CodeSystems, SearchParameters and OperationDefinitions all live under it.
 */
export const MTM_BASE = 'http://mtm-fhir.org/fhir';

export const sdUrl = (id: string): string => `${MTM_BASE}/StructureDefinition/${id}`;
export const vsUrl = (id: string): string => `${MTM_BASE}/ValueSet/${id}`;
export const csUrl = (id: string): string => `${MTM_BASE}/CodeSystem/${id}`;

/** The MTM profiles, by role. */
export const PROFILE = {
  medicationList: sdUrl('mtm-medication-list'),
  medicationStatement: sdUrl('mtm-medication-statement'),
  medicationActionPlan: sdUrl('mtm-medication-action-plan'),
  detectedIssue: sdUrl('mtm-detected-issue'),
  reviewTask: sdUrl('mtm-review-task'),
  prescriberRecommendation: sdUrl('mtm-prescriber-recommendation'),
  prescriberResponse: sdUrl('mtm-prescriber-response'),
  programEnrolment: sdUrl('mtm-program-enrolment'),
} as const;

export const CODE_SYSTEM = {
  reviewType: csUrl('mtm-review-type'),
  reviewParameter: csUrl('mtm-review-parameter'),
  cmrDeliveryMethod: csUrl('cms-cmr-delivery-method'),
  intervention: csUrl('mtm-intervention'),
  episodeType: csUrl('mtm-episode-type'),
  optOutReason: csUrl('cms-mtm-opt-out-reason'),
  ingredientName: csUrl('mtm-ingredient-name'),
} as const;

/** External code systems the profiles refer to. */
export const SYSTEM = {
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  snomed: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  v3ActCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
} as const;

/** SNOMED CT 736378000 "Medication management plan (record artifact)": the MAP category (HL7 SMP IG). */
export const MAP_CATEGORY_CODE = '736378000';
