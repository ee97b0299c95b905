/**
 * The shapes the search layer shares between indexing (write time) and querying (read time).
 *
 * Every resource document carries `sp`: one flat array of SearchEntry, one per value of each search
 * parameter. Flat on purpose: a single multikey index over (sp.n, sp.k) serves token, reference, uri
 * and exact-string criteria for every parameter, in MongoDB and in the embedded engine alike, through
 * `{ sp: { $elemMatch: { n, k } } }`.
 */

/** The FHIR search parameter types (SearchParameter.type). */
export type ParamType = 'string' | 'token' | 'reference' | 'date' | 'number' | 'quantity' | 'uri' | 'composite' | 'special';

/** One search value. Field names are short because every resource carries dozens of entries. */
export interface SearchEntry {
  /** The parameter code; `code:identifier` for the identifier of a reference parameter. */
  n: string;
  /** The indexed key: token code, "Type/id" or absolute reference, uri, canonical, or the exact string. */
  k?: string;
  /** Token system, or quantity unit system. */
  s?: string;
  /** Normalised text: a string's value, or a token's display/text (for :text). */
  t?: string;
  /** An Identifier's type codings as "system|code" (for :of-type). */
  y?: string[];
  /** Date range [lo, hi) in epoch milliseconds; open ends use MIN_TIME / MAX_TIME. */
  lo?: number;
  hi?: number;
  /** Number or quantity value. */
  v?: number;
  /** Quantity unit as written (normalised), matched when the search gives a unit without system. */
  u?: string;
  /** Composite parameters: the entries of component i (fields without `n`). */
  [component: `c${number}`]: SearchEntry[] | undefined;
}

/** Sort keys per parameter code: `a` for ascending (lowest value), `d` for descending (highest value). */
// A type alias, not an interface: it must fit ResourceDocument's `Record<string, unknown>`.
export type SortKeys = {
  a: Record<string, string | number>;
  d: Record<string, string | number>;
  /** The index version that computed sp and sk (see ResourceIndexer.version): stale documents are re-indexed at start. */
  v: string;
};

/** JSON-safe bounds of JavaScript dates, used for open-ended periods (never Infinity: it becomes null in JSON). */
export const MIN_TIME = -8.64e15;
export const MAX_TIME = 8.64e15;
