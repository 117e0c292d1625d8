import { setTimeout as sleep } from 'node:timers/promises';
import type { AccountState } from '../../core/account-state.ts';
import { TokenmeterError } from '../../core/errors.ts';
import type { Grant } from '../../core/grant.ts';
import type { Hold } from '../../core/hold.ts';
import { GrantCache, StagedGrants } from '../grant-cache.ts';
import { afterCursor, HISTORY_SQL, historyPage } from '../history-sql.ts';
import { inUseSql } from '../in-use-sql.ts';
import { chainDrift, figureDrift, grantDrift, membershipDrift } from '../reconcile-rows.ts';
import { FIGURES_SQL, grantMovesSql, MEMBERSHIPS_SQL } from '../reconcile-sql.ts';
import {
  decodeCursor,
  int,
  jsonRow,
  jsonRows,
  LIVE_GRANT,
  type Row,
  str,
  toAccount,
  toGrant,
  toHold,
} from '../rows.ts';
import { TOPUPS_CHANNEL } from '../schema/m010-auto-topup.ts';
import type { ServiceStore } from '../service-store.ts';
import { numbered, PG_DIALECT } from '../sql-dialect.ts';
import { toMembership } from '../sql-pool-tx.ts';
import type { AccountSnapshot, HistoryPage, ReconcileScan, Store, UsageInUse, WriteTx } from '../store.ts';
import { applyMigrations } from './migrations.ts';
import type { PgClient } from './pg-client.ts';
import { isRetryable, translatePgError } from './pg-errors.ts';
import { EVENTS_CHANNEL } from './pg-events.ts';
import { PgServiceQueries } from './pg-service-queries.ts';
import { PgWriteTx } from './pg-write-tx.ts';

export interface PgStoreOptions {
  client: PgClient;
  /** What `location` reports: no credentials. */
  location: string;
  /** Runs of one operation when it loses a race (serialization failure, deadlock, duplicate). Default 5. */
  maxAttempts?: number;
}

const FIGURES = `${FIGURES_SQL} ORDER BY a.id COLLATE "C"`;
const IN_USE = inUseSql(PG_DIALECT);

const BROKEN_CHAIN = `
SELECT account_id, id, balance_after, expected FROM (
  SELECT account_id, id, balance_after,
    amount + lag(balance_after, 1, 0::bigint) OVER (PARTITION BY account_id ORDER BY id) AS expected
  FROM ledger_entries) chain
WHERE balance_after <> expected
ORDER BY account_id COLLATE "C", id`;

// Text is ordered bytewise (COLLATE "C"), as SQLite orders it, whatever the database's locale.

/**
 * The production store: PostgreSQL through a pool (or PGlite in process). Each write is one
 * READ COMMITTED transaction on one connection; the account row lock (`SELECT ... FOR UPDATE`)
 * serializes writers of an account across every process, and the guarded UPDATE, CHECKs and
 * UNIQUE indexes enforce the money rules in the database itself.
 */
export class PgStore implements Store {
  readonly backend = 'postgres' as const;
  readonly location: string;
  private readonly client: PgClient;
  private readonly maxAttempts: number;
  /** Live grants of accounts this store's batches wrote, by the version they left (see `GrantCache`). */
  private readonly grantCache = new GrantCache();
  readonly service: ServiceStore;

  constructor(options: PgStoreOptions) {
    this.client = options.client;
    this.service = new PgServiceQueries(options.client);
    this.location = options.location;
    this.maxAttempts = options.maxAttempts ?? 5;
    const client = options.client;
    if (client.listen) {
      this.watchEvents = (onEvents) => client.listen?.(EVENTS_CHANNEL, onEvents) ?? Promise.resolve(async () => {});
      this.watchTopups = (onIntents) => client.listen?.(TOPUPS_CHANNEL, onIntents) ?? Promise.resolve(async () => {});
    }
  }

  /** Set only where other processes can write (a server, not PGlite in this process). */
  readonly watchEvents?: (onEvents: () => void) => Promise<() => Promise<void>>;
  readonly watchTopups?: (onIntents: () => void) => Promise<() => Promise<void>>;

  async migrate(): Promise<void> {
    this.grantCache.clear();
    try {
      await this.client.transaction('BEGIN', (q) => applyMigrations(q, Date.now()));
    } catch (err) {
      throw translatePgError(err, 'read');
    }
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const staged = new StagedGrants();
        const result = await this.client.transaction('BEGIN', (q) => fn(new PgWriteTx(q, this.grantCache, staged)));
        this.grantCache.publish(staged);
        return result;
      } catch (err) {
        // Only a rolled-back transaction is run again; a connection lost mid-commit is not,
        // since nobody can tell whether it committed.
        if (attempt >= this.maxAttempts || !isRetryable(err)) throw translatePgError(err, 'write');
        // Full jitter, so the losers of one race do not collide again in lockstep.
        await sleep(Math.random() * Math.min(100, 5 * 2 ** attempt));
      }
    }
  }

  async getAccount(id: string): Promise<AccountState | undefined> {
    return (await this.getAccountWithHolds(id))?.account;
  }

  async grants(account: string, options: { includeInactive: boolean }): Promise<Grant[]> {
    const rows = await this.read(
      `SELECT * FROM grants WHERE account_id = $1 ${options.includeInactive ? '' : `AND ${LIVE_GRANT}`} ORDER BY id DESC`,
      [account],
    );
    return rows.map(toGrant);
  }

  async getGrant(id: number): Promise<Grant | undefined> {
    const [row] = await this.read('SELECT * FROM grants WHERE id = $1', [id]);
    return row ? toGrant(row) : undefined;
  }

  async getAccountWithHolds(id: string): Promise<AccountSnapshot | undefined> {
    // One statement, so one snapshot: the row and its holds, and a member's membership and pool
    // with the pool's holds, as of the same instant (no pool: those subqueries find nothing).
    const [row] = await this.read(
      `SELECT a.*, coalesce((SELECT json_agg(h ORDER BY h.id) FROM holds h
                             WHERE h.account_id = a.id AND h.status = 'active'), '[]'::json) AS active_holds,
         coalesce((SELECT json_agg(g ORDER BY g.id) FROM grants g
                   WHERE g.account_id = a.id AND ${LIVE_GRANT}), '[]'::json) AS live_grants,
         (SELECT row_to_json(m) FROM pool_members m WHERE m.pool_id = a.pool_id AND m.member_id = a.id) AS membership,
         (SELECT row_to_json(p) FROM accounts p WHERE p.id = a.pool_id) AS pool_row,
         coalesce((SELECT json_agg(h ORDER BY h.id) FROM holds h
                   WHERE h.account_id = a.pool_id AND h.status = 'active'), '[]'::json) AS pool_holds,
         coalesce((SELECT json_agg(g ORDER BY g.id) FROM grants g
                   WHERE g.account_id = a.pool_id AND ${LIVE_GRANT}), '[]'::json) AS pool_grants
       FROM accounts a WHERE a.id = $1`,
      [id],
    );
    if (!row) return undefined;
    const membership = jsonRow(row.membership);
    const pool = jsonRow(row.pool_row);
    return {
      account: toAccount(row, jsonRows(row.live_grants).map(toGrant)),
      holds: jsonRows(row.active_holds).map(toHold),
      pool:
        membership && pool
          ? {
              membership: toMembership(membership),
              account: toAccount(pool, jsonRows(row.pool_grants).map(toGrant)),
              holds: jsonRows(row.pool_holds).map(toHold),
            }
          : null,
    };
  }

  async activeHolds(account: string): Promise<Hold[]> {
    const rows = await this.read("SELECT * FROM holds WHERE account_id = $1 AND status = 'active' ORDER BY id", [
      account,
    ]);
    return rows.map(toHold);
  }

  async getHold(id: number): Promise<Hold | undefined> {
    const [row] = await this.read('SELECT * FROM holds WHERE id = $1', [id]);
    return row ? toHold(row) : undefined;
  }

  async history(account: string, options: { limit: number; cursor: string | null }): Promise<HistoryPage> {
    const before = options.cursor === null ? null : decodeCursor(options.cursor);
    if (options.cursor !== null && before === null) {
      throw new TokenmeterError('invalid_request', 'cursor: not a cursor this service issued', 'cursor');
    }
    const rows =
      before === null
        ? await this.read(numbered(HISTORY_SQL.first), [account, options.limit + 1])
        : await this.read(numbered(HISTORY_SQL.after), [account, ...afterCursor(before), options.limit + 1]);
    return historyPage(rows, options.limit);
  }

  async balanceAt(account: string, time: number): Promise<number> {
    const [row] = await this.read(
      'SELECT coalesce(sum(amount), 0) AS total FROM ledger_entries WHERE account_id = $1 AND at <= $2',
      [account, time],
    );
    return row ? int(row, 'total') : 0;
  }

  async reconcile(): Promise<ReconcileScan> {
    try {
      // One snapshot, so the sums and the rows they are compared with agree in time.
      return await this.client.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (q) => {
        const figures = await q.query(FIGURES);
        const drift = [
          ...figures.flatMap(figureDrift),
          ...chainDrift(await q.query(BROKEN_CHAIN)),
          ...grantDrift(await q.query(grantMovesSql('postgres'))),
          ...membershipDrift(await q.query(MEMBERSHIPS_SQL)),
        ];
        return { accountsChecked: figures.length, drift };
      });
    } catch (err) {
      throw translatePgError(err, 'read');
    }
  }

  async inUse(): Promise<UsageInUse> {
    const plans = await this.read(IN_USE.plans);
    const features = await this.read(IN_USE.features);
    return { plans: plans.map((r) => str(r, 'plan')), features: features.map((r) => str(r, 'feature')) };
  }

  async backup(_file: string): Promise<void> {
    throw new TokenmeterError(
      'invalid_request',
      'use pg_dump (or your provider’s snapshots and point-in-time recovery) to back up a PostgreSQL store',
    );
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async read(sql: string, params: readonly (string | number | null)[] = []): Promise<Row[]> {
    try {
      return await this.client.query(sql, params);
    } catch (err) {
      throw translatePgError(err, 'read');
    }
  }
}
