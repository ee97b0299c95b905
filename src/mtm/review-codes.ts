/** Our review-type CodeSystem (profiles/CodeSystem-mtm-review-type.json): cmr, tmr, post-discharge-review. */
export const REVIEW_TYPE_SYSTEM = 'http://mtm-fhir.org/fhir/CodeSystem/mtm-review-type';
