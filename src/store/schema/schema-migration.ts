import type { SchemaDialect } from './schema-dialect.ts';

/**
 * One schema step, written once for both backends: `sql` renders its statements in a dialect.
 * Applied in order, each in the transaction of its migrate, recorded in schema_migrations.
 */
export interface SchemaMigration {
  version: number;
  /** Recorded with the version; never renamed once released. */
  name: string;
  sql(d: SchemaDialect): string;
}

/** A step rendered for one backend, as its store applies it. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}
