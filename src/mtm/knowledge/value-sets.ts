/**
 * Knowledge as data (DESIGN.md decision 11): drug classes and condition groups are ValueSets held
 * in storage like any other resource. The latest version of each canonical URL is used, so an
 * operator replaces a class by posting a new ValueSet version; no code changes, no restart.
 *
 * "Latest" is the active (or draft) ValueSet with that url and the latest `date`, then the one
 * stored last. Expansion follows compose.include (concepts and nested valueSet references) and, for
 * ValueSets posted as VSAC-style expansions, expansion.contains.
 */
import type { ValueSet, ValueSetComposeInclude, ValueSetExpansionContains } from '@medplum/fhirtypes';
import type { ResourceDocument } from '../../storage/collections';
import type { StorageEngine } from '../../storage/port';

export interface Concept {
  system: string;
  code: string;
  display?: string;
}

export interface ExpandedValueSet {
  url: string;
  id?: string;
  version?: string;
  title?: string;
  /** The stored ValueSet (and nested ones) this expansion came from, for evidence. */
  sources: string[];
  concepts: Concept[];
  /** "system|code" of every concept, for membership tests. */
  keys: ReadonlySet<string>;
}

export const conceptKey = (system: string | undefined, code: string): string => `${system ?? ''}|${code}`;

interface Snapshot {
  fingerprint: string;
  byUrl: Map<string, ValueSet>;
  expanded: Map<string, ExpandedValueSet | undefined>;
  /** Things derived from this snapshot (compiled drug classes), dropped with it. */
  derived: Map<string, unknown>;
}

export class KnowledgeValueSets {
  private snapshot?: Snapshot;
  private loading?: Promise<Snapshot>;

  constructor(private readonly engine: StorageEngine) {}

  /** The expansion of the latest version of each URL; undefined for URLs no ValueSet has. */
  async expand(urls: readonly string[]): Promise<Map<string, ExpandedValueSet | undefined>> {
    const snapshot = await this.current();
    const result = new Map<string, ExpandedValueSet | undefined>();
    for (const url of urls) result.set(url, expandUrl(snapshot, url, new Set()));
    return result;
  }

  /** Builds something from the current ValueSets once, until they change. */
  async derive<T>(key: string, build: (expand: (urls: readonly string[]) => Map<string, ExpandedValueSet | undefined>) => T): Promise<T> {
    const snapshot = await this.current();
    if (!snapshot.derived.has(key)) {
      const expand = (urls: readonly string[]) => new Map(urls.map((u) => [u, expandUrl(snapshot, u, new Set())] as const));
      snapshot.derived.set(key, build(expand));
    }
    return snapshot.derived.get(key) as T;
  }

  /**
   * Reloads only when the ValueSets changed: their count and newest write time make the
   * fingerprint, one indexed read instead of re-reading every ValueSet per request.
   */
  private async current(): Promise<Snapshot> {
    const collection = this.engine.collection<ResourceDocument>('ValueSet');
    const [newest] = await collection.find({}, { sort: { ts: -1 }, limit: 1, projection: { _id: 1, ts: 1, vid: 1 } });
    const count = await collection.countDocuments({});
    const fingerprint = `${count}:${newest?._id ?? ''}:${newest?.ts ?? 0}:${newest?.vid ?? 0}`;
    if (this.snapshot?.fingerprint === fingerprint) return this.snapshot;
    this.loading ??= this.load(fingerprint).finally(() => {
      this.loading = undefined;
    });
    this.snapshot = await this.loading;
    return this.snapshot;
  }

  private async load(fingerprint: string): Promise<Snapshot> {
    const collection = this.engine.collection<ResourceDocument>('ValueSet');
    const docs = (await collection.find({})) as ResourceDocument[];
    const byUrl = new Map<string, { vs: ValueSet; ts: number }>();
    for (const doc of docs) {
      const vs = doc.resource as ValueSet | undefined;
      if (!vs?.url || vs.status === 'retired') continue; // tombstones of deleted ValueSets have no resource
      const held = byUrl.get(vs.url);
      if (!held || newer(vs, doc.ts, held.vs, held.ts)) byUrl.set(vs.url, { vs, ts: doc.ts });
    }
    return { fingerprint, byUrl: new Map([...byUrl].map(([url, { vs }]) => [url, vs])), expanded: new Map(), derived: new Map() };
  }
}

function newer(a: ValueSet, aTs: number, b: ValueSet, bTs: number): boolean {
  const ad = a.date ? Date.parse(a.date) : 0;
  const bd = b.date ? Date.parse(b.date) : 0;
  if (ad !== bd) return ad > bd;
  return aTs > bTs;
}

function expandUrl(snapshot: Snapshot, url: string, visiting: Set<string>): ExpandedValueSet | undefined {
  const bare = url.split('|')[0];
  if (snapshot.expanded.has(bare)) return snapshot.expanded.get(bare);
  const vs = snapshot.byUrl.get(bare);
  if (!vs || visiting.has(bare)) return undefined;
  visiting.add(bare);
  const concepts: Concept[] = [];
  const sources = new Set<string>([`ValueSet/${vs.id}`]);
  for (const include of vs.compose?.include ?? []) addInclude(snapshot, include, concepts, sources, visiting);
  addContains(vs.expansion?.contains ?? [], concepts);
  const excluded = new Set<string>();
  for (const exclude of vs.compose?.exclude ?? []) {
    for (const c of exclude.concept ?? []) excluded.add(conceptKey(exclude.system, c.code as string));
  }
  const kept = concepts.filter((c) => !excluded.has(conceptKey(c.system, c.code)));
  const expanded: ExpandedValueSet = {
    url: bare,
    id: vs.id,
    version: vs.version,
    title: vs.title ?? vs.name,
    sources: [...sources],
    concepts: kept,
    keys: new Set(kept.map((c) => conceptKey(c.system, c.code))),
  };
  visiting.delete(bare);
  snapshot.expanded.set(bare, expanded);
  return expanded;
}

function addInclude(snapshot: Snapshot, include: ValueSetComposeInclude, concepts: Concept[], sources: Set<string>, visiting: Set<string>): void {
  const nested = (include.valueSet ?? []).map((u) => expandUrl(snapshot, u, visiting));
  // Several valueSets in one include are an intersection; one (or none) is a plain union member.
  if (nested.length > 0) {
    for (const n of nested) for (const s of n?.sources ?? []) sources.add(s);
    const [first, ...rest] = nested;
    for (const c of first?.concepts ?? []) {
      if (rest.every((r) => r?.keys.has(conceptKey(c.system, c.code)))) concepts.push(c);
    }
    return;
  }
  if (!include.system) return;
  for (const c of include.concept ?? []) if (c.code) concepts.push({ system: include.system, code: c.code, display: c.display });
}

function addContains(contains: ValueSetExpansionContains[], concepts: Concept[]): void {
  for (const c of contains) {
    if (c.code && c.system && !c.abstract) concepts.push({ system: c.system, code: c.code, display: c.display });
    if (c.contains) addContains(c.contains, concepts);
  }
}
