/**
 * The search parameters this server supports per resource type: the R4 specification's, plus our
 * own from profiles/ (a custom parameter with the same code and base replaces the R4 one), plus the
 * SearchParameter resources clients made active at run time (runtime-parameters.ts decides which).
 * Each definition is narrowed to its type and compiled lazily, the first time the type is used.
 */
import { createHash } from 'node:crypto';
import type { SearchParameter } from '@medplum/fhirtypes';
import { baseSearchParameters } from '../fhir/definitions';
import { type CompiledExpression, compileExpression, expressionForType } from './expressions';
import { compilePathExpression } from './path-expressions';
import type { ParamType } from './types';

export interface ParamDef {
  code: string;
  type: ParamType;
  url: string;
  /** The expression restricted to this resource type; absent for parameters served without one (_id). */
  expression?: string;
  /** Reference targets declared by the definition. */
  targets: readonly string[];
  /** Composite components: the component parameter's url and its expression relative to each base node. */
  components?: ReadonlyArray<{ definition: string; expression: string }>;
}

/** Bump when the shape of `sp` or `sk` changes: every stored document is then re-indexed at start. */
const INDEX_FORMAT = 1;

/** Parameters whose values live outside `sp`, or that we do not serve at all. */
const NOT_INDEXED = new Set(['_id', '_text', '_content', '_query', '_list', '_filter', '_has', '_type']);

/** How far the re-index of a run-time parameter's stored resources has got. */
export interface IndexingProgress {
  processed: number;
  total: number;
  /** The re-index stopped on an error: searches stay partial until the parameter is written again. */
  failed?: boolean;
}

export class SearchParameterRegistry {
  private readonly byType = new Map<string, Map<string, ParamDef>>();
  private readonly compiled = new Map<string, CompiledExpression | null>();
  private readonly urls = new Map<string, SearchParameter>();
  private readonly all: readonly SearchParameter[];
  /** Parameters defined at run time, by url; their values are not part of `fingerprint`. */
  private readonly runtime = new Map<string, SearchParameter>();
  /** Run-time parameters whose stored resources are still being re-indexed, by url. */
  private readonly indexing = new Map<string, IndexingProgress>();
  /**
   * Changes whenever the stored search values would: with the index format or our own parameters.
   * Run-time parameters are left out: each has its own re-index job, so defining one does not make
   * the next start re-index every stored resource of every type.
   */
  readonly fingerprint: string;
  /** Bumped whenever the set of parameters changes (a run-time parameter defined or removed). */
  generation = 0;

  constructor(custom: readonly SearchParameter[] = []) {
    this.all = [...baseSearchParameters(), ...custom];
    for (const sp of this.all) if (sp.url) this.urls.set(sp.url, sp);
    const definitions = custom.map((sp) => [sp.url, sp.code, sp.type, sp.base, sp.expression, sp.target, sp.component]);
    this.fingerprint = createHash('sha256').update(JSON.stringify([INDEX_FORMAT, baseSearchParameters().length, definitions])).digest('base64url').slice(0, 16);
  }

  /** Every parameter of `type`, keyed by code. */
  forType(type: string): ReadonlyMap<string, ParamDef> {
    let params = this.byType.get(type);
    if (!params) this.byType.set(type, (params = this.build(type)));
    return params;
  }

  get(type: string, code: string): ParamDef | undefined {
    return this.forType(type).get(code);
  }

  definition(url: string): SearchParameter | undefined {
    return this.urls.get(url) ?? this.runtime.get(url);
  }

  /** A definition the server ships (R4 or profiles/), which run-time ones may not replace. */
  builtIn(url: string): SearchParameter | undefined {
    return this.urls.get(url);
  }

  /** The run-time definitions now in force. */
  runtimeDefinitions(): SearchParameter[] {
    return [...this.runtime.values()];
  }

  /** Makes a run-time parameter searchable, replacing the one with the same url (checked beforehand). */
  define(sp: SearchParameter & { url: string }): void {
    this.remove(sp.url);
    this.runtime.set(sp.url, sp);
    this.forget(sp);
  }

  /** Stops a run-time parameter: its values are no longer indexed nor searched. */
  remove(url: string): void {
    const previous = this.runtime.get(url);
    if (!previous) return;
    this.runtime.delete(url);
    this.indexing.delete(url);
    this.forget(previous);
  }

  /** Marks a run-time parameter as being re-indexed (searches on it say so), or done (undefined). */
  setIndexing(url: string, progress: IndexingProgress | undefined): void {
    if (progress && this.runtime.has(url)) this.indexing.set(url, progress);
    else this.indexing.delete(url);
  }

  indexingOf(url: string): IndexingProgress | undefined {
    return this.indexing.get(url);
  }

  private forget(sp: SearchParameter): void {
    for (const base of (sp.base ?? []) as string[]) {
      this.byType.delete(base);
      this.compiled.delete(`${base}\u0000${sp.code}`);
    }
    this.generation++;
  }

  /** The parameter's compiled expression, or undefined when it has none we can evaluate. */
  evaluator(type: string, param: ParamDef): CompiledExpression | undefined {
    if (!param.expression || NOT_INDEXED.has(param.code)) return undefined;
    const key = `${type}\u0000${param.code}`;
    if (!this.compiled.has(key)) {
      let fn: CompiledExpression | null = null;
      try {
        // Composites hand their nodes' paths to component expressions; only fhirpath.js gives those.
        const direct = param.type === 'composite' ? undefined : compilePathExpression(param.expression, type);
        fn = direct ?? compileExpression(param.expression);
      } catch {
        fn = null; // an expression fhirpath.js cannot compile: the parameter matches nothing rather than failing writes
      }
      this.compiled.set(key, fn);
    }
    return this.compiled.get(key) ?? undefined;
  }

  /** A composite component's expression, relative to a base node at `basePath`. */
  componentEvaluator(basePath: string, expression: string): CompiledExpression | undefined {
    const key = `${basePath}\u0000${expression}`;
    if (!this.compiled.has(key)) {
      let fn: CompiledExpression | null = null;
      try {
        fn = compileExpression({ base: basePath, expression });
      } catch {
        fn = null;
      }
      this.compiled.set(key, fn);
    }
    return this.compiled.get(key) ?? undefined;
  }

  private build(type: string): Map<string, ParamDef> {
    const params = new Map<string, ParamDef>();
    for (const sp of [...this.all, ...this.runtime.values()]) {
      const bases = (sp.base ?? []) as string[];
      const generic = bases.includes('Resource') || bases.includes('DomainResource');
      if (!sp.code || !sp.type || (!bases.includes(type) && !generic)) continue;
      if (sp.code === '_id') {
        params.set('_id', { code: '_id', type: 'token', url: sp.url ?? '', targets: [] });
        continue;
      }
      if (!sp.expression) continue;
      const expression = expressionForType(sp.expression, type);
      if (!expression) continue;
      params.set(sp.code, {
        code: sp.code,
        type: sp.type as ParamType,
        url: sp.url ?? '',
        expression,
        targets: (sp.target ?? []) as string[],
        components: sp.component?.map((c) => ({ definition: c.definition ?? '', expression: c.expression ?? '' })),
      });
    }
    return params;
  }
}
