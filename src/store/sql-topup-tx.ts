import type { AutoTopupSettings, TopupStatus } from '../core/auto-topup.ts';
import type { TopupCharge } from '../core/topup-charge.ts';
import { int, intOrNull, type Row, str, strOrNull } from './rows.ts';
import { NEXT_INTENT_SEQUENCE } from './schema/m010-auto-topup.ts';
import type { SqlDialect, SqlValue } from './sql-dialect.ts';
import type {
  IntentChange,
  SavedMethodRow,
  TestChargeRow,
  TopupIntent,
  TopupIntentStatus,
  TopupTx,
} from './topup-tx.ts';

type Query = (sql: string, params: readonly SqlValue[]) => Promise<Row[]>;

const SETTINGS_COLUMNS =
  'account_id, enabled, threshold, package_id, monthly_limit, status, failures, last_error, updated_at';
const INTENT_COLUMNS = `id, account_id, sequence, status, attempt, provider, payment_id, package_id, tokens, amount,
  currency, claim, next_attempt_at, error, created_at, updated_at, settled_at`;
const CHARGE_COLUMNS =
  'idempotency_key, payment_id, account_id, method_id, amount, currency, status, reason, created_at';
const OPEN = "status IN ('pending', 'charging')";

function toSettings(row: Row): AutoTopupSettings {
  return {
    account: str(row, 'account_id'),
    enabled: int(row, 'enabled') === 1,
    threshold: int(row, 'threshold'),
    packageId: str(row, 'package_id'),
    monthlyLimit: int(row, 'monthly_limit'),
    status: str(row, 'status') as TopupStatus,
    failures: int(row, 'failures'),
    lastError: strOrNull(row, 'last_error'),
    updatedAt: int(row, 'updated_at'),
  };
}

/** An attempt's charge: its four columns are all set or all null (a CHECK of migration 20). */
function toAttemptCharge(row: Row): TopupCharge | null {
  const packageId = strOrNull(row, 'package_id');
  if (packageId === null) return null;
  return { packageId, tokens: int(row, 'tokens'), amount: int(row, 'amount'), currency: str(row, 'currency') };
}

function toIntent(row: Row): TopupIntent {
  return {
    id: int(row, 'id'),
    account: str(row, 'account_id'),
    sequence: int(row, 'sequence'),
    status: str(row, 'status') as TopupIntentStatus,
    attempt: int(row, 'attempt'),
    provider: strOrNull(row, 'provider'),
    paymentId: strOrNull(row, 'payment_id'),
    charge: toAttemptCharge(row),
    claim: strOrNull(row, 'claim'),
    nextAttemptAt: intOrNull(row, 'next_attempt_at'),
    error: strOrNull(row, 'error'),
    createdAt: int(row, 'created_at'),
    updatedAt: int(row, 'updated_at'),
    settledAt: intOrNull(row, 'settled_at'),
  };
}

function toTestCharge(row: Row): TestChargeRow {
  return {
    idempotencyKey: str(row, 'idempotency_key'),
    paymentId: str(row, 'payment_id'),
    account: str(row, 'account_id'),
    methodId: str(row, 'method_id'),
    amount: int(row, 'amount'),
    currency: str(row, 'currency'),
    status: str(row, 'status') === 'failed' ? 'failed' : 'succeeded',
    reason: strOrNull(row, 'reason'),
    createdAt: int(row, 'created_at'),
  };
}

/** The columns an `IntentChange` may set, in a fixed order (an attempt's charge apart: four columns). */
const CHANGE_COLUMNS: readonly [Exclude<keyof IntentChange, 'charge'>, string][] = [
  ['status', 'status'],
  ['attempt', 'attempt'],
  ['provider', 'provider'],
  ['paymentId', 'payment_id'],
  ['claim', 'claim'],
  ['nextAttemptAt', 'next_attempt_at'],
  ['error', 'error'],
  ['settledAt', 'settled_at'],
];

/**
 * Automatic top-up's statements, written once for both backends. Every duplicate is met with
 * ON CONFLICT DO NOTHING (the open-intent index, a test charge's key), so PostgreSQL never
 * aborts the transaction on one.
 */
export class SqlTopupTx implements TopupTx {
  private readonly query: Query;
  private readonly dialect: SqlDialect;

  constructor(query: Query, dialect: SqlDialect) {
    this.query = query;
    this.dialect = dialect;
  }

  async settings(account: string): Promise<AutoTopupSettings | undefined> {
    const [row] = await this.query(`SELECT ${SETTINGS_COLUMNS} FROM auto_topups WHERE account_id = ?`, [account]);
    return row ? toSettings(row) : undefined;
  }

  async saveSettings(s: AutoTopupSettings): Promise<void> {
    await this.query(
      `INSERT INTO auto_topups (${SETTINGS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET enabled = excluded.enabled, threshold = excluded.threshold,
         package_id = excluded.package_id, monthly_limit = excluded.monthly_limit, status = excluded.status,
         failures = excluded.failures, last_error = excluded.last_error, updated_at = excluded.updated_at`,
      [
        s.account,
        s.enabled ? 1 : 0,
        s.threshold,
        s.packageId,
        s.monthlyLimit,
        s.status,
        s.failures,
        s.lastError,
        s.updatedAt,
      ],
    );
  }

  async savedMethod(account: string): Promise<SavedMethodRow | undefined> {
    const [row] = await this.query(
      `SELECT account_id, provider, method_id, brand, last4, saved_at FROM payment_methods
       WHERE account_id = ? ORDER BY saved_at DESC, provider LIMIT 1`,
      [account],
    );
    if (!row) return undefined;
    return {
      account: str(row, 'account_id'),
      provider: str(row, 'provider'),
      methodId: str(row, 'method_id'),
      brand: str(row, 'brand'),
      last4: str(row, 'last4'),
      savedAt: int(row, 'saved_at'),
    };
  }

  async saveMethod(m: SavedMethodRow): Promise<void> {
    await this.query(
      `INSERT INTO payment_methods (account_id, provider, method_id, brand, last4, saved_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, provider) DO UPDATE SET method_id = excluded.method_id, brand = excluded.brand,
         last4 = excluded.last4, saved_at = excluded.saved_at`,
      [m.account, m.provider, m.methodId, m.brand, m.last4, m.savedAt],
    );
  }

  async intent(id: number): Promise<TopupIntent | undefined> {
    const [row] = await this.query(`SELECT ${INTENT_COLUMNS} FROM topup_intents WHERE id = ?`, [id]);
    return row ? toIntent(row) : undefined;
  }

  async insertIntent(account: string, now: number): Promise<boolean> {
    const rows = await this.query(
      `INSERT INTO topup_intents (account_id, sequence, status, next_attempt_at, created_at, updated_at)
       VALUES (?, ${NEXT_INTENT_SEQUENCE('?')}, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
      [account, account, now, now, now],
    );
    return rows.length > 0;
  }

  async updateIntent(
    id: number,
    change: IntentChange & { updatedAt: number },
    from?: { status: TopupIntentStatus; attempt: number },
  ): Promise<boolean> {
    const sets: string[] = ['updated_at = ?'];
    const params: SqlValue[] = [change.updatedAt];
    for (const [key, column] of CHANGE_COLUMNS) {
      if (change[key] === undefined) continue;
      sets.push(`${column} = ?`);
      params.push(change[key]);
    }
    if (change.charge !== undefined) {
      const c = change.charge;
      sets.push('package_id = ?', 'tokens = ?', 'amount = ?', 'currency = ?');
      params.push(c?.packageId ?? null, c?.tokens ?? null, c?.amount ?? null, c?.currency ?? null);
    }
    params.push(id);
    let where = 'id = ?';
    if (from) {
      where += ' AND status = ? AND attempt = ?';
      params.push(from.status, from.attempt);
    }
    const rows = await this.query(`UPDATE topup_intents SET ${sets.join(', ')} WHERE ${where} RETURNING id`, params);
    return rows.length > 0;
  }

  async succeededSince(account: string, since: number): Promise<number> {
    const [row] = await this.query(
      `SELECT count(*) AS n FROM topup_intents WHERE account_id = ? AND status = 'succeeded' AND settled_at >= ?`,
      [account, since],
    );
    return row ? int(row, 'n') : 0;
  }

  async intents(account: string, limit: number): Promise<TopupIntent[]> {
    const rows = await this.query(
      `SELECT ${INTENT_COLUMNS} FROM topup_intents WHERE account_id = ? ORDER BY id DESC LIMIT ?`,
      [account, limit],
    );
    return rows.map(toIntent);
  }

  async claimDue(now: number, leaseUntil: number, claim: string, limit: number): Promise<TopupIntent[]> {
    const rows = await this.query(
      `UPDATE topup_intents SET claim = ?, next_attempt_at = ?
       WHERE id IN (SELECT id FROM topup_intents WHERE ${OPEN} AND next_attempt_at <= ?
                    ORDER BY next_attempt_at, id LIMIT ? ${this.dialect.skipLocked})
       RETURNING ${INTENT_COLUMNS}`,
      [claim, leaseUntil, now, limit],
    );
    return rows.map(toIntent).sort((a, b) => a.id - b.id);
  }

  async nextDue(): Promise<number | null> {
    const [row] = await this.query(`SELECT min(next_attempt_at) AS due FROM topup_intents WHERE ${OPEN}`, []);
    return row ? intOrNull(row, 'due') : null;
  }

  async recordTestCharge(c: TestChargeRow): Promise<TestChargeRow> {
    await this.query(
      `INSERT INTO test_charges (${CHARGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [c.idempotencyKey, c.paymentId, c.account, c.methodId, c.amount, c.currency, c.status, c.reason, c.createdAt],
    );
    const [row] = await this.query(`SELECT ${CHARGE_COLUMNS} FROM test_charges WHERE idempotency_key = ?`, [
      c.idempotencyKey,
    ]);
    if (!row) throw new Error(`test charge ${c.idempotencyKey} vanished after insert`);
    return toTestCharge(row);
  }

  async testCharge(paymentId: string): Promise<TestChargeRow | undefined> {
    const [row] = await this.query(`SELECT ${CHARGE_COLUMNS} FROM test_charges WHERE payment_id = ?`, [paymentId]);
    return row ? toTestCharge(row) : undefined;
  }

  async testCharges(account: string): Promise<TestChargeRow[]> {
    const rows = await this.query(
      `SELECT ${CHARGE_COLUMNS} FROM test_charges WHERE account_id = ? ORDER BY created_at, idempotency_key`,
      [account],
    );
    return rows.map(toTestCharge);
  }
}
