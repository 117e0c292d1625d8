import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';

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
  raw(sql: string): void;
  cleanup(): Promise<void>;
}

const sqlite: Backend = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'tm-store-'));
    const path = join(dir, 'ledger.db');
    const stores: Store[] = [];
    const make = async () => {
      const s = new SqliteStore({ path });
      await s.migrate();
      stores.push(s);
      return s;
    };
    const store = await make();
    return {
      store,
      reopen: make,
      raw(sql) {
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

const ALL: Backend[] = [sqlite];

/** The backends to test: all, or those named in TOKENMETER_TEST_BACKENDS (comma-separated). */
export function backends(): Backend[] {
  const wanted = process.env.TOKENMETER_TEST_BACKENDS?.split(',').map((s) => s.trim());
  return wanted ? ALL.filter((b) => wanted.includes(b.name)) : ALL;
}
