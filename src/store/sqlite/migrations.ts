import { SQLITE_SCHEMA } from '../schema/schema-dialect.ts';
import type { Migration } from '../schema/schema-migration.ts';
import { migrationsFor } from '../schema/schema-migrations.ts';

/** The schema's steps (`../schema/schema-migrations.ts`, where a new one is added) in SQLite's SQL. */
export const SQLITE_MIGRATIONS: readonly Migration[] = migrationsFor(SQLITE_SCHEMA);
