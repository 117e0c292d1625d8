import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { backup } from 'node:sqlite';
import type { AccountState } from '../../core/account-state.ts';
import { TokenmeterError } from '../../core/errors.ts';
import type { Hold } from '../../core/hold.ts';
import { Mutex } from '../mutex.ts';
import { pendingMigrations } from '../pending-migrations.ts';
import { chainDrift, figureDrift } from '../reconcile-rows.ts';
import { decodeCursor, encodeCursor, int, str, toAccount, toEntry, toHold } from '../rows.ts';
import type { ServiceStore } from '../service-store.ts';
import type { Drift, HistoryPage, ReconcileScan, Store, UsageInUse, WriteTx } from '../store.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { SqliteConnection, type SqliteSynchronous } from './sqlite-connection.ts';
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
  private readonly mutex = new Mutex();
  readonly service: ServiceStore;

  constructor(options: SqliteStoreOptions) {
    const busy = options.busyTimeoutMs ?? 15_000;
    this.location = `sqlite:${options.path}`;
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.writer = new SqliteConnection(options.path, busy, options.synchronous ?? 'FULL');
    this.reader = options.path === ':memory:' ? this.writer : new SqliteConnection(options.path, busy);
    // Single statements in autocommit mode, but never inside another caller's open transaction.
    this.service = new SqliteServiceQueries(this.writer, this.reader, (fn) =>
      this.mutex.run(async () => {
        try {
          return fn();
        } catch (err) {
          throw translate(err);
        }
      }),
    );
  }

  async migrate(): Promise<void> {
    await this.mutex.run(async () => {
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
    });
  }

  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      this.begin();
      try {
        const result = await fn(new SqliteWriteTx(this.writer));
        this.writer.exec('COMMIT');
        return result;
      } catch (err) {
        this.rollback();
        throw translate(err);
      }
    });
  }

  async getAccount(id: string): Promise<AccountState | undefined> {
    const row = this.reader.get('SELECT * FROM accounts WHERE id = ?', id);
    return row ? toAccount(row) : undefined;
  }

  async getAccountWithHolds(id: string): Promise<{ account: AccountState; holds: Hold[] } | undefined> {
    // One read transaction: in WAL mode both statements see the same committed state, whatever
    // another process commits between them. (`:memory:` shares one connection with the writer,
    // which may be inside a transaction already; there nothing else can write in between.)
    const own = !this.reader.db.isTransaction;
    if (own) this.reader.exec('BEGIN');
    try {
      const row = this.reader.get('SELECT * FROM accounts WHERE id = ?', id);
      if (!row) return undefined;
      const holds = this.reader
        .all("SELECT * FROM holds WHERE account_id = ? AND status = 'active' ORDER BY id", id)
        .map(toHold);
      return { account: toAccount(row), holds };
    } finally {
      if (own) this.reader.exec('COMMIT');
    }
  }

  async activeHolds(account: string): Promise<Hold[]> {
    return this.reader
      .all("SELECT * FROM holds WHERE account_id = ? AND status = 'active' ORDER BY id", account)
      .map(toHold);
  }

  async getHold(id: number): Promise<Hold | undefined> {
    const row = this.reader.get('SELECT * FROM holds WHERE id = ?', id);
    return row ? toHold(row) : undefined;
  }

  async history(account: string, options: { limit: number; cursor: string | null }): Promise<HistoryPage> {
    const before = options.cursor === null ? null : decodeCursor(options.cursor);
    if (options.cursor !== null && before === null) {
      throw new TokenmeterError('invalid_request', 'cursor: not a cursor this service issued', 'cursor');
    }
    const rows = this.reader.all(
      'SELECT * FROM ledger_entries WHERE account_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?',
      account,
      before,
      before,
      options.limit + 1,
    );
    const entries = rows.slice(0, options.limit).map(toEntry);
    const last = entries.at(-1);
    return { entries, nextCursor: rows.length > options.limit && last ? encodeCursor(last.id) : null };
  }

  async balanceAt(account: string, time: number): Promise<number> {
    const row = this.reader.get(
      'SELECT coalesce(sum(amount), 0) AS total FROM ledger_entries WHERE account_id = ? AND at <= ?',
      account,
      time,
    );
    return row ? int(row, 'total') : 0;
  }

  async reconcile(): Promise<ReconcileScan> {
    // One read transaction, so the sums and the rows they are compared with are one snapshot.
    this.reader.exec('BEGIN');
    try {
      const drift: Drift[] = [];
      let accountsChecked = 0;
      const figures = this.reader.all(`
        SELECT a.id, a.allocation, a.purchased, a.held,
          coalesce(e.allocation, 0) AS ledger_allocation, coalesce(e.purchased, 0) AS ledger_purchased,
          coalesce(h.held, 0) AS holds_held
        FROM accounts a
        LEFT JOIN (SELECT account_id, sum(allocation_delta) AS allocation, sum(purchased_delta) AS purchased
                   FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id
        LEFT JOIN (SELECT account_id, sum(amount) AS held FROM holds WHERE status = 'active'
                   GROUP BY account_id) h ON h.account_id = a.id
        ORDER BY a.id`);
      for (const r of figures) {
        accountsChecked++;
        drift.push(...figureDrift(r));
      }
      const broken = this.reader.all(`
        SELECT account_id, id, balance_after, expected FROM (
          SELECT account_id, id, balance_after,
            amount + lag(balance_after, 1, 0) OVER (PARTITION BY account_id ORDER BY id) AS expected
          FROM ledger_entries)
        WHERE balance_after <> expected ORDER BY account_id, id`);
      drift.push(...chainDrift(broken));
      return { accountsChecked, drift };
    } finally {
      this.reader.exec('COMMIT');
    }
  }

  async inUse(): Promise<UsageInUse> {
    const plans = this.reader.all('SELECT DISTINCT plan FROM accounts ORDER BY plan').map((r) => str(r, 'plan'));
    const features = this.reader
      .all(
        `SELECT feature FROM ledger_entries WHERE feature IS NOT NULL
         UNION SELECT feature FROM holds WHERE feature IS NOT NULL ORDER BY feature`,
      )
      .map((r) => str(r, 'feature'));
    return { plans, features };
  }

  async backup(file: string): Promise<void> {
    if (this.reader.db.location() === null) {
      throw new TokenmeterError('invalid_request', 'an in-memory database cannot be backed up');
    }
    // Never overwrite: the target could be a live database, or an earlier backup someone needs.
    if (existsSync(file)) throw new TokenmeterError('invalid_request', `backup target ${file} already exists`);
    mkdirSync(dirname(file), { recursive: true });
    await backup(this.reader.db, file);
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
      throw translate(err);
    }
  }

  private rollback(): void {
    if (this.writer.db.isTransaction) this.writer.exec('ROLLBACK');
  }
}

/** SQLite reports a busy database or a full disk as errors; callers see `unavailable`. */
function translate(err: unknown): unknown {
  if (err instanceof Error && 'errcode' in err) {
    const code = Number((err as { errcode: unknown }).errcode) & 0xff;
    // SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_IOERR 10, SQLITE_FULL 13, SQLITE_CANTOPEN 14
    if ([5, 6, 10, 13, 14].includes(code)) {
      return new TokenmeterError('unavailable', `The token store is unavailable: ${err.message}`);
    }
  }
  return err;
}
