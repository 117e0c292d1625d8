import type { Membership } from '../core/pool.ts';
import { AFTER_CURSOR, afterCursor, historyPage, NEWEST_FIRST } from './history-sql.ts';
import type { PaymentRow, SubscriptionRow } from './payment-tx.ts';
import { int, intOrNull, type Row, requireCursor, str, strOrNull } from './rows.ts';
import type {
  AccountListQuery,
  AccountPage,
  AccountUsage,
  ApiKeyRecord,
  DisputeRow,
  KeyScope,
  LedgerQuery,
  PaymentEventRow,
  PaymentListQuery,
  ServiceStore,
  UsageRow,
} from './service-store.ts';
import type { SqlDialect, SqlValue } from './sql-dialect.ts';
import {
  listAccountsSql,
  listDisputesSql,
  listPaymentsSql,
  type OperatorSql,
  pendingEventsSql,
  subscriptionsOfSql,
} from './sql-operator-reads.ts';
import { SqlOutboxQueries } from './sql-outbox-queries.ts';
import { MEMBERSHIP_COLUMNS, toMembership } from './sql-pool-tx.ts';
import type { HistoryPage } from './store.ts';

/** The membership columns of table alias `alias`. */
const MEMBERSHIP_OF = (alias: string) =>
  MEMBERSHIP_COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');

/** What "used" means for usage: features charged, by a debit or a committed hold. */
const USED = "kind IN ('debit', 'hold_commit') AND feature IS NOT NULL";

/** One statement with `?` placeholders. */
export interface SqlStatement {
  sql: string;
  params: readonly SqlValue[];
  /** A read that must see the writes before it (on the write connection); PostgreSQL reports its failure as a read's. */
  reads?: true;
}

/**
 * The little each backend supplies to the service queries: reads on its read connection, and
 * writes in autocommit on its write connection, never inside another caller's open transaction.
 */
export interface ServiceSql {
  readonly dialect: SqlDialect;
  read(sql: string, params: readonly SqlValue[]): Promise<Row[]>;
  /** The statements in order, each atomic on its own; resolves to each one's rows. */
  write(statements: readonly SqlStatement[]): Promise<Row[][]>;
}

/**
 * The service-side queries (keys, settings, nonces, operator reads, and the outbox's, inherited),
 * written once for both backends.
 */
export class SqlServiceQueries extends SqlOutboxQueries implements ServiceStore {
  /** The operator console's reads; ids compare byte-wise, as SQLite's do by default. */
  private readonly operator: OperatorSql;

  constructor(sql: ServiceSql) {
    super(sql);
    this.operator = { query: (text, params) => sql.read(text, params), idExpr: sql.dialect.byteOrder('id') };
  }

  async insertApiKey(key: Omit<ApiKeyRecord, 'id' | 'revokedAt'>): Promise<ApiKeyRecord> {
    const [row] = await this.writeOne(
      'INSERT INTO api_keys (name, scope, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
      [key.name, key.scope, key.hash, key.prefix, key.createdAt],
    );
    if (!row) throw new Error('api key insert returned nothing');
    return toApiKey(row);
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.sql.read('SELECT * FROM api_keys WHERE hash = ?', [hash]);
    return row ? toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (await this.sql.read('SELECT * FROM api_keys ORDER BY id', [])).map(toApiKey);
  }

  async revokeApiKey(prefix: string, at: number): Promise<number> {
    const rows = await this.writeOne(
      'UPDATE api_keys SET revoked_at = ? WHERE prefix = ? AND revoked_at IS NULL RETURNING id',
      [at, prefix],
    );
    return rows.length;
  }

  async settingOrInit(key: string, initial: string): Promise<string> {
    const [, [row] = []] = await this.sql.write([
      { sql: 'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', params: [key, initial] },
      { sql: 'SELECT value FROM settings WHERE key = ?', params: [key], reads: true },
    ]);
    return row ? str(row, 'value') : initial;
  }

  async consumeNonce(nonce: string, expiresAt: number, now: number): Promise<boolean> {
    const [, inserted = []] = await this.sql.write([
      { sql: 'DELETE FROM used_nonces WHERE expires_at < ?', params: [now] },
      {
        sql: 'INSERT INTO used_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING RETURNING nonce',
        params: [nonce, expiresAt],
      },
    ]);
    return inserted.length === 1;
  }

  async nonceUsed(nonce: string): Promise<boolean> {
    return (await this.sql.read('SELECT 1 AS used FROM used_nonces WHERE nonce = ?', [nonce])).length > 0;
  }

  listAccounts(options: AccountListQuery): Promise<AccountPage> {
    return listAccountsSql(this.operator, options);
  }

  async queryLedger(q: LedgerQuery): Promise<HistoryPage> {
    const before = q.cursor === null ? null : requireCursor(q.cursor);
    // Only the filters given, each its own condition: a condition such as `(? IS NULL OR
    // account_id = ?)` is decided only when the statement runs, so SQLite cannot use an index for
    // it and scanned the whole ledger for one account's entries. Newest first by time, then id,
    // as history: one account's page walks its own index, every account's the index on time
    // alone, both in the order wanted (no sort), and a window bounds either.
    const filters: [string, SqlValue | undefined | null][] = [
      ['e.account_id = ?', q.account],
      ['e.kind = ?', q.kind],
      ['e.at >= ?', q.from],
      ['e.at <= ?', q.to],
    ];
    const given = filters.filter(([, value]) => value !== undefined && value !== null);
    const where = [...given.map(([condition]) => condition), ...(before === null ? [] : [AFTER_CURSOR])];
    const rows = await this.sql.read(
      `SELECT e.* FROM ledger_entries AS e ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ${NEWEST_FIRST} LIMIT ?`,
      [...given.map(([, value]) => value as SqlValue), ...(before === null ? [] : afterCursor(before)), q.limit + 1],
    );
    return historyPage(rows, q.limit);
  }

  async usageByDay(from: number, to: number, account?: string): Promise<UsageRow[]> {
    const d = this.sql.dialect;
    // One account's use is found through its own entries (by account and time), never by
    // reading everyone's: the account is a condition only when given (see queryLedger).
    const rows = await this.sql.read(
      // A pool's entry for a member's use is part of that use, not another one.
      `SELECT ${d.utcDay('at')} AS day, feature, -sum(amount) AS tokens,
         sum(CASE WHEN member_id IS NULL THEN 1 ELSE 0 END) AS uses
       FROM ledger_entries
       WHERE ${account === undefined ? '' : 'account_id = ? AND '}${USED} AND at >= ? AND at <= ?
       GROUP BY day, feature ORDER BY day, ${d.byteOrder('feature')}`,
      account === undefined ? [from, to] : [account, from, to],
    );
    return rows.map((r) => ({
      day: str(r, 'day'),
      feature: str(r, 'feature'),
      tokens: int(r, 'tokens'),
      uses: int(r, 'uses'),
    }));
  }

  async usageByAccount(from: number, to: number, top: number): Promise<AccountUsage> {
    const d = this.sql.dialect;
    // The leaders are chosen over the whole window, then each day's use is split between them
    // and everyone else; ties at the cut go to the smaller id, so the answer is stable.
    const rows = await this.sql.read(
      `WITH used AS (
         SELECT account_id, ${d.utcDay('at')} AS day, -amount AS tokens
         FROM ledger_entries WHERE ${USED} AND at >= ? AND at <= ?),
       totals AS (SELECT account_id, sum(tokens) AS total FROM used GROUP BY account_id),
       leaders AS (
         SELECT account_id, total FROM totals ORDER BY total DESC, ${d.byteOrder('account_id')} LIMIT ?)
       SELECT used.day AS day, leaders.account_id AS account, sum(used.tokens) AS tokens, count(*) AS uses,
         (SELECT count(*) FROM totals) AS accounts
       FROM used LEFT JOIN leaders ON leaders.account_id = used.account_id
       GROUP BY used.day, leaders.account_id, leaders.total
       ORDER BY CASE WHEN leaders.account_id IS NULL THEN 1 ELSE 0 END, leaders.total DESC,
         ${d.byteOrder('leaders.account_id')}, used.day`,
      [from, to, top],
    );
    return {
      rows: rows.map((r) => ({
        day: str(r, 'day'),
        account: strOrNull(r, 'account'),
        tokens: int(r, 'tokens'),
        uses: int(r, 'uses'),
      })),
      accounts: rows[0] ? int(rows[0], 'accounts') : 0,
    };
  }

  async balanceSeries(
    account: string,
    from: number,
    to: number,
    points: number,
  ): Promise<{ at: number; balance: number }[]> {
    // Every entry when they fit; else the last one of each of `points` equal time buckets, so a
    // busy account's line still spans the whole window and ends at its latest balance. The
    // bounds are cast: node:sqlite binds numbers as REAL, which would make `/` divide exactly.
    const width = Math.max(1, Math.ceil((to - from + 1) / points));
    const rows = await this.sql.read(
      `WITH span AS (SELECT id, at FROM ledger_entries WHERE account_id = ? AND at >= ? AND at <= ?),
         size AS (SELECT count(*) AS n FROM span)
       SELECT at, balance_after FROM ledger_entries
       WHERE id IN (
         SELECT max(span.id) FROM span, size
         GROUP BY CASE WHEN size.n <= CAST(? AS BIGINT) THEN span.id
           ELSE (span.at - CAST(? AS BIGINT)) / CAST(? AS BIGINT) END)
       ORDER BY id`,
      [account, from, to, points, from, width],
    );
    return rows.map((r) => ({ at: int(r, 'at'), balance: int(r, 'balance_after') }));
  }

  async firstEntryAt(account: string): Promise<number | null> {
    const [row] = await this.sql.read('SELECT min(at) AS at FROM ledger_entries WHERE account_id = ?', [account]);
    return row ? intOrNull(row, 'at') : null;
  }

  listPayments(query: PaymentListQuery): Promise<PaymentRow[]> {
    return listPaymentsSql(this.operator, query);
  }

  pendingPaymentEvents(limit: number): Promise<PaymentEventRow[]> {
    return pendingEventsSql(this.operator, limit);
  }

  listDisputes(limit: number): Promise<DisputeRow[]> {
    return listDisputesSql(this.operator, limit);
  }

  async poolMembers(pool: string, liveAt: number): Promise<Membership[]> {
    const d = this.sql.dialect;
    // One statement, so one snapshot: the usage and the holds it is read beside never straddle
    // a write (a hold being committed counted both as used and as held).
    const rows = await this.sql.read(
      `SELECT ${MEMBERSHIP_OF('m')},
         (SELECT coalesce(sum(h.amount), 0) FROM holds h
          WHERE h.account_id = m.pool_id AND h.member_id = m.member_id
            AND h.status = 'active' AND h.expires_at > ?) AS live_held
       FROM pool_members m JOIN accounts a ON a.id = m.member_id AND a.pool_id = m.pool_id
       WHERE m.pool_id = ? ORDER BY ${d.byteOrder('m.member_id')}`,
      [liveAt, pool],
    );
    return rows.map((row) => ({ ...toMembership(row), held: int(row, 'live_held') }));
  }

  async memberUsageByDay(
    pool: string,
    member: string,
    from: number,
    to: number,
  ): Promise<{ day: string; tokens: number }[]> {
    const d = this.sql.dialect;
    const rows = await this.sql.read(
      `SELECT ${d.utcDay('at')} AS day, -sum(amount) AS tokens FROM ledger_entries
       WHERE account_id = ? AND member_id = ? AND at >= ? AND at <= ?
       GROUP BY day ORDER BY day`,
      [pool, member, from, to],
    );
    return rows.map((r) => ({ day: str(r, 'day'), tokens: int(r, 'tokens') }));
  }

  subscriptionsOf(account: string): Promise<SubscriptionRow[]> {
    return subscriptionsOfSql(this.operator, account);
  }

  private async writeOne(sql: string, params: readonly SqlValue[]): Promise<Row[]> {
    const [rows = []] = await this.sql.write([{ sql, params }]);
    return rows;
  }
}

function toApiKey(row: Row): ApiKeyRecord {
  return {
    id: int(row, 'id'),
    name: str(row, 'name'),
    scope: str(row, 'scope') as KeyScope,
    hash: str(row, 'hash'),
    prefix: str(row, 'prefix'),
    createdAt: int(row, 'created_at'),
    revokedAt: intOrNull(row, 'revoked_at'),
  };
}
