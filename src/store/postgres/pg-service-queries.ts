import {
  decodeAccountCursor,
  encodeAccountCursor,
  encodeCursor,
  int,
  intOrNull,
  type Row,
  requireCursor,
  str,
  toAccount,
  toEntry,
} from '../rows.ts';
import type { AccountPage, ApiKeyRecord, KeyScope, LedgerQuery, ServiceStore, UsageRow } from '../service-store.ts';
import type { HistoryPage } from '../store.ts';
import type { PgParam, PgQueryable } from './pg-client.ts';
import { translatePgError } from './pg-errors.ts';

/** The service-side queries on PostgreSQL; each write is one statement, atomic on its own. */
export class PgServiceQueries implements ServiceStore {
  private readonly client: PgQueryable;

  constructor(client: PgQueryable) {
    this.client = client;
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

  async listAccounts(options: { query: string | null; limit: number; cursor: string | null }): Promise<AccountPage> {
    const after = options.cursor === null ? null : decodeAccountCursor(options.cursor);
    const pattern = options.query === null ? null : `%${options.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await this.q(
      `SELECT * FROM accounts
       WHERE ($1::text IS NULL OR id LIKE $1) AND ($2::text IS NULL OR id COLLATE "C" > $2)
       ORDER BY id COLLATE "C" LIMIT $3`,
      [pattern, after, options.limit + 1],
    );
    const accounts = rows.slice(0, options.limit).map(toAccount);
    const last = accounts.at(-1);
    return { accounts, nextCursor: rows.length > options.limit && last ? encodeAccountCursor(last.id) : null };
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

  async usageByDay(from: number, to: number): Promise<UsageRow[]> {
    const rows = await this.q(
      `SELECT to_char(to_timestamp(at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, feature,
              -sum(amount) AS tokens, count(*) AS uses
       FROM ledger_entries
       WHERE kind IN ('debit', 'hold_commit') AND feature IS NOT NULL AND at >= $1 AND at <= $2
       GROUP BY day, feature ORDER BY day, feature COLLATE "C"`,
      [from, to],
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
