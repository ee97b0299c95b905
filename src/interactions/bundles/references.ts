/**
 * Reference rewriting for transactions: placeholder fullUrls (urn:uuid:, urn:oid:) become the ids
 * the server assigned, wherever a Reference.reference names them, however deeply nested.
 */

/** Every `reference` string in a resource, nested ones included. */
export function* referencesIn(value: unknown): Generator<string> {
  const stack: unknown[] = [value];
  while (stack.length) {
    const current = stack.pop();
    if (Array.isArray(current)) {
      stack.push(...current);
    } else if (current && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key === 'reference' && typeof child === 'string') yield child;
        else if (child && typeof child === 'object') stack.push(child);
      }
    }
  }
}

/** A copy of `value` with every `reference` found in `replacements` replaced. */
export function rewriteReferences<T>(value: T, replacements: ReadonlyMap<string, string>): T {
  if (replacements.size === 0) return value;
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      result[key] = key === 'reference' && typeof child === 'string' ? (replacements.get(child) ?? child) : rewrite(child);
    }
    return result;
  };
  return rewrite(value) as T;
}

export function isPlaceholder(url: string | undefined): url is string {
  return !!url && (url.startsWith('urn:uuid:') || url.startsWith('urn:oid:'));
}

/** `Patient?identifier=...`: a conditional reference, resolved by search inside the transaction. */
export function isConditionalReference(reference: string): boolean {
  return /^[A-Z][A-Za-z]+\?/.test(reference);
}
