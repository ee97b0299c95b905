/**
 * Whether a resource holds, anywhere, an extension whose url a check cares about. Most resources
 * hold none, and then the checks of extensions (extension-checks.ts, defined-extensions.ts) have
 * nothing to report: this finds that out with one walk that builds no paths and no frames, before
 * their walks that do.
 */

/** True when some item of an `extension` or `modifierExtension` array, at any depth, has a url for which `wanted` is true. */
export function holdsExtension(resource: unknown, wanted: (url: string) => boolean): boolean {
  // An explicit stack: no recursion whose depth the input decides.
  const stack: unknown[] = [resource];
  while (stack.length) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    const record = value as Record<string, unknown>;
    for (const key in record) {
      if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
      const child = record[key];
      if (typeof child !== 'object' || child === null) continue;
      if ((key === 'extension' || key === 'modifierExtension') && Array.isArray(child)) {
        for (const item of child) {
          const url = (item as { url?: unknown } | null)?.url;
          if (typeof url === 'string' && wanted(url)) return true;
        }
      }
      stack.push(child);
    }
  }
  return false;
}
