/**
 * The search service: parses a query, compiles it to one filter per resource type, runs one keyset
 * page, adds _include/_revinclude and shapes the result. It also answers the conditional
 * interactions' "which resources match these parameters?" (SearchPort.findMatches).
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { resourceTypes } from '../fhir/definitions';
import { badRequest, issue } from '../fhir/outcome';
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

  async findMatches(type: string, query: Array<[string, string]>, options: { limit: number; session?: StorageSession }): Promise<Resource[]> {
    parseResultParams(query); // malformed result parameters are still refused
    const criteria = query.filter(([name]) => !isResultParameter(name));
    if (criteria.length === 0) throw badRequest(`The condition needs at least one search parameter of ${type}`);
    const parsed = criteria.map(([name, value]) => this.parseStrict(type, name, value));
    const filter = await this.compile(type, parsed, undefined, options.session);
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

    const filters = new Map<string, Filter>();
    for (const type of types) {
      const compartment = input.compartment ? compartmentFilter(type, input.compartment.id) : undefined;
      if (input.compartment && !compartment) {
        if (input.types) issues.push(issue('warning', 'not-found', `No ${type} can be in a ${input.compartment.type} compartment`));
        continue;
      }
      filters.set(type, await this.compile(type, criteria.get(type) ?? [], input.baseUrl, input.session, compartment));
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
      { find: (type, filter, limit) => this.find(type, filter, { limit }, input.session) },
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

  private async compile(type: string, criteria: Criterion[], baseUrl: string | undefined, session?: StorageSession, extra?: Filter): Promise<Filter> {
    const ctx: CompileContext = {
      baseUrl,
      valueSetCodes: this.valueSetCodes,
      componentType: (url) => this.registry.definition(url)?.type as ParamType | undefined,
      linked: {
        find: (t, filter, limit, withValues) =>
          this.find(t, filter, { limit, projection: withValues ? { _id: 1, sp: 1 } : { _id: 1 } }, session),
      },
    };
    const parts = [ALIVE];
    if (extra) parts.push(extra);
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
