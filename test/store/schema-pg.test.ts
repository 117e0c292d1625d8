import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.ts';
import type { PgClient } from '../../src/store/postgres/pg-client.ts';
import { PgPoolClient } from '../../src/store/postgres/pg-pool-client.ts';
import { PgStore } from '../../src/store/postgres/pg-store.ts';
import { PgliteClient } from '../../src/store/postgres/pglite-client.ts';
import { int } from '../../src/store/rows.ts';
import { createTestDatabase, pgSuiteSkip } from '../helpers/pg-server.ts';
import { type PgSchema, pgSchema } from './schema-snapshot.ts';

// Made by the code before the schema was written once (see the files' first lines). The
// catalogs' wording depends on the PostgreSQL version: one fixture per engine.
interface SchemaFixture {
  postgres_major: number;
  schema: PgSchema;
}
const fixture = (file: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as SchemaFixture;
const OLD_DATABASE = readFileSync(new URL('./fixtures/ledger-v6.pg.sql', import.meta.url), 'utf8');

/** An empty database to migrate and read back. */
interface Database {
  client: PgClient;
  /** Runs the engine's migrate on it, as a process opening it would. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

interface Engine {
  name: string;
  fixture: SchemaFixture;
  skip: string | false;
  open(): Promise<Database>;
}

let lite: Promise<PGlite> | undefined;
after(async () => {
  if (lite) await (await lite).close();
});

const pglite: Engine = {
  name: 'PGlite',
  fixture: fixture('schema-v6.pglite.json'),
  skip: false,
  async open() {
    lite ??= PGlite.create();
    const db = await lite;
    const client = new PgliteClient({ db, owned: false });
    await client.exec('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
    return {
      client,
      migrate: () => new PgStore({ client: new PgliteClient({ db, owned: false }), location: 'pglite' }).migrate(),
      close: () => client.close(),
    };
  },
};

const server: Engine = {
  name: 'PostgreSQL server',
  fixture: fixture('schema-v6.pg.json'),
  skip: await pgSuiteSkip(),
  async open() {
    const database = await createTestDatabase();
    const client = new PgPoolClient({ url: database.url, poolSize: 2, allowExitOnIdle: true });
    return {
      client,
      async migrate() {
        const store = new PgStore({
          client: new PgPoolClient({ url: database.url, allowExitOnIdle: true }),
          location: 'pg',
        });
        try {
          await store.migrate();
        } finally {
          await store.close();
        }
      },
      async close() {
        await client.close();
        await database.drop();
      },
    };
  },
};

async function majorOf(client: PgClient): Promise<number> {
  return Math.floor(int((await client.query('SHOW server_version_num'))[0] ?? {}, 'server_version_num') / 10_000);
}

async function steps(client: PgClient): Promise<unknown[]> {
  return client.query('SELECT version, name, applied_at FROM schema_migrations ORDER BY version');
}

for (const engine of [pglite, server]) {
  describe(`the PostgreSQL schema, written once (${engine.name})`, { skip: engine.skip }, () => {
    it('a fresh database given steps 1 to 6 has exactly the schema the code before made', async (t) => {
      const db = await engine.open();
      try {
        const major = await majorOf(db.client);
        if (major !== engine.fixture.postgres_major) {
          t.skip(`the fixture was read off PostgreSQL ${engine.fixture.postgres_major}, this is ${major}`);
          return;
        }
        // Later steps are recorded as applied beforehand, so migrate runs 1 to 6 alone, as it
        // does for a new database; the recording table is the one migrate itself creates.
        await db.client.exec(
          'CREATE TABLE schema_migrations (version bigint PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
        );
        for (const m of PG_MIGRATIONS.filter((m) => m.version > 6)) {
          await db.client.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [m.version, m.name]);
        }
        await db.migrate();
        assert.deepEqual(await pgSchema(db.client), engine.fixture.schema);
      } finally {
        await db.close();
      }
    });

    it('a database the code before made is not migrated again, and ends with the schema of a fresh one', async () => {
      const fresh = await engine.open();
      let freshSchema: PgSchema;
      try {
        await fresh.migrate();
        freshSchema = await pgSchema(fresh.client);
      } finally {
        await fresh.close();
      }
      const old = await engine.open(); // PGlite: the same instance, emptied
      try {
        await old.client.exec(OLD_DATABASE);
        if ((await majorOf(old.client)) === engine.fixture.postgres_major) {
          assert.deepEqual(
            await pgSchema(old.client),
            engine.fixture.schema,
            'the fixture database is as the code before made it',
          );
        }
        const before = await steps(old.client);
        assert.equal(before.length, 6);
        await old.migrate();
        assert.deepEqual((await steps(old.client)).slice(0, 6), before, 'steps 1 to 6 stay recorded as they were');
        assert.deepEqual(await pgSchema(old.client), freshSchema);
      } finally {
        await old.close();
      }
    });
  });
}
