/** Text normalisation and regex escaping shared by indexing and querying, so both sides agree. */

/** Lower-cased with accents folded: "Müller" and "muller" index and match alike. */
export function normalizeText(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();
}

/** The value as a literal inside a regular expression: user input never becomes a pattern. */
export function escapeRegex(value: string): string {
  // only the characters special outside a class: escaping others ("\-") is an error in Unicode mode
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
