// What a database's schema is, read back from its catalogs, so two databases (or a database and
// a checked-in fixture) can be compared object by object. Used by test/store/schema-*.test.ts.
import type { DatabaseSync } from 'node:sqlite';
import type { PgQueryable } from '../../src/store/postgres/pg-client.ts';
import type { Row } from '../../src/store/rows.ts';

/** One sqlite_master row. `sql` is null for the indexes SQLite makes itself (UNIQUE, PRIMARY KEY). */
export interface SqliteSchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

/** Every table, index and trigger, by name, with the SQL SQLite stored for it. */
export function sqliteSchema(db: DatabaseSync): SqliteSchemaRow[] {
  return db
    .prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name')
    .all()
    .map((r) => ({
      type: String(r.type),
      name: String(r.name),
      tbl_name: String(r.tbl_name),
      sql: r.sql === null ? null : String(r.sql),
    }));
}

/**
 * SQLite stores each statement's text as written: only runs of whitespace are allowed to differ
 * between two schemas, so they become one space (and none inside parentheses' edges).
 */
export function normalizeSqliteSchema(rows: readonly SqliteSchemaRow[]): SqliteSchemaRow[] {
  const squash = (sql: string) => sql.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();
  return rows.map((r) => ({ ...r, sql: r.sql === null ? null : squash(r.sql) }));
}

/** A PostgreSQL schema as its catalogs describe it, every list in a fixed order. */
export interface PgSchema {
  columns: Row[];
  constraints: Row[];
  indexes: Row[];
  triggers: Row[];
  functions: Row[];
  sequences: Row[];
}

/** Reads the current schema (`public` in a fresh database) of a PostgreSQL server or PGlite. */
export async function pgSchema(q: PgQueryable): Promise<PgSchema> {
  const text = (rows: Row[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, str(v)])));
  return {
    columns: text(
      await q.query(
        `SELECT table_name, column_name, ordinal_position, data_type, column_default, is_nullable,
                is_identity, identity_generation
           FROM information_schema.columns WHERE table_schema = current_schema()
          ORDER BY table_name, ordinal_position`,
      ),
    ),
    constraints: text(
      await q.query(
        `SELECT conrelid::regclass::text AS table_name, conname, contype, convalidated,
                pg_get_constraintdef(oid) AS definition
           FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
          ORDER BY conrelid::regclass::text, conname`,
      ),
    ),
    indexes: text(
      await q.query(
        `SELECT tablename, indexname, indexdef FROM pg_indexes
          WHERE schemaname = current_schema() ORDER BY tablename, indexname`,
      ),
    ),
    triggers: text(
      await q.query(
        `SELECT tgrelid::regclass::text AS table_name, tgname, pg_get_triggerdef(t.oid) AS definition
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace
          ORDER BY 1, 2`,
      ),
    ),
    functions: text(
      await q.query(
        `SELECT proname, pg_get_functiondef(oid) AS definition FROM pg_proc
          WHERE pronamespace = current_schema()::regnamespace ORDER BY proname`,
      ),
    ),
    sequences: text(
      await q.query(
        `SELECT sequence_name, data_type, start_value, increment, maximum_value
           FROM information_schema.sequences WHERE sequence_schema = current_schema()
          ORDER BY sequence_name`,
      ),
    ),
  };
}

// Drivers differ in how they hand back numbers and booleans (pg: strings, PGlite: numbers);
// the comparison is of what the catalog says, so everything becomes text.
function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}
