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
import type { PgParam, PgQueryable } from './pg-client.ts';
import { translatePgError } from './pg-errors.ts';

/** The service-side queries on PostgreSQL; each write is one statement, atomic on its own. */
export class PgServiceQueries implements ServiceStore {
  private readonly client: PgQueryable;

  /** The operator console's reads, shared with SQLite; ids compare byte-wise, as SQLite's do. */
  private readonly operator: OperatorSql;

  constructor(client: PgQueryable) {
    this.client = client;
    this.operator = {
      query: (sql, params) => {
        let n = 0;
        return this.q(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        );
      },
      idExpr: 'id COLLATE "C"',
    };
  }

  private async q(sql: string, params: readonly PgParam[] = [], during: 'read' | 'write' = 'read'): Promise<Row[]> {
    try {
      return await this.client.query(sql, params);
    } catch (err) {
      throw translatePgError(err, during);
    }
  }

  async insertApiKey(key: Omit<ApiKeyRecord, 'id' | 'revokedAt'>): Promise<ApiKeyRecord> {
    const [row] = await this.q(
      'INSERT INTO api_keys (name, scope, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [key.name, key.scope, key.hash, key.prefix, key.createdAt],
      'write',
    );
    if (!row) throw new Error('api key insert returned nothing');
    return toApiKey(row);
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.q('SELECT * FROM api_keys WHERE hash = $1', [hash]);
    return row ? toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (await this.q('SELECT * FROM api_keys ORDER BY id')).map(toApiKey);
  }

  async revokeApiKey(prefix: string, at: number): Promise<number> {
    const rows = await this.q(
      'UPDATE api_keys SET revoked_at = $1 WHERE prefix = $2 AND revoked_at IS NULL RETURNING id',
      [at, prefix],
      'write',
    );
    return rows.length;
  }

  async settingOrInit(key: string, initial: string): Promise<string> {
    await this.q(
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
      [key, initial],
      'write',
    );
    const [row] = await this.q('SELECT value FROM settings WHERE key = $1', [key]);
    return row ? str(row, 'value') : initial;
  }

  async consumeNonce(nonce: string, expiresAt: number, now: number): Promise<boolean> {
    await this.q('DELETE FROM used_nonces WHERE expires_at < $1', [now], 'write');
    const rows = await this.q(
      'INSERT INTO used_nonces (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING RETURNING nonce',
      [nonce, expiresAt],
      'write',
    );
    return rows.length === 1;
  }

  async nonceUsed(nonce: string): Promise<boolean> {
    return (await this.q('SELECT 1 AS used FROM used_nonces WHERE nonce = $1', [nonce])).length > 0;
  }

  listAccounts(options: AccountListQuery): Promise<AccountPage> {
    return listAccountsSql(this.operator, options);
  }

  async queryLedger(query: LedgerQuery): Promise<HistoryPage> {
    const before = query.cursor === null ? null : requireCursor(query.cursor);
    const rows = await this.q(
      `SELECT * FROM ledger_entries
       WHERE ($1::text IS NULL OR account_id = $1) AND ($2::text IS NULL OR kind = $2)
         AND ($3::bigint IS NULL OR at >= $3) AND ($4::bigint IS NULL OR at <= $4)
         AND ($5::bigint IS NULL OR id < $5)
       ORDER BY id DESC LIMIT $6`,
      [query.account ?? null, query.kind ?? null, query.from ?? null, query.to ?? null, before, query.limit + 1],
    );
    const entries = rows.slice(0, query.limit).map(toEntry);
    const last = entries.at(-1);
    return { entries, nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null };
  }

  async usageByDay(from: number, to: number, account?: string): Promise<UsageRow[]> {
    const rows = await this.q(
      `SELECT to_char(to_timestamp(at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, feature,
              -sum(amount) AS tokens, count(*) AS uses
       FROM ledger_entries
       WHERE kind IN ('debit', 'hold_commit') AND feature IS NOT NULL AND at >= $1 AND at <= $2
         AND ($3::text IS NULL OR account_id = $3)
       GROUP BY day, feature ORDER BY day, feature COLLATE "C"`,
      [from, to, account ?? null],
    );
    return rows.map((r) => ({
      day: str(r, 'day'),
      feature: str(r, 'feature'),
      tokens: int(r, 'tokens'),
      uses: int(r, 'uses'),
    }));
  }

  async balanceSeries(
    account: string,
    from: number,
    to: number,
    limit: number,
  ): Promise<{ at: number; balance: number }[]> {
    const rows = await this.q(
      `SELECT at, balance_after FROM ledger_entries WHERE account_id = $1 AND at >= $2 AND at <= $3
       ORDER BY id LIMIT $4`,
      [account, from, to, limit],
    );
    return rows.map((r) => ({ at: int(r, 'at'), balance: int(r, 'balance_after') }));
  }

  async firstEntryAt(account: string): Promise<number | null> {
    const [row] = await this.q('SELECT min(at) AS at FROM ledger_entries WHERE account_id = $1', [account]);
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
