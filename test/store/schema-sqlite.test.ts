import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { withDb } from '../helpers/sqlite-file.ts';
import { normalizeSqliteSchema, type SqliteSchemaRow, sqliteSchema } from './schema-snapshot.ts';

// Made by the code before the schema was written once (see the files' first lines).
const FIXTURE = (
  JSON.parse(readFileSync(new URL('./fixtures/schema-v6.sqlite.json', import.meta.url), 'utf8')) as {
    sqlite_master: SqliteSchemaRow[];
  }
).sqlite_master;
const OLD_DATABASE = readFileSync(new URL('./fixtures/ledger-v6.sqlite.sql', import.meta.url), 'utf8');

const dir = mkdtempSync(join(tmpdir(), 'tm-schema-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** Migrates the file at `path` as the engine does when it opens a database. */
async function migrate(path: string): Promise<void> {
  const store = new SqliteStore({ path });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
}

function schemaOf(path: string): SqliteSchemaRow[] {
  return normalizeSqliteSchema(withDb(path, sqliteSchema));
}

function stepsOf(path: string): unknown[] {
  return withDb(path, (db) =>
    db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all(),
  );
}

describe('the SQLite schema, written once', () => {
  it('a fresh database given steps 1 to 6 has exactly the schema the code before made', async () => {
    const path = join(dir, `${++files}.db`);
    // Later steps are recorded as applied beforehand, so migrate runs 1 to 6 alone, as it does
    // for a new database; the recording table is the one the code before made.
    const table = FIXTURE.find((r) => r.name === 'schema_migrations')?.sql;
    assert.ok(table, 'the fixture has schema_migrations');
    withDb(path, (db) => {
      db.exec(table);
      for (const m of SQLITE_MIGRATIONS.filter((m) => m.version > 6)) {
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(m.version, m.name);
      }
    });
    await migrate(path);
    assert.deepEqual(schemaOf(path), normalizeSqliteSchema(FIXTURE));
  });

  it('a database the code before made is not migrated again, and ends with the schema of a fresh one', async () => {
    const old = join(dir, `${++files}.db`);
    withDb(old, (db) => db.exec(OLD_DATABASE));
    assert.deepEqual(
      schemaOf(old),
      normalizeSqliteSchema(FIXTURE),
      'the fixture database is as the code before made it',
    );
    const before = stepsOf(old);
    assert.equal(before.length, 6);

    await migrate(old);
    assert.deepEqual(stepsOf(old).slice(0, 6), before, 'steps 1 to 6 stay recorded as they were');

    const fresh = join(dir, `${++files}.db`);
    await migrate(fresh);
    assert.deepEqual(schemaOf(old), schemaOf(fresh));
  });
});
