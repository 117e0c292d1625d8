import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openPgStore } from '../../src/store/postgres/open-pg-store.ts';
import { PgStore } from '../../src/store/postgres/pg-store.ts';
import { PgliteClient } from '../../src/store/postgres/pglite-client.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from '../../src/store/sqlite/worker-store.ts';
import type { Store } from '../../src/store/store.ts';
import { createTestDatabase, pgSuiteSkip } from './pg-server.ts';

// The template data directory is only valid for the PGlite build that made it.
const PGLITE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.resolve('@electric-sql/pglite')), 'utf8')) as {
    version: string;
  }
).version;

/** A store backend the conformance suite runs against, with raw access for tamper tests. */
export interface Backend {
  name: string;
  /** A fresh, migrated store on its own database. */
  open(): Promise<TestStore>;
}

export interface TestStore {
  store: Store;
  /** Reopens the same database as another process would. */
  reopen(): Promise<Store>;
  /** Runs raw SQL against the database, bypassing the engine (to prove the database's own rules). */
  raw(sql: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** A SQLite file; `make` opens a store on it as the engine would. */
function sqliteBackend(name: string, make: (path: string) => Store): Backend {
  return {
    name,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'tm-store-'));
      const path = join(dir, 'ledger.db');
      const stores: Store[] = [];
      const open = async () => {
        const s = make(path);
        stores.push(s);
        await s.migrate();
        return s;
      };
      const store = await open();
      return {
        store,
        reopen: open,
        async raw(sql) {
          const db = new DatabaseSync(path, { timeout: 5000 });
          try {
            db.exec(sql);
          } finally {
            db.close();
          }
        },
        async cleanup() {
          for (const s of stores) await s.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** The default: the writer on its worker thread. */
const sqlite = sqliteBackend('sqlite', (path) => new SqliteWorkerStore({ path }));
/** TOKENMETER_SQLITE_WORKER=off: the writer on the calling thread. */
const sqliteInline = sqliteBackend('sqlite-inline', (path) => new SqliteStore({ path }));

// Starting PGlite costs seconds (mostly its initdb), so one instance serves the whole process
// and each test gets a fresh, empty schema in it. The instance starts from a copy of a data
// directory initialized once per machine, which takes a tenth of the time.
let pgliteInstance: Promise<PGlite> | undefined;

async function startPglite(): Promise<PGlite> {
  const template = join(tmpdir(), `tokenmeter-pglite-${PGLITE_VERSION}`);
  if (!existsSync(join(template, 'PG_VERSION'))) {
    const staging = mkdtempSync(`${template}.tmp-`);
    await (await PGlite.create(staging)).close();
    try {
      renameSync(staging, template); // atomic: a process racing us either wins or finds it complete
    } catch {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'tm-pglite-'));
  cpSync(template, dir, { recursive: true });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const db = await PGlite.create(dir);
  // Tests need no durability from the in-process database; this keeps commits off the disk's path.
  await db.exec('SET synchronous_commit TO off');
  return db;
}

const pglite: Backend = {
  name: 'pglite',
  async open() {
    pgliteInstance ??= startPglite();
    const db = await pgliteInstance;
    const client = () => new PgliteClient({ db, owned: false });
    await client().exec('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
    const stores: Store[] = [];
    const make = async () => {
      const s = new PgStore({ client: client(), location: 'pglite:memory' });
      await s.migrate();
      stores.push(s);
      return s;
    };
    const store = await make();
    return {
      store,
      reopen: make,
      raw: (sql) => client().exec(sql),
      async cleanup() {
        for (const s of stores) await s.close();
      },
    };
  },
};

const postgres: Backend = {
  name: 'postgres',
  async open() {
    const database = await createTestDatabase(); // throws a clear error without a server (CI)
    const stores: Store[] = [];
    const make = async () => {
      const s = openPgStore({ url: database.url, poolSize: 5, allowExitOnIdle: true });
      stores.push(s);
      await s.migrate();
      return s;
    };
    try {
      const store = await make();
      return {
        store,
        reopen: make,
        async raw(sql) {
          const client = new pg.Client({ connectionString: database.url });
          await client.connect();
          try {
            await client.query(sql);
          } finally {
            await client.end();
          }
        },
        async cleanup() {
          try {
            for (const s of stores) await s.close();
          } finally {
            await database.drop();
          }
        },
      };
    } catch (err) {
      for (const s of stores) await s.close();
      await database.drop();
      throw err;
    }
  },
};

// PostgreSQL arms a 10 s statistics timer after writes, which would hold every test process
// open that long: close the shared instance when the file's tests are done.
after(async () => {
  if (pgliteInstance) await (await pgliteInstance).close();
});

const wanted = process.env.TOKENMETER_TEST_BACKENDS?.split(',').map((s) => s.trim());
const selected = [sqlite, sqliteInline, pglite, postgres].filter((b) => !wanted || wanted.includes(b.name));

// Whether the server is reachable is decided once per process, before any suite is declared.
// Without one, CI fails (open throws); elsewhere the backend is skipped, with a notice.
const skipPostgres = selected.includes(postgres) ? await pgSuiteSkip() : false;
const ALL = skipPostgres ? selected.filter((b) => b !== postgres) : selected;

/** The backends to test: all, or those named in TOKENMETER_TEST_BACKENDS (comma-separated). */
export function backends(): Backend[] {
  return ALL;
}
