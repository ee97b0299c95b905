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
      // One by one: spreading an array of ~120k items into push() overflows the call stack.
      for (const item of current) stack.push(item);
    } else if (current && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key === 'reference' && typeof child === 'string') yield child;
        else if (child && typeof child === 'object') stack.push(child);
      }
    }
  }
}

/**
 * `value` with every `reference` found in `replacements` replaced. Copy-on-write: only the objects
 * and arrays on the way to a replaced reference are copied; the rest is shared with `value`, which
 * is never modified.
 */
export function rewriteReferences<T>(value: T, replacements: ReadonlyMap<string, string>): T {
  if (replacements.size === 0) return value;
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < node.length; i++) {
        const child = rewrite(node[i]);
        if (child !== node[i]) (copy ??= [...node])[i] = child;
      }
      return copy ?? node;
    }
    if (!node || typeof node !== 'object') return node;
    let copy: Record<string, unknown> | undefined;
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = record[key];
      const rewritten = key === 'reference' && typeof child === 'string' ? (replacements.get(child) ?? child) : rewrite(child);
      if (rewritten !== child) (copy ??= { ...record })[key] = rewritten;
    }
    return copy ?? node;
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
