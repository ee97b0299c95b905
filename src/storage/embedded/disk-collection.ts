/**
 * A collection with a table of its own (resource history): append-mostly and read rarely, by fields
 * that are SQL columns.
 * The conditions SQL can answer (equality and ranges on the layout's columns) are pushed into SQL;
 * mingo evaluates whatever remains, so results equal what MongoDB would return for the same filter.
 */
import type {
  DeleteResult,
  Document,
  DocumentCollection,
  Filter,
  FindExplanation,
  FindOptions,
  IndexSpec,
  ReplaceOptions,
  ReplaceResult,
  WriteOptions,
} from '../port';
import { DuplicateKeyError } from '../port';
import { compileFilter, runQuery } from './query';
import type { EmbeddedSession, SessionRunner } from './session';
import { type DiskCollectionLayout, type SqliteFile, sqlValue, tableName } from './sqlite-file';
import { conjuncts } from './value-index';

interface SqlWhere {
  clauses: string[];
  params: Array<string | number | null>;
  /** True when SQL alone decides the filter, so sort and paging can run in SQL too. */
  complete: boolean;
}

const RANGE_OPERATORS: Record<string, string> = { $eq: '=', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };

export class DiskCollection<T extends Document> implements DocumentCollection<T> {
  private readonly table: string;
  private readonly columns: Set<string>;

  constructor(
    readonly name: string,
    private readonly sqlite: SqliteFile,
    private readonly layout: DiskCollectionLayout,
    private readonly runner: SessionRunner,
  ) {
    sqlite.ensureDiskCollection(name, layout);
    this.table = tableName(name);
    this.columns = new Set(['_id', ...layout.columns]);
  }

  columnValues(doc: T): Record<string, unknown> {
    const record = doc as unknown as Record<string, unknown>;
    return Object.fromEntries(this.layout.columns.map((c) => [c, record[c]]));
  }

  async find(filter: Filter, options: FindOptions = {}): Promise<T[]> {
    return this.findNow(filter, options, options.session as EmbeddedSession | undefined);
  }

  async findOne(filter: Filter, options: WriteOptions = {}): Promise<T | null> {
    return this.findNow(filter, { limit: 1 }, options.session as EmbeddedSession | undefined)[0] ?? null;
  }

  async countDocuments(filter: Filter, options: WriteOptions = {}): Promise<number> {
    const session = options.session as EmbeddedSession | undefined;
    const where = this.where(filter);
    if (where.complete && !session?.pendingFor(this.name)) {
      const row = this.sqlite.statement(`SELECT COUNT(*) AS n FROM ${this.table}${whereSql(where)}`).get(...where.params) as { n: number };
      return row.n;
    }
    return this.findNow(filter, {}, session).length;
  }

  async insertOne(doc: T, options: WriteOptions = {}): Promise<void> {
    await this.runner.inSession(options.session as EmbeddedSession | undefined, (session) => {
      if (this.exists(doc._id, session)) throw new DuplicateKeyError(this.name, doc._id);
      session.stage(this.name, doc._id, doc);
    });
  }

  async replaceOne(filter: Filter, doc: T, options: ReplaceOptions = {}): Promise<ReplaceResult> {
    return this.runner.inSession(options.session as EmbeddedSession | undefined, (session) => {
      const existing = this.findNow(filter, { limit: 1 }, session)[0];
      if (existing) {
        session.stage(this.name, existing._id, { ...doc, _id: existing._id });
        return { matchedCount: 1, upsertedCount: 0 };
      }
      if (!options.upsert) return { matchedCount: 0, upsertedCount: 0 };
      session.stage(this.name, doc._id, doc);
      return { matchedCount: 0, upsertedCount: 1 };
    });
  }

  async deleteOne(filter: Filter, options: WriteOptions = {}): Promise<DeleteResult> {
    return this.runner.inSession(options.session as EmbeddedSession | undefined, (session) => {
      const existing = this.findNow(filter, { limit: 1 }, session)[0];
      if (!existing) return { deletedCount: 0 };
      session.stage(this.name, existing._id, null);
      return { deletedCount: 1 };
    });
  }

  /** Whether a document with this _id exists, for the session: a key probe, no body read or parsed. */
  private exists(id: string, session: EmbeddedSession | undefined): boolean {
    const pending = session?.pendingFor(this.name);
    if (pending?.has(id)) return pending.get(id) !== null;
    return this.sqlite.statement(`SELECT 1 FROM ${this.table} WHERE _id = ?`).get(id) !== undefined;
  }

  /** The rows the SQL part of the filter selects: the rest of the filter is tested on each of them. */
  async explain(filter: Filter): Promise<FindExplanation> {
    const where = this.where(filter);
    const row = this.sqlite.statement(`SELECT COUNT(*) AS n FROM ${this.table}${whereSql(where)}`).get(...where.params) as { n: number };
    return { docsExamined: row.n };
  }

  /** SQLite indexes every layout column at creation; other index requests need nothing more. */
  async createIndex(_spec: IndexSpec): Promise<void> {}

  private findNow(filter: Filter, options: FindOptions, session: EmbeddedSession | undefined): T[] {
    const pending = session?.pendingFor(this.name);
    const where = this.where(filter);
    const sortInSql = Object.keys(options.sort ?? {}).every((k) => this.columns.has(k));
    if (where.complete && sortInSql && !pending && !options.projection) {
      const order = Object.entries(options.sort ?? {})
        .map(([k, d]) => `"${k}" ${d === -1 ? 'DESC' : 'ASC'}`)
        .join(', ');
      const sql =
        `SELECT body FROM ${this.table}${whereSql(where)}` +
        (order ? ` ORDER BY ${order}` : '') +
        ` LIMIT ? OFFSET ?`;
      const rows = this.sqlite
        .statement(sql)
        .raw()
        .all(...where.params, options.limit && options.limit > 0 ? options.limit : -1, options.skip ?? 0) as [string][];
      return rows.map((r) => JSON.parse(r[0]) as T);
    }
    const rows = this.sqlite
      .statement(`SELECT _id, body FROM ${this.table}${whereSql(where)}`)
      .raw()
      .all(...where.params) as [string, string][];
    const docs: T[] = [];
    for (const [id, body] of rows) if (!pending?.has(id)) docs.push(JSON.parse(body) as T);
    if (pending) for (const doc of pending.values()) if (doc) docs.push(doc as T);
    return runQuery(compileFilter(filter), docs, options);
  }

  private where(filter: Filter): SqlWhere {
    const where: SqlWhere = { clauses: [], params: [], complete: true };
    for (const [key, condition] of conjuncts(filter)) {
      if (key === '$or' && this.addAlternatives(where, condition)) continue;
      if (!this.columns.has(key) || !this.addCondition(where, key, condition)) where.complete = false;
    }
    return where;
  }

  /** An $or whose branches SQL decides entirely (a history page's keyset cursor), as one SQL condition. */
  private addAlternatives(where: SqlWhere, branches: unknown): boolean {
    if (!Array.isArray(branches) || branches.length === 0) return false;
    const parts = branches.map((branch) => (branch && typeof branch === 'object' ? this.where(branch as Filter) : undefined));
    if (parts.some((part) => !part?.complete || part.clauses.length === 0)) return false;
    where.clauses.push(`(${parts.map((part) => `(${part?.clauses.join(' AND ')})`).join(' OR ')})`);
    for (const part of parts) where.params.push(...(part?.params ?? []));
    return true;
  }

  private addCondition(where: SqlWhere, column: string, condition: unknown): boolean {
    if (typeof condition === 'string' || typeof condition === 'number') {
      where.clauses.push(`"${column}" = ?`);
      where.params.push(condition);
      return true;
    }
    if (!condition || typeof condition !== 'object' || Array.isArray(condition)) return false;
    let complete = true;
    for (const [op, value] of Object.entries(condition)) {
      if (op === '$in' && Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
        where.clauses.push(`"${column}" IN (${value.map(() => '?').join(', ') || 'NULL'})`);
        where.params.push(...(value as Array<string | number>));
      } else if (op in RANGE_OPERATORS && (typeof value === 'string' || typeof value === 'number')) {
        where.clauses.push(`"${column}" ${RANGE_OPERATORS[op]} ?`);
        where.params.push(sqlValue(value));
      } else {
        complete = false;
      }
    }
    return complete;
  }
}

function whereSql(where: SqlWhere): string {
  return where.clauses.length ? ` WHERE ${where.clauses.join(' AND ')}` : '';
}
