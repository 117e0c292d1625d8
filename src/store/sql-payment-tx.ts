import type { DisputeFact } from '../core/dispute-status.ts';
import { DISPUTE_RANK, DISPUTE_STATUSES } from '../core/dispute-status.ts';
import { ENDED_SUBSCRIPTION_STATUSES } from '../core/subscription-cycle.ts';
import type {
  DisputeRecord,
  NewPayment,
  PaymentEventRecord,
  PaymentEventStatus,
  PaymentRow,
  PaymentStatus,
  PaymentTx,
  PaymentUpdate,
  StoredPaymentEvent,
  SubscriptionRow,
  TakeBackUpdate,
  UnmatchedEvent,
} from './payment-tx.ts';
import { int, intOrNull, type Row, str, strOrNull } from './rows.ts';

/** A value bound to a `?` placeholder. */
export type SqlParam = string | number | null;

/**
 * The little each backend supplies: one statement with `?` placeholders (PostgreSQL's adapter
 * numbers them), and the error a lost insert race raises (retried on PostgreSQL).
 */
export interface PaymentSql {
  query(sql: string, params: readonly SqlParam[]): Promise<Row[]>;
  conflict(message: string): Error;
  /** A transaction-scoped lock on a key; a no-op where writers are already serialized. */
  lockKey(key: string): Promise<void>;
}

/** The dispute status order of `core/dispute-status.ts`, as SQL over a column. */
function disputeRank(column: string): string {
  const cases = DISPUTE_STATUSES.map((st) => `WHEN '${st}' THEN ${DISPUTE_RANK[st]}`).join(' ');
  return `CASE ${column} ${cases} END`;
}

/** The final subscription statuses of `core/subscription-cycle.ts`, as an SQL list. */
const ENDED = ENDED_SUBSCRIPTION_STATUSES.map((st) => `'${st}'`).join(', ');

const PAYMENT_COLUMNS = `id, provider, reference, account_id, package_id, kind, tokens, amount, currency, status,
  payment_intent, subscription_id, tokens_taken_back, amount_refunded, receipt_url, created_at, updated_at`;

function toPayment(row: Row): PaymentRow {
  const kind = str(row, 'kind');
  return {
    id: int(row, 'id'),
    provider: str(row, 'provider'),
    reference: str(row, 'reference'),
    account: str(row, 'account_id'),
    packageId: str(row, 'package_id'),
    kind: kind === 'plan' ? 'plan' : 'topup',
    tokens: int(row, 'tokens'),
    amount: int(row, 'amount'),
    currency: str(row, 'currency'),
    status: str(row, 'status') as PaymentStatus,
    paymentIntent: strOrNull(row, 'payment_intent'),
    subscriptionId: strOrNull(row, 'subscription_id'),
    tokensTakenBack: int(row, 'tokens_taken_back'),
    amountRefunded: int(row, 'amount_refunded'),
    receiptUrl: strOrNull(row, 'receipt_url'),
    createdAt: int(row, 'created_at'),
    updatedAt: int(row, 'updated_at'),
  };
}

/**
 * The payment statements, written once for both backends: every duplicate is met with
 * `ON CONFLICT DO NOTHING RETURNING`, so PostgreSQL never aborts the transaction on one and a
 * lost race surfaces as the backend's conflict error (the whole transaction is re-run).
 */
export class SqlPaymentTx implements PaymentTx {
  private readonly sql: PaymentSql;

  constructor(sql: PaymentSql) {
    this.sql = sql;
  }

  lockKey(provider: string, key: string): Promise<void> {
    return this.sql.lockKey(`${provider}:${key}`);
  }

  async insertEvent(e: PaymentEventRecord): Promise<boolean> {
    // A concurrent delivery of the same event waits here for the first one's transaction:
    // committed, this finds the row and the delivery is a repeat; rolled back, this one proceeds.
    const rows = await this.sql.query(
      `INSERT INTO payment_events (provider, event_id, type, status, received_at, payload)
       VALUES (?, ?, ?, 'applied', ?, '') ON CONFLICT (provider, event_id) DO NOTHING RETURNING event_id`,
      [e.provider, e.eventId, e.type, e.receivedAt],
    );
    return rows.length === 1;
  }

  async finishEvent(
    provider: string,
    eventId: string,
    status: PaymentEventStatus,
    matchKey: string | null,
    payload: string,
    reason: string | null = null,
  ): Promise<void> {
    await this.sql.query(
      'UPDATE payment_events SET status = ?, match_key = ?, payload = ?, reason = ? WHERE provider = ? AND event_id = ?',
      [status, matchKey, payload, reason, provider, eventId],
    );
  }

  async unmatchedEvents(limit: number): Promise<UnmatchedEvent[]> {
    const rows = await this.sql.query(
      `SELECT provider, event_id, type, reason, received_at FROM payment_events WHERE status = 'unmatched'
       ORDER BY received_at DESC, event_id DESC LIMIT ?`,
      [limit],
    );
    return rows.map((r) => ({
      provider: str(r, 'provider'),
      eventId: str(r, 'event_id'),
      type: str(r, 'type'),
      reason: strOrNull(r, 'reason'),
      receivedAt: int(r, 'received_at'),
    }));
  }

  async pendingEvents(provider: string, matchKeys: readonly string[]): Promise<StoredPaymentEvent[]> {
    if (matchKeys.length === 0) return [];
    const rows = await this.sql.query(
      `SELECT event_id, type, payload FROM payment_events
       WHERE provider = ? AND status = 'pending' AND match_key IN (${matchKeys.map(() => '?').join(', ')})
       ORDER BY received_at, event_id`,
      [provider, ...matchKeys],
    );
    return rows.map((r) => ({ eventId: str(r, 'event_id'), type: str(r, 'type'), payload: str(r, 'payload') }));
  }

  async insertPayment(p: NewPayment): Promise<number> {
    const rows = await this.sql.query(
      `INSERT INTO payments (provider, reference, account_id, package_id, kind, tokens, amount, currency, status,
         payment_intent, subscription_id, receipt_url, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
      [
        p.provider,
        p.reference,
        p.account,
        p.packageId,
        p.kind,
        p.tokens,
        p.amount,
        p.currency,
        p.status,
        p.paymentIntent,
        p.subscriptionId,
        p.receiptUrl,
        p.createdAt,
        p.createdAt,
      ],
    );
    const [row] = rows;
    if (!row) throw this.sql.conflict(`payment ${p.provider}/${p.reference} was recorded by another transaction`);
    return int(row, 'id');
  }

  async findPayment(provider: string, reference: string): Promise<PaymentRow | undefined> {
    const [row] = await this.sql.query(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE provider = ? AND reference = ?`, [
      provider,
      reference,
    ]);
    return row ? toPayment(row) : undefined;
  }

  async findPaymentByIntent(provider: string, paymentIntent: string): Promise<PaymentRow | undefined> {
    const [row] = await this.sql.query(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE provider = ? AND payment_intent = ?`,
      [provider, paymentIntent],
    );
    return row ? toPayment(row) : undefined;
  }

  async updatePayment(id: number, u: PaymentUpdate): Promise<void> {
    const rows = await this.sql.query(
      `UPDATE payments SET status = ?, payment_intent = ?, subscription_id = ?, tokens_taken_back = ?,
         amount_refunded = ?, receipt_url = ?, updated_at = ? WHERE id = ? RETURNING id`,
      [u.status, u.paymentIntent, u.subscriptionId, u.tokensTakenBack, u.amountRefunded, u.receiptUrl, u.updatedAt, id],
    );
    if (rows.length !== 1) throw new Error(`payment ${id} not found`);
  }

  async recordRefund(id: number, amountRefunded: number, receiptUrl: string | null, now: number): Promise<number> {
    const [row] = await this.sql.query(
      `UPDATE payments SET
         amount_refunded = CASE WHEN amount_refunded >= ? THEN amount_refunded ELSE ? END,
         receipt_url = coalesce(?, receipt_url), updated_at = ?
       WHERE id = ? RETURNING amount_refunded`,
      [amountRefunded, amountRefunded, receiptUrl, now, id],
    );
    if (!row) throw new Error(`payment ${id} not found`);
    return int(row, 'amount_refunded');
  }

  async recordDispute(d: DisputeRecord): Promise<void> {
    // The merge is the write itself: a status of lower rank or a smaller amount never replaces
    // a stored one, whichever transaction or delivery order brings it.
    await this.sql.query(
      `INSERT INTO payment_disputes (provider, dispute_id, payment_intent, status, amount, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (provider, dispute_id) DO UPDATE SET
         status = CASE WHEN ${disputeRank('excluded.status')} > ${disputeRank('payment_disputes.status')}
           THEN excluded.status ELSE payment_disputes.status END,
         amount = CASE WHEN excluded.amount > payment_disputes.amount
           THEN excluded.amount ELSE payment_disputes.amount END,
         updated_at = excluded.updated_at`,
      [d.provider, d.disputeId, d.paymentIntent, d.status, d.amount, d.now, d.now],
    );
  }

  async disputesOf(provider: string, paymentIntent: string): Promise<DisputeFact[]> {
    const rows = await this.sql.query(
      `SELECT status, amount FROM payment_disputes WHERE provider = ? AND payment_intent = ? ORDER BY dispute_id`,
      [provider, paymentIntent],
    );
    return rows.map((r) => {
      const status = DISPUTE_STATUSES.find((st) => st === str(r, 'status'));
      if (status === undefined) throw new Error(`unknown dispute status ${str(r, 'status')}`);
      return { status, amount: int(r, 'amount') };
    });
  }

  async settleTakeBack(id: number, u: TakeBackUpdate): Promise<void> {
    const rows = await this.sql.query(
      `UPDATE payments SET tokens_taken_back = ?, status = ?, updated_at = ?
       WHERE id = ? AND tokens_taken_back = ? RETURNING id`,
      [u.to, u.status, u.updatedAt, id, u.from],
    );
    if (rows.length !== 1) {
      throw this.sql.conflict(`payment ${id}: what it took back changed while this event was applied`);
    }
  }

  async listPayments(account: string, limit: number): Promise<PaymentRow[]> {
    const rows = await this.sql.query(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
      [account, limit],
    );
    return rows.map(toPayment);
  }

  async findCustomer(account: string, provider: string): Promise<string | undefined> {
    const [row] = await this.sql.query(
      'SELECT customer_id FROM payment_customers WHERE account_id = ? AND provider = ?',
      [account, provider],
    );
    return row ? str(row, 'customer_id') : undefined;
  }

  async customerAccount(provider: string, customerId: string): Promise<string | undefined> {
    const [row] = await this.sql.query(
      'SELECT account_id FROM payment_customers WHERE provider = ? AND customer_id = ?',
      [provider, customerId],
    );
    return row ? str(row, 'account_id') : undefined;
  }

  async saveCustomer(account: string, provider: string, customerId: string, now: number): Promise<string> {
    await this.sql.query(
      `INSERT INTO payment_customers (account_id, provider, customer_id, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      [account, provider, customerId, now],
    );
    const stored = await this.findCustomer(account, provider);
    if (stored === undefined) throw this.sql.conflict(`customer ${customerId} belongs to another account`);
    return stored;
  }

  async findSubscription(provider: string, subscriptionId: string): Promise<SubscriptionRow | undefined> {
    const [row] = await this.sql.query(
      `SELECT provider, subscription_id, account_id, plan, status, period_end FROM subscriptions
       WHERE provider = ? AND subscription_id = ?`,
      [provider, subscriptionId],
    );
    if (!row) return undefined;
    return {
      provider: str(row, 'provider'),
      subscriptionId: str(row, 'subscription_id'),
      account: str(row, 'account_id'),
      plan: str(row, 'plan'),
      status: str(row, 'status'),
      periodEnd: intOrNull(row, 'period_end'),
    };
  }

  async upsertSubscription(s: SubscriptionRow, now: number): Promise<void> {
    await this.sql.query(
      `INSERT INTO subscriptions (provider, subscription_id, account_id, plan, status, period_end, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (provider, subscription_id) DO UPDATE SET
         plan = excluded.plan, status = excluded.status, period_end = excluded.period_end, updated_at = excluded.updated_at
       WHERE subscriptions.status NOT IN (${ENDED})`,
      [s.provider, s.subscriptionId, s.account, s.plan, s.status, s.periodEnd, now, now],
    );
  }

  async endSubscription(provider: string, subscriptionId: string, status: string, now: number): Promise<boolean> {
    // The guard is the write: of two transactions ending one subscription, the second finds it ended.
    const rows = await this.sql.query(
      `UPDATE subscriptions SET status = ?, updated_at = ?
       WHERE provider = ? AND subscription_id = ? AND status NOT IN (${ENDED}) RETURNING subscription_id`,
      [status, now, provider, subscriptionId],
    );
    return rows.length === 1;
  }
}
