/** JSON comparison as FHIR fixed[x] (exact) and pattern[x] (the pattern's content is present) need it. */

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => deepEqual(ra[k], rb[k]));
}

/** Whether `actual` contains everything in `pattern`; each array item of the pattern must match some actual item. */
export function matchesPattern(actual: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual)) return false;
    return pattern.every((p) => actual.some((a) => matchesPattern(a, p)));
  }
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
    const record = actual as Record<string, unknown>;
    return Object.entries(pattern).every(([k, v]) => matchesPattern(record[k], v));
  }
  return actual === pattern;
}
