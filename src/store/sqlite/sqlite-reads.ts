import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { backup } from 'node:sqlite';
import type { AccountState } from '../../core/account-state.ts';
import { TokenmeterError } from '../../core/errors.ts';
import type { Grant } from '../../core/grant.ts';
import type { Hold } from '../../core/hold.ts';
import { afterCursor, HISTORY_SQL, historyPage } from '../history-sql.ts';
import { inUseSql } from '../in-use-sql.ts';
import { chainDrift, figureDrift, grantDrift, membershipDrift } from '../reconcile-rows.ts';
import { FIGURES_SQL, grantMovesSql, LIVE_GRANTS_OF, MEMBERSHIPS_SQL } from '../reconcile-sql.ts';
import { decodeCursor, int, LIVE_GRANT, str, toAccount, toGrant, toHold } from '../rows.ts';
import { SQLITE_DIALECT } from '../sql-dialect.ts';
import { MEMBERSHIP_COLUMNS, toMembership } from '../sql-pool-tx.ts';
import type { AccountSnapshot, Drift, HistoryPage, ReconcileScan, Store, UsageInUse } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

const IN_USE = inUseSql(SQLITE_DIALECT);

/** The reads a store serves outside write transactions. */
export type StoreReadName =
  | 'getAccount'
  | 'getAccountWithHolds'
  | 'activeHolds'
  | 'getHold'
  | 'history'
  | 'balanceAt'
  | 'reconcile'
  | 'inUse'
  | 'backup'
  | 'grants'
  | 'getGrant';

/**
 * The store's reads on one SQLite connection of their own, which sees only committed data (WAL).
 * One class for the in-thread store and for the main thread of the worker-thread store.
 */
export class SqliteReads implements Pick<Store, StoreReadName> {
  private readonly reader: SqliteConnection;

  constructor(reader: SqliteConnection) {
    this.reader = reader;
  }

  async getAccount(id: string): Promise<AccountState | undefined> {
    return this.inReadTx(() => {
      const row = this.reader.get('SELECT * FROM accounts WHERE id = ?', id);
      return row ? toAccount(row, this.liveGrants(id)) : undefined;
    });
  }

  async grants(account: string, options: { includeInactive: boolean }): Promise<Grant[]> {
    const rows = options.includeInactive
      ? this.reader.all(`SELECT * FROM grants WHERE account_id = ? ORDER BY id DESC`, account)
      : this.reader.all(`SELECT * FROM grants WHERE account_id = ? AND ${LIVE_GRANT} ORDER BY id DESC`, account);
    return rows.map(toGrant);
  }

  async getGrant(id: number): Promise<Grant | undefined> {
    const row = this.reader.get('SELECT * FROM grants WHERE id = ?', id);
    return row ? toGrant(row) : undefined;
  }

  private liveGrants(account: string): Grant[] {
    return this.reader.all(LIVE_GRANTS_OF, account).map(toGrant);
  }

  /** One read transaction (WAL: one snapshot), unless the connection is inside one already (`:memory:`). */
  private inReadTx<T>(fn: () => T): T {
    const own = !this.reader.db.isTransaction;
    if (own) this.reader.exec('BEGIN');
    try {
      return fn();
    } finally {
      if (own) this.reader.exec('COMMIT');
    }
  }

  async getAccountWithHolds(id: string): Promise<AccountSnapshot | undefined> {
    // One read transaction: in WAL mode both statements see the same committed state, whatever
    // another process commits between them. (`:memory:` shares one connection with the writer,
    // which may be inside a transaction already; there nothing else can write in between.)
    const own = !this.reader.db.isTransaction;
    if (own) this.reader.exec('BEGIN');
    try {
      const row = this.reader.get('SELECT * FROM accounts WHERE id = ?', id);
      if (!row) return undefined;
      const account = toAccount(row, this.liveGrants(id));
      const pool = account.poolId ? this.poolOf(id, account.poolId) : null;
      return { account, holds: this.activeHoldsOf(id), pool };
    } finally {
      if (own) this.reader.exec('COMMIT');
    }
  }

  private activeHoldsOf(account: string): Hold[] {
    return this.reader
      .all("SELECT * FROM holds WHERE account_id = ? AND status = 'active' ORDER BY id", account)
      .map(toHold);
  }

  /** A member's membership and its pool with the pool's active holds (inside the caller's read transaction). */
  private poolOf(member: string, poolId: string): AccountSnapshot['pool'] {
    const m = this.reader.get(
      `SELECT ${MEMBERSHIP_COLUMNS} FROM pool_members WHERE pool_id = ? AND member_id = ?`,
      poolId,
      member,
    );
    const p = this.reader.get('SELECT * FROM accounts WHERE id = ?', poolId);
    if (!m || !p) return null;
    return {
      membership: toMembership(m),
      account: toAccount(p, this.liveGrants(poolId)),
      holds: this.activeHoldsOf(poolId),
    };
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
    const rows =
      before === null
        ? this.reader.all(HISTORY_SQL.first, account, options.limit + 1)
        : this.reader.all(HISTORY_SQL.after, account, ...afterCursor(before), options.limit + 1);
    return historyPage(rows, options.limit);
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
      const figures = this.reader.all(`${FIGURES_SQL} ORDER BY a.id`);
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
      drift.push(...grantDrift(this.reader.all(grantMovesSql('sqlite'))));
      drift.push(...membershipDrift(this.reader.all(MEMBERSHIPS_SQL)));
      return { accountsChecked, drift };
    } finally {
      this.reader.exec('COMMIT');
    }
  }

  async inUse(): Promise<UsageInUse> {
    const plans = this.reader.all(IN_USE.plans).map((r) => str(r, 'plan'));
    const features = this.reader.all(IN_USE.features).map((r) => str(r, 'feature'));
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
}
