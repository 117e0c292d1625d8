import type { PaymentRow, SubscriptionRow } from '../payment-tx.ts';
import { encodeCursor, int, intOrNull, type Row, requireCursor, str, toEntry } from '../rows.ts';
import type {
  AccountListQuery,
  AccountPage,
  ApiKeyRecord,
  DisputeRow,
  KeyScope,
  LedgerQuery,
  PaymentEventRow,
  PaymentListQuery,
  ServiceStore,
  UsageRow,
} from '../service-store.ts';
import {
  listAccountsSql,
  listDisputesSql,
  listPaymentsSql,
  type OperatorSql,
  pendingEventsSql,
  subscriptionsOfSql,
} from '../sql-operator-reads.ts';
import type { HistoryPage } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/** The service-side queries on SQLite; writes here are single statements, atomic on their own. */
export class SqliteServiceQueries implements ServiceStore {
  private readonly writer: SqliteConnection;
  private readonly reader: SqliteConnection;
  private readonly inWrite: <T>(fn: () => T) => Promise<T>;
  /** The operator console's reads, shared with PostgreSQL; byte order is SQLite's default. */
  private readonly operator: OperatorSql = {
    query: async (sql, params) => this.reader.all(sql, ...params),
    idExpr: 'id',
  };

  constructor(writer: SqliteConnection, reader: SqliteConnection, inWrite: <T>(fn: () => T) => Promise<T>) {
    this.writer = writer;
    this.reader = reader;
    this.inWrite = inWrite;
  }

  insertApiKey(key: Omit<ApiKeyRecord, 'id' | 'revokedAt'>): Promise<ApiKeyRecord> {
    return this.inWrite(() => {
      const row = this.writer.get(
        'INSERT INTO api_keys (name, scope, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
        key.name,
        key.scope,
        key.hash,
        key.prefix,
        key.createdAt,
      );
      if (!row) throw new Error('api key insert returned nothing');
      return toApiKey(row);
    });
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.reader.get('SELECT * FROM api_keys WHERE hash = ?', hash);
    return row ? toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.reader.all('SELECT * FROM api_keys ORDER BY id').map(toApiKey);
  }

  revokeApiKey(prefix: string, at: number): Promise<number> {
    return this.inWrite(() =>
      this.writer.run('UPDATE api_keys SET revoked_at = ? WHERE prefix = ? AND revoked_at IS NULL', at, prefix),
    );
  }

  settingOrInit(key: string, initial: string): Promise<string> {
    return this.inWrite(() => {
      this.writer.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', key, initial);
      const row = this.writer.get('SELECT value FROM settings WHERE key = ?', key);
      return row ? str(row, 'value') : initial;
    });
  }

  consumeNonce(nonce: string, expiresAt: number, now: number): Promise<boolean> {
    return this.inWrite(() => {
      this.writer.run('DELETE FROM used_nonces WHERE expires_at < ?', now);
      return (
        this.writer.run(
          'INSERT INTO used_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING',
          nonce,
          expiresAt,
        ) === 1
      );
    });
  }

  async nonceUsed(nonce: string): Promise<boolean> {
    return this.reader.get('SELECT 1 AS used FROM used_nonces WHERE nonce = ?', nonce) !== undefined;
  }

  listAccounts(options: AccountListQuery): Promise<AccountPage> {
    return listAccountsSql(this.operator, options);
  }

  async queryLedger(q: LedgerQuery): Promise<HistoryPage> {
    const before = q.cursor === null ? null : requireCursor(q.cursor);
    const rows = this.reader.all(
      `SELECT * FROM ledger_entries
       WHERE (? IS NULL OR account_id = ?) AND (? IS NULL OR kind = ?) AND (? IS NULL OR at >= ?)
         AND (? IS NULL OR at <= ?) AND (? IS NULL OR id < ?)
       ORDER BY id DESC LIMIT ?`,
      q.account ?? null,
      q.account ?? null,
      q.kind ?? null,
      q.kind ?? null,
      q.from ?? null,
      q.from ?? null,
      q.to ?? null,
      q.to ?? null,
      before,
      before,
      q.limit + 1,
    );
    const entries = rows.slice(0, q.limit).map(toEntry);
    const last = entries.at(-1);
    return { entries, nextCursor: rows.length > q.limit && last ? encodeCursor(last.id) : null };
  }

  async usageByDay(from: number, to: number, account?: string): Promise<UsageRow[]> {
    return this.reader
      .all(
        `SELECT date(at / 1000, 'unixepoch') AS day, feature, -sum(amount) AS tokens, count(*) AS uses
         FROM ledger_entries
         WHERE kind IN ('debit', 'hold_commit') AND feature IS NOT NULL AND at >= ? AND at <= ?
           AND (? IS NULL OR account_id = ?)
         GROUP BY day, feature ORDER BY day, feature`,
        from,
        to,
        account ?? null,
        account ?? null,
      )
      .map((r) => ({ day: str(r, 'day'), feature: str(r, 'feature'), tokens: int(r, 'tokens'), uses: int(r, 'uses') }));
  }

  async balanceSeries(
    account: string,
    from: number,
    to: number,
    limit: number,
  ): Promise<{ at: number; balance: number }[]> {
    return this.reader
      .all(
        `SELECT at, balance_after FROM ledger_entries WHERE account_id = ? AND at >= ? AND at <= ?
         ORDER BY id LIMIT ?`,
        account,
        from,
        to,
        limit,
      )
      .map((r) => ({ at: int(r, 'at'), balance: int(r, 'balance_after') }));
  }

  async firstEntryAt(account: string): Promise<number | null> {
    const row = this.reader.get('SELECT min(at) AS at FROM ledger_entries WHERE account_id = ?', account);
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

  subscriptionsOf(account: string): Promise<SubscriptionRow[]> {
    return subscriptionsOfSql(this.operator, account);
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
