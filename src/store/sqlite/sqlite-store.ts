import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AccountState } from '../../core/account-state.ts';
import type { Grant } from '../../core/grant.ts';
import type { Hold } from '../../core/hold.ts';
import { GrantCache, StagedGrants } from '../grant-cache.ts';
import { Mutex } from '../mutex.ts';
import { pendingMigrations } from '../pending-migrations.ts';
import { int } from '../rows.ts';
import type { ServiceStore } from '../service-store.ts';
import type { AccountSnapshot, HistoryPage, ReconcileScan, Store, UsageInUse, WriteTx } from '../store.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { SqliteConnection, type SqliteSynchronous } from './sqlite-connection.ts';
import { translateSqliteError } from './sqlite-errors.ts';
import { SqliteReads } from './sqlite-reads.ts';
import { SqliteServiceQueries } from './sqlite-service-queries.ts';
import { SqliteWriteTx } from './sqlite-write-tx.ts';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` (one connection; for pure unit tests only). */
  path: string;
  /** How long a writer waits for another process's transaction (ms). */
  busyTimeoutMs?: number;
  /** Default FULL: every commit is on disk before it is acknowledged. NORMAL is for reference benchmarks. */
  synchronous?: SqliteSynchronous;
}

/**
 * The embedded store: one SQLite file in WAL mode. Writers are serialized by a mutex inside
 * the process and by BEGIN IMMEDIATE across processes; readers use their own connection and
 * see only committed data.
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly location: string;
  private readonly writer: SqliteConnection;
  private readonly reader: SqliteConnection;
  private readonly reads: SqliteReads;
  private readonly mutex = new Mutex();
  /** Live grants of accounts this store wrote, by the version it left (see `GrantCache`). */
  private readonly grantCache = new GrantCache();
  readonly service: ServiceStore;

  constructor(options: SqliteStoreOptions) {
    const busy = options.busyTimeoutMs ?? 15_000;
    this.location = `sqlite:${options.path}`;
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.writer = new SqliteConnection(options.path, busy, options.synchronous ?? 'FULL');
    // The writer's statements are a batch's or one operation's: small enough for memory.
    this.writer.tempStore('memory');
    this.reader = options.path === ':memory:' ? this.writer : new SqliteConnection(options.path, busy);
    this.reads = new SqliteReads(this.reader);
    // Single statements in autocommit mode, but never inside another caller's open transaction.
    this.service = new SqliteServiceQueries(this.writer, this.reader, (fn) =>
      this.mutex.run(async () => {
        try {
          return fn();
        } catch (err) {
          throw translateSqliteError(err);
        }
      }),
    );
  }

  async migrate(): Promise<void> {
    await this.mutex.run(async () => {
      // A migration may rebuild a table and its indexes: its sorts spill to files.
      this.writer.tempStore('file');
      this.grantCache.clear();
      try {
        this.migrateNow();
      } finally {
        this.writer.tempStore('memory');
      }
    });
  }

  private migrateNow(): void {
    this.begin();
    try {
      this.writer.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
      );
      const applied = this.writer.all('SELECT version FROM schema_migrations').map((r) => int(r, 'version'));
      for (const m of pendingMigrations(SQLITE_MIGRATIONS, applied)) {
        this.writer.exec(m.sql);
        this.writer.run(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
          m.version,
          m.name,
          Date.now(),
        );
      }
      this.writer.exec('COMMIT');
    } catch (err) {
      this.rollback();
      throw err;
    }
  }

  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      this.begin();
      try {
        const staged = new StagedGrants();
        const result = await fn(new SqliteWriteTx(this.writer, this.grantCache, staged));
        this.writer.exec('COMMIT');
        this.grantCache.publish(staged);
        return result;
      } catch (err) {
        this.rollback();
        throw translateSqliteError(err);
      }
    });
  }

  getAccount(id: string): Promise<AccountState | undefined> {
    return this.reads.getAccount(id);
  }

  getAccountWithHolds(id: string): Promise<AccountSnapshot | undefined> {
    return this.reads.getAccountWithHolds(id);
  }

  grants(account: string, options: { includeInactive: boolean }): Promise<Grant[]> {
    return this.reads.grants(account, options);
  }

  getGrant(id: number): Promise<Grant | undefined> {
    return this.reads.getGrant(id);
  }

  activeHolds(account: string): Promise<Hold[]> {
    return this.reads.activeHolds(account);
  }

  getHold(id: number): Promise<Hold | undefined> {
    return this.reads.getHold(id);
  }

  history(account: string, options: { limit: number; cursor: string | null }): Promise<HistoryPage> {
    return this.reads.history(account, options);
  }

  balanceAt(account: string, time: number): Promise<number> {
    return this.reads.balanceAt(account, time);
  }

  reconcile(): Promise<ReconcileScan> {
    return this.reads.reconcile();
  }

  inUse(): Promise<UsageInUse> {
    return this.reads.inUse();
  }

  backup(file: string): Promise<void> {
    return this.reads.backup(file);
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => {
      if (this.reader !== this.writer) this.reader.close();
      this.writer.close();
    });
  }

  private begin(): void {
    try {
      this.writer.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw translateSqliteError(err);
    }
  }

  private rollback(): void {
    if (this.writer.db.isTransaction) this.writer.exec('ROLLBACK');
  }
}
