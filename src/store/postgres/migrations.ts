import { pendingMigrations } from '../pending-migrations.ts';
import { int } from '../rows.ts';
import { PG_SCHEMA } from '../schema/schema-dialect.ts';
import type { Migration } from '../schema/schema-migration.ts';
import { migrationsFor } from '../schema/schema-migrations.ts';
import type { PgQueryable } from './pg-client.ts';

/** The schema's steps (`../schema/schema-migrations.ts`, where a new one is added) in PostgreSQL's SQL. */
export const PG_MIGRATIONS: readonly Migration[] = migrationsFor(PG_SCHEMA);

// Any constant works as long as every tokenmeter process uses the same one.
const MIGRATION_LOCK = 7_254_091_337;

/**
 * Applies pending migrations inside the caller's transaction. The transaction-scoped advisory
 * lock makes processes that start at once take turns: the first applies, the others then find
 * nothing left to do.
 */
export async function applyMigrations(q: PgQueryable, now: number): Promise<void> {
  await q.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  await q.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version bigint PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`,
  );
  const applied = (await q.query('SELECT version FROM schema_migrations')).map((r) => int(r, 'version'));
  for (const m of pendingMigrations(PG_MIGRATIONS, applied)) {
    await q.exec(m.sql);
    await q.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
      m.version,
      m.name,
      now,
    ]);
  }
}
