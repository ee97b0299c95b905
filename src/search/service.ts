/**
 * The search service: parses a query, compiles it to one filter per resource type, runs one keyset
 * page, adds _include/_revinclude and shapes the result. It also answers the conditional
 * interactions' "which resources match these parameters?" (SearchPort.findMatches).
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { resourceTypes } from '../fhir/definitions';
import { badRequest, FhirError, issue } from '../fhir/outcome';
import type { ResourceRepository } from '../repository/repository';
import type { ResourceDocument } from '../storage/collections';
import type { Filter, StorageSession } from '../storage/port';
import { compartmentFilter, compartmentTypes, isSupportedCompartment } from './compartment';
import { ALIVE, and, type CompileContext, compileCriterion } from './compile';
import { type Criterion, CriteriaParser, UnknownParameter } from './criteria';
import { checkIncludes, MAX_INCLUDED, resolveIncludes, type TypedDocument } from './includes';
import { fetchPage } from './page';
import { type Cursor, decodeCursor, encodeCursor, sortFields } from './paging';
import type { SearchParameterRegistry } from './registry';
import { isResultParameter, parseResultParams, type ResultParams } from './result-params';
import { shapeResource } from './shape';
import type { ParamType } from './types';

export interface SearchLimits {
  defaultCount: number;
  maxCount: number;
}

export type ValueSetCodes = (url: string) => ReadonlyMap<string, ReadonlySet<string> | 'any'> | undefined;

export interface SearchInput {
  /** The types searched; for a system-level search leave it out and _type (or every type) applies. */
  types?: string[];
  query: Array<[string, string]>;
  /** The FHIR base URL as the client sees it: absolute references to it match relative ones. */
  baseUrl?: string;
  /** Prefer: handling=strict: an unknown parameter is a 400 rather than a warning. */
  strict: boolean;
  compartment?: { type: string; id: string };
  session?: StorageSession;
  /** The caller's access restrictions; absent means unrestricted. */
  access?: SearchAccess;
}

/**
 * What the access policy allows a caller to see of one type, asked by the search for the types it
 * searches ('s'), the types chains and _has go through ('s'), and the types it includes ('r'):
 * undefined = everything, a filter = only what matches it, 'denied' = nothing.
 */
export interface SearchAccess {
  restriction(type: string, permission: 'r' | 's'): Promise<Filter | undefined | 'denied'>;
}

export interface SearchResult {
  matches: Resource[];
  included: Resource[];
  total?: number;
  /** Opaque `_cursor` values of the neighbouring pages. */
  next?: string;
  previous?: string;
  /** Warnings for the Bundle's OperationOutcome entry (ignored parameters, truncated includes). */
  issues: OperationOutcomeIssue[];
}

const SORTABLE: readonly ParamType[] = ['string', 'token', 'reference', 'uri', 'date', 'number', 'quantity'];

/** Satisfies the interactions' SearchPort structurally (search sits below interactions, so no import). */
export class SearchService {
  private readonly parser: CriteriaParser;

  constructor(
    private readonly repository: ResourceRepository,
    readonly registry: SearchParameterRegistry,
    private readonly limits: SearchLimits,
    private readonly valueSetCodes: ValueSetCodes,
  ) {
    this.parser = new CriteriaParser(registry);
  }

  supportedParameters(type: string): Array<{ name: string; type: string; definition?: string }> {
    return [...this.registry.forType(type).values()]
      .filter((p) => p.type !== 'special')
      .map((p) => ({ name: p.code, type: p.type, definition: p.url || undefined }));
  }

  async findMatches(
    type: string,
    query: Array<[string, string]>,
    options: { limit: number; session?: StorageSession; access?: SearchAccess },
  ): Promise<Resource[]> {
    parseResultParams(query); // malformed result parameters are still refused
    const criteria = query.filter(([name]) => !isResultParameter(name));
    if (criteria.length === 0) throw badRequest(`The condition needs at least one search parameter of ${type}`);
    const parsed = criteria.map(([name, value]) => this.parseStrict(type, name, value));
    // A condition that could miss a match would create a duplicate or leave one standing: not until the re-index is done.
    const partial = this.partialIndexWarnings([type], new Map([[type, parsed]]), []);
    if (partial.length) {
      throw new FhirError(409, partial.map((w) => ({ ...w, severity: 'error' as const, diagnostics: `${w.diagnostics}; a condition on it is refused until then` })));
    }
    const restriction = await restrictionOf(options.access, type, 's', true);
    const extra = restriction === 'skip' ? undefined : restriction; // 'skip' never comes back when refusing
    const filter = await this.compile(type, parsed, undefined, options.session, extra, options.access);
    const collection = await this.repository.collection(type);
    const docs = await collection.find(filter, { sort: { _id: 1 }, limit: options.limit, session: options.session });
    return docs.map((d) => d.resource as Resource);
  }

  async search(input: SearchInput): Promise<SearchResult> {
    const result = parseResultParams(input.query);
    const issues: OperationOutcomeIssue[] = [];
    const reject = (name: string, reason: string) => {
      if (input.strict) throw badRequest(`${reason} (Prefer: handling=strict)`, name);
      issues.push(issue('warning', 'not-supported', `${reason}; the parameter was ignored`, name));
    };
    for (const u of result.unsupported) reject(u.name, u.reason);
    const types = this.typesOf(input, result, reject);

    const criteria = new Map<string, Criterion[]>(types.map((t) => [t, []]));
    for (const [name, value] of input.query) {
      if (isResultParameter(name)) continue;
      const parsed = this.parseForTypes(types, name, value);
      if (parsed instanceof UnknownParameter) reject(name, parsed.message);
      else types.forEach((t, i) => criteria.get(t)?.push(parsed[i]));
    }
    result.sort = result.sort.filter((s) => {
      const problem = types.map((t) => this.unsortable(t, s.code)).find(Boolean);
      if (problem) reject('_sort', problem);
      return !problem;
    });
    checkIncludes(this.registry, result.includes, '_include');
    checkIncludes(this.registry, result.revincludes, '_revinclude');
    issues.push(...this.partialIndexWarnings(types, criteria, result.sort));

    const filters = new Map<string, Filter>();
    // Types named by the client (the URL's type or _type) are refused when not allowed; the types of
    // an open system-level or compartment search are just left out.
    const named = input.types !== undefined || result.types !== undefined;
    for (const type of types) {
      const compartment = input.compartment ? compartmentFilter(type, input.compartment.id) : undefined;
      if (input.compartment && !compartment) {
        if (input.types) issues.push(issue('warning', 'not-found', `No ${type} can be in a ${input.compartment.type} compartment`));
        continue;
      }
      const restriction = await restrictionOf(input.access, type, 's', named);
      if (restriction === 'skip') continue;
      const extra = and([compartment ?? {}, restriction ?? {}]);
      filters.set(type, await this.compile(type, criteria.get(type) ?? [], input.baseUrl, input.session, extra, input.access));
    }
    const count = Math.min(result.count ?? this.limits.defaultCount, this.limits.maxCount);
    if (result.summary === 'count' || count === 0) {
      return { matches: [], included: [], total: await this.countAll(filters, input.session), issues };
    }

    const fields = sortFields(result.sort);
    const cursor: Cursor | undefined = result.cursor ? decodeCursor(result.cursor, fields) : undefined;
    const page = await fetchPage(this.queries(input.session), filters, fields, count, cursor);
    let total: number | undefined;
    if (result.total === 'accurate' || result.total === 'estimate') total = await this.countAll(filters, input.session);
    else if (result.total === undefined && !cursor && !page.next) total = page.rows.length;

    const { included, truncated } = await resolveIncludes(
      this.registry,
      { find: (type, filter, limit) => this.findIncluded(type, filter, limit, input) },
      page.rows,
      result.includes,
      result.revincludes,
    );
    if (truncated) issues.push(issue('warning', 'too-costly', `Only the first ${MAX_INCLUDED} included resources are returned`));
    const shape = (row: TypedDocument, elements: readonly string[] | undefined) =>
      shapeResource(row.doc.resource as Resource, result.summary, elements);
    return {
      matches: page.rows.map((row) => shape(row, result.elements)),
      included: included.map((row) => shape(row, undefined)),
      total,
      next: page.next && encodeCursor(page.next),
      previous: page.previous && encodeCursor(page.previous),
      issues,
    };
  }

  /**
   * A run-time SearchParameter whose stored resources are still being re-indexed answers from what
   * is indexed so far: the searchset says so, once per parameter, with the progress.
   */
  private partialIndexWarnings(types: readonly string[], criteria: ReadonlyMap<string, Criterion[]>, sort: ResultParams['sort']): OperationOutcomeIssue[] {
    const params = new Map<string, string>();
    const visit = (c: Criterion): void => {
      const param = c.kind === 'has' ? c.refParam : c.param;
      params.set(param.url, c.name);
      if (c.kind === 'chain') c.targets.forEach((t) => visit(t.next));
      if (c.kind === 'has') visit(c.next);
    };
    for (const list of criteria.values()) list.forEach(visit);
    for (const type of types) {
      for (const s of sort) {
        const param = this.registry.get(type, s.code);
        if (param) params.set(param.url, '_sort');
      }
    }
    const warnings: OperationOutcomeIssue[] = [];
    for (const [url, name] of params) {
      const progress = url ? this.registry.indexingOf(url) : undefined;
      if (!progress) continue;
      const state = progress.failed
        ? 'its re-index of stored resources failed (see SearchParameter/[id]/$reindex-status)'
        : `its stored resources are still being re-indexed (${progress.processed} of ${progress.total} done)`;
      warnings.push(issue('warning', 'incomplete', `Results may be incomplete: SearchParameter ${url} was defined recently and ${state}`, name));
    }
    return warnings;
  }

  private typesOf(input: SearchInput, result: ResultParams, reject: (name: string, reason: string) => void): string[] {
    if (input.compartment && !isSupportedCompartment(input.compartment.type)) {
      throw badRequest(`Compartment search is supported for Patient only, not ${input.compartment.type}`);
    }
    if (input.types) {
      if (result.types) reject('_type', '_type applies only to a system-level search');
      return input.types;
    }
    if (input.compartment) return result.types ?? compartmentTypes();
    return result.types ?? [...resourceTypes()].sort();
  }

  /** The criterion for each type, or UnknownParameter when any of the types does not know it. */
  private parseForTypes(types: readonly string[], name: string, value: string): Criterion[] | UnknownParameter {
    const parsed: Criterion[] = [];
    for (const type of types) {
      try {
        parsed.push(this.parser.parse(type, name, value));
      } catch (error) {
        if (error instanceof UnknownParameter) return error;
        throw error;
      }
    }
    return parsed;
  }

  private parseStrict(type: string, name: string, value: string): Criterion {
    try {
      return this.parser.parse(type, name, value);
    } catch (error) {
      if (error instanceof UnknownParameter) throw badRequest(`${error.message}: a condition may use only known parameters`, name);
      throw error;
    }
  }

  private unsortable(type: string, code: string): string | undefined {
    if (code === '_id' || code === '_lastUpdated') return undefined;
    const param = this.registry.get(type, code);
    if (!param) return `${type} has no search parameter "${code}" to sort by`;
    if (!SORTABLE.includes(param.type)) return `${type} cannot be sorted by ${param.type} parameter "${code}"`;
    return undefined;
  }

  /** Ids of the current resources of `type` matching a filter (the access policy's), at most `limit`. */
  async idsMatching(type: string, filter: Filter, limit: number): Promise<string[]> {
    const docs = await this.find(type, and([ALIVE, filter]), { limit, projection: { _id: 1 } }, undefined);
    return docs.map((d) => d._id);
  }

  /**
   * The filter of a granular scope's search parameters (e.g. `code=...|cmr` of
   * `system/Task.rs?code=...|cmr`): the access policy restricts by it. Unknown parameters are a 400.
   */
  async criteriaFilter(type: string, query: Array<[string, string]>, session?: StorageSession): Promise<Filter> {
    const criteria = query.filter(([name]) => !isResultParameter(name));
    return this.compile(type, criteria.map(([name, value]) => this.parseStrict(type, name, value)), undefined, session);
  }

  /** Included resources the caller may not read are left out, never leaked. */
  private async findIncluded(type: string, filter: Filter, limit: number, input: SearchInput): Promise<ResourceDocument[]> {
    const restriction = await restrictionOf(input.access, type, 'r', false);
    if (restriction === 'skip') return [];
    return this.find(type, restriction ? and([filter, restriction]) : filter, { limit }, input.session);
  }

  private async compile(
    type: string,
    criteria: Criterion[],
    baseUrl: string | undefined,
    session?: StorageSession,
    extra?: Filter,
    access?: SearchAccess,
  ): Promise<Filter> {
    const ctx: CompileContext = {
      baseUrl,
      valueSetCodes: this.valueSetCodes,
      componentType: (url) => this.registry.definition(url)?.type as ParamType | undefined,
      linked: {
        // A chain or _has goes only through resources the caller may search: a type it may not is
        // refused (403), and within a type only what it may see can make a link.
        find: async (t, filter, limit, withValues) => {
          const restriction = await restrictionOf(access, t, 's', true);
          const restricted = restriction && restriction !== 'skip' ? and([filter, restriction]) : filter;
          return this.find(t, restricted, { limit, projection: withValues ? { _id: 1, sp: 1 } : { _id: 1 } }, session);
        },
      },
    };
    const parts = [ALIVE];
    if (extra && Object.keys(extra).length) parts.push(extra);
    for (const criterion of criteria) parts.push(await compileCriterion(criterion, ctx));
    return and(parts);
  }

  private queries(session: StorageSession | undefined) {
    return { find: (type: string, filter: Filter, options: { sort: Record<string, 1 | -1>; limit: number }) => this.find(type, filter, options, session) };
  }

  private async find(
    type: string,
    filter: Filter,
    options: { sort?: Record<string, 1 | -1>; limit: number; projection?: Record<string, 0 | 1> },
    session: StorageSession | undefined,
  ): Promise<ResourceDocument[]> {
    const collection = await this.repository.collection(type);
    return collection.find(filter, { ...options, session });
  }

  private async countAll(filters: ReadonlyMap<string, Filter>, session: StorageSession | undefined): Promise<number> {
    let total = 0;
    for (const [type, filter] of filters) total += await (await this.repository.collection(type)).countDocuments(filter, { session });
    return total;
  }
}

/**
 * The caller's restriction on one type: undefined (none), a filter, or 'skip' for a type it may not
 * see at all. When `refuse` is set, such a type is a 403 instead of a skip.
 */
async function restrictionOf(
  access: SearchAccess | undefined,
  type: string,
  permission: 'r' | 's',
  refuse: boolean,
): Promise<Filter | undefined | 'skip'> {
  if (!access) return undefined;
  const restriction = await access.restriction(type, permission);
  if (restriction !== 'denied') return restriction;
  if (refuse) {
    throw new FhirError(403, [issue('error', 'forbidden', `The client's scopes do not allow ${permission === 's' ? 'searching' : 'reading'} ${type}`)]);
  }
  return 'skip';
}
