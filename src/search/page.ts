/**
 * Runs one page of a compiled search over one or several resource types: keyset filter, sort,
 * limit. Several types (system-level search) are ordered by (sort keys, type, id) and merged.
 */
import type { ResourceDocument } from '../storage/collections';
import type { Filter } from '../storage/port';
import { and } from './compile';
import type { TypedDocument } from './includes';
import { compareKeys, type Cursor, keysetFilter, keyValues, mongoSort, reversed, type SortField, type TieRule } from './paging';

export interface PageQueries {
  find(type: string, filter: Filter, options: { sort: Record<string, 1 | -1>; limit: number }): Promise<ResourceDocument[]>;
}

export interface Page {
  rows: TypedDocument[];
  next?: Cursor;
  previous?: Cursor;
}

function tieRule(type: string, cursor: Cursor | undefined, multi: boolean): TieRule {
  if (!multi || !cursor?.type || type === cursor.type) return 'after-id';
  const before = type < cursor.type;
  // walking forwards, types earlier in the order already had their rows with equal keys
  return before === (cursor.dir === 'n') ? 'exclude' : 'include';
}

export async function fetchPage(
  queries: PageQueries,
  filters: ReadonlyMap<string, Filter>,
  fields: readonly SortField[],
  count: number,
  cursor: Cursor | undefined,
): Promise<Page> {
  const backwards = cursor?.dir === 'p';
  const order = backwards ? reversed(fields) : [...fields];
  const multi = filters.size > 1;
  const rows: TypedDocument[] = [];
  for (const [type, filter] of filters) {
    const keyset = cursor ? keysetFilter(order, cursor.values, tieRule(type, cursor, multi)) : {};
    const docs = await queries.find(type, and([filter, keyset]), { sort: mongoSort(order), limit: count + 1 });
    rows.push(...docs.map((doc) => ({ type, doc })));
  }
  if (multi) {
    const direction = backwards ? -1 : 1;
    rows.sort((a, b) => {
      const byKeys = compareKeys(keyValues(a.doc, order).slice(0, -1), keyValues(b.doc, order).slice(0, -1), order);
      if (byKeys !== 0) return byKeys;
      if (a.type !== b.type) return (a.type < b.type ? -1 : 1) * direction;
      return (a.doc._id < b.doc._id ? -1 : 1) * direction;
    });
  }
  const more = rows.length > count;
  const pageRows = rows.slice(0, count);
  if (backwards) pageRows.reverse();
  const first = pageRows[0];
  const last = pageRows[pageRows.length - 1];
  const position = (row: TypedDocument, dir: 'n' | 'p'): Cursor => ({ dir, values: keyValues(row.doc, fields), type: multi ? row.type : undefined });
  const page: Page = { rows: pageRows };
  if (backwards) {
    if (more && first) page.previous = position(first, 'p');
    page.next = last ? position(last, 'n') : { ...(cursor as Cursor), dir: 'n' };
  } else {
    if (more && last) page.next = position(last, 'n');
    if (cursor) page.previous = first ? position(first, 'p') : { ...cursor, dir: 'p' };
  }
  return page;
}
