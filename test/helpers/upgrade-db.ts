// A database a test writes and reads with raw SQL beside the stores it opens on it, as the
// engine would, on a fresh SQLite file or PostgreSQL database: a migration's upgrade test, a
// plan test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPgStore } from '../../src/store/postgres/open-pg-store.ts';
import { SCHEMA_MIGRATIONS } from '../../src/store/schema/schema-migrations.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { createTestDatabase } from './pg-server.ts';
import { withDb } from './sqlite-file.ts';

export interface RawDatabase {
  backend: 'sqlite' | 'postgres';
  /** Runs statements (`bigint`, as PostgreSQL spells it, becomes SQLite's INTEGER there). */
  exec(sql: string): Promise<void>;
  /** The rows of a query (of the last statement, where several are given without parameters). */
  query(sql: string, params?: readonly (string | number)[]): Promise<Record<string, unknown>[]>;
  /** A store on the database, not yet migrated; closed after the test. */
  open(): Store;
}

/** Runs `body` on a fresh SQLite file, then closes every store it opened and removes the file. */
export async function onSqliteFile(body: (db: RawDatabase) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-upgrade-'));
  const path = join(dir, 'ledger.db');
  const stores: Store[] = [];
  try {
    await body({
      backend: 'sqlite',
      exec: async (sql) => withDb(path, (db) => db.exec(sql.replaceAll('bigint', 'INTEGER'))),
      query: async (sql, params = []) =>
        withDb(path, (db) => db.prepare(sql).all(...params) as Record<string, unknown>[]),
      open: () => {
        const store = new SqliteStore({ path });
        stores.push(store);
        return store;
      },
    });
  } finally {
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `body` on a fresh PostgreSQL database, then closes every store it opened and drops it. */
export async function onPgDatabase(body: (db: RawDatabase) => Promise<void>): Promise<void> {
  const database = await createTestDatabase();
  const stores: Store[] = [];
  const query = async (sql: string, params: readonly (string | number)[] = []) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const result = params.length === 0 ? await client.query(sql) : await client.query(sql, [...params]);
      return (Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows) as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  try {
    await body({
      backend: 'postgres',
      exec: async (sql) => {
        await query(sql);
      },
      query,
      open: () => {
        const store = openPgStore({ url: database.url, poolSize: 2, allowExitOnIdle: true });
        stores.push(store);
        return store;
      },
    });
  } finally {
    for (const s of stores) await s.close();
    await database.drop();
  }
}

/** Which of the indexes `names` the database has, sorted. */
export async function indexesAmong(db: RawDatabase, names: readonly string[]): Promise<string[]> {
  const list = names.map((n) => `'${n}'`).join(', ');
  const rows = await db.query(
    db.backend === 'sqlite'
      ? `SELECT name FROM sqlite_master WHERE type = 'index' AND name IN (${list}) ORDER BY name`
      : `SELECT indexname AS name FROM pg_indexes WHERE indexname IN (${list}) ORDER BY indexname`,
  );
  return rows.map((r) => String(r.name));
}

/**
 * A store on `db` migrated as a database made before step `version`: that step and every later
 * one are marked applied first, so that migrate passes over them; `runStepsFrom` then unmarks
 * them, and the next migrate runs them, in order, over what was written meanwhile.
 */
export async function migratedBefore(db: RawDatabase, version: number): Promise<Store> {
  const later = SCHEMA_MIGRATIONS.filter((m) => m.version >= version);
  await db.exec(`CREATE TABLE schema_migrations (version bigint PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL);
    ${later.map((m) => `INSERT INTO schema_migrations VALUES (${m.version}, '${m.name}', 0);`).join('\n')}`);
  const store = db.open();
  await store.migrate();
  return store;
}

/**
 * Unmarks step `version` and every later one up to `through` (see `migratedBefore`) and migrates
 * a new store, which runs them; steps after `through` stay marked, so a test of one step alone
 * does not change when a later step is added.
 */
export async function runStepsFrom(
  db: RawDatabase,
  version: number,
  through = Number.MAX_SAFE_INTEGER,
): Promise<Store> {
  await db.exec(`DELETE FROM schema_migrations WHERE version >= ${version} AND version <= ${through}`);
  const store = db.open();
  await store.migrate();
  return store;
}
