// Lists and rows bound as one value, so a statement's text is the same whatever their length: it is
// compiled, parsed and planned once and then kept (executeCached). A statement per list length was seldom
// used twice, so every batch built, parsed and planned its own (on SQLite each also held ~190 KB of native
// memory until a full collection); bound as one value, a 100,000-event ingest ran at 6,831 events/s
// instead of 5,984 on SQLite, 5,221 instead of 4,975 on PostgreSQL (`bench/only.ts ingest --both`).
//
// SQLite reads a list or rows from JSON text (json_each); it decodes a lone surrogate's escape to the same
// bytes as better-sqlite3 binds it with, so a bound list matches what separate parameters matched.
// PostgreSQL takes arrays (one per column for rows): its JSON rejects lone surrogates, and node-postgres
// writes array elements as it writes single parameters.
import { PostgresAdapter, sql, type RawBuilder } from 'kysely';
import type { Db } from './schema.js';

export type ElementType = 'text' | 'bigint' | 'integer';

export const isPostgres = (db: Db): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

/** What to bind for a list that `inList` reads. */
export function listValue(db: Db, values: readonly unknown[]): unknown {
  return isPostgres(db) ? values : JSON.stringify(values);
}

/** `column` is one of the list bound at `param` (see listValue): one index probe per value. */
export function inList(db: Db, column: string, param: unknown, type: ElementType): RawBuilder<boolean> {
  return isPostgres(db)
    ? sql<boolean>`${sql.ref(column)} = any(cast(${param} as ${sql.raw(type)}[]))`
    : sql<boolean>`${sql.ref(column)} in (select value from json_each(${param}))`;
}

export interface RowColumn {
  readonly name: string;
  readonly type: ElementType;
}

/** What to bind for rows that `rowsFrom` reads: JSON text of the rows on SQLite, an array a column on PostgreSQL. */
export function rowsValues(db: Db, columns: readonly RowColumn[], rows: readonly (readonly unknown[])[]): unknown[] {
  if (!isPostgres(db)) return [JSON.stringify(rows)];
  return columns.map((_, c) => rows.map((row) => row[c] ?? null));
}

/**
 * The rows bound by rowsValues as `select * … where true`, for `insert … select`: SQLite's parser needs the
 * WHERE before an upsert's ON CONFLICT there, and it costs nothing elsewhere.
 */
export function selectRows(db: Db, columns: readonly RowColumn[], param: (index: number) => never): RawBuilder<unknown> {
  return sql`select * from ${rowsFrom(db, 'k', columns, param)} where true`;
}

/**
 * The rows bound by rowsValues as a relation `alias(columns…)`, in the order given (json_each and unnest
 * both yield their elements in order; callers that depend on it check what they get back).
 */
export function rowsFrom(db: Db, alias: string, columns: readonly RowColumn[], param: (index: number) => never): RawBuilder<unknown> {
  const names = sql.join(columns.map((c) => sql.ref(c.name)));
  if (isPostgres(db)) {
    const arrays = sql.join(columns.map((c, i) => sql`cast(${param(i)} as ${sql.raw(c.type)}[])`));
    return sql`unnest(${arrays}) as ${sql.table(alias)}(${names})`;
  }
  const fields = sql.join(columns.map((c, i) => sql`value ->> ${sql.lit(i)} as ${sql.ref(c.name)}`));
  return sql`(select ${fields} from json_each(${param(0)})) as ${sql.table(alias)}`;
}
