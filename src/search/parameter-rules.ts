/**
 * What a SearchParameter must satisfy before the server applies it at run time (status active).
 * A definition that breaks a rule is refused when it is written, with an OperationOutcome naming
 * the element at fault, so nothing unusable ever reaches the indexer:
 * - 422: url, code, type, base, expression or target is missing or unusable; composite and special
 *   types are not supported at run time; a definition the server ships may not be redefined.
 * - 409: the code is already taken for one of its bases (by a built-in or another active
 *   parameter), or another active SearchParameter has the same url.
 */
import { createHash } from 'node:crypto';
import type { SearchParameter } from '@medplum/fhirtypes';
import { isKnownResourceType } from '../fhir/definitions';
import { conflict, FhirError, issue } from '../fhir/outcome';
import { compileExpression, expressionForType } from './expressions';
import type { SearchParameterRegistry } from './registry';

/** The types a run-time parameter may have: each has a value extraction and a search compiler. */
export const RUNTIME_TYPES: readonly string[] = ['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri'];

/**
 * Letters, digits, '-' and '_', starting with a letter: '.' and ':' would read as a chain or a
 * modifier, and names starting with '_' belong to FHIR's common and result parameters.
 */
const CODE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const MAX_EXPRESSION_LENGTH = 4096;

export type ActiveSearchParameter = SearchParameter & { id: string; url: string; code: string; expression: string; base: string[] };

/** The parts of a definition that decide what gets indexed: a change to any of them needs a re-index. */
export function definitionDigest(sp: SearchParameter): string {
  const significant = [sp.code, [...(sp.base ?? [])].sort(), sp.type, sp.expression, [...(sp.target ?? [])].sort()];
  return createHash('sha256').update(JSON.stringify(significant)).digest('base64url').slice(0, 16);
}

function invalid(diagnostics: string, expression: string, code: 'processing' | 'not-supported' | 'invalid' = 'processing'): FhirError {
  return new FhirError(422, [issue('error', code, diagnostics, `SearchParameter.${expression}`)]);
}

/**
 * Throws a FhirError unless `sp` (status active) can be applied. `activeIdOf(url)` answers the id of
 * the active run-time parameter holding that url, if any. Returns false for a definition the server
 * ships unchanged (stored by its own start-up seeding): valid, but nothing to apply.
 */
export function checkSearchParameter(
  sp: SearchParameter,
  registry: SearchParameterRegistry,
  activeIdOf: (url: string) => string | undefined,
): sp is ActiveSearchParameter {
  if (typeof sp.url !== 'string' || sp.url.length === 0) throw invalid('An active SearchParameter needs a url', 'url', 'invalid');
  const builtIn = registry.builtIn(sp.url);
  if (builtIn) {
    if (definitionDigest(builtIn) === definitionDigest(sp)) return false;
    throw invalid(
      `${sp.url} is a search parameter this server ships (R4 or its profiles); it cannot be redefined at run time. Publish yours under a url of its own`,
      'url',
    );
  }
  if (typeof sp.code !== 'string' || !CODE.test(sp.code)) {
    throw invalid('SearchParameter.code must start with a letter and hold only letters, digits, "-" and "_" (at most 64)', 'code', 'invalid');
  }
  if (sp.type === 'composite' || sp.type === 'special') {
    throw invalid(`Search parameters of type ${sp.type} cannot be defined at run time; supported: ${RUNTIME_TYPES.join(', ')}`, 'type', 'not-supported');
  }
  if (!sp.type || !RUNTIME_TYPES.includes(sp.type)) throw invalid(`Unknown search parameter type "${String(sp.type)}"`, 'type', 'invalid');
  const bases = (sp.base ?? []) as string[];
  if (bases.length === 0) throw invalid('SearchParameter.base must name at least one resource type', 'base', 'invalid');
  bases.forEach((base, i) => {
    if (base === 'Resource' || base === 'DomainResource') {
      throw invalid(`Base ${base} (every resource type) is not supported at run time; name the resource types`, `base[${i}]`, 'not-supported');
    }
    if (!isKnownResourceType(base)) throw invalid(`Base "${base}" is not an R4 resource type`, `base[${i}]`, 'invalid');
  });
  (sp.target ?? []).forEach((target, i) => {
    if (!isKnownResourceType(target)) throw invalid(`Target "${target}" is not an R4 resource type`, `target[${i}]`, 'invalid');
  });
  checkExpression(sp.expression, bases);
  const holder = activeIdOf(sp.url);
  if (holder !== undefined && holder !== sp.id) {
    throw conflict(`SearchParameter/${holder} is already active with url ${sp.url}; retire it first or update it`, 'SearchParameter.url');
  }
  for (const base of bases) {
    const taken = registry.get(base, sp.code);
    if (taken && taken.url !== sp.url) {
      const owner = registry.builtIn(taken.url) ? 'a built-in parameter' : `the active SearchParameter ${taken.url}`;
      throw conflict(`${base} already has a search parameter "${sp.code}" (${owner}); choose another code`, 'SearchParameter.code');
    }
  }
  return true;
}

function checkExpression(expression: unknown, bases: readonly string[]): void {
  if (typeof expression !== 'string' || expression.trim().length === 0) {
    throw invalid('An active SearchParameter needs a FHIRPath expression', 'expression', 'invalid');
  }
  if (expression.length > MAX_EXPRESSION_LENGTH) throw invalid(`The expression is longer than ${MAX_EXPRESSION_LENGTH} characters`, 'expression', 'invalid');
  for (const base of bases) {
    const forBase = expressionForType(expression, base);
    if (!forBase) throw invalid(`The expression has no path starting at ${base}, one of its bases`, 'expression');
    try {
      compileExpression(forBase);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw invalid(`The expression is not valid FHIRPath: ${reason}`, 'expression');
    }
  }
}
