/** The R4 id data type (datatypes.html#id): 1 to 64 of A-Z, a-z, 0-9, "-" and ".". */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && FHIR_ID.test(id);
}
