import { availableOf, balanceOf } from '../core/account-state.ts';
import { TokenmeterError } from '../core/errors.ts';
import type { PaymentRow, SubscriptionRow } from './payment-tx.ts';
import { ACCOUNT_READ_COLUMNS, int, intOrNull, type Row, str, strOrNull, toAccount } from './rows.ts';
import type {
  AccountListQuery,
  AccountPage,
  AccountSort,
  DisputeRow,
  PaymentEventRow,
  PaymentListQuery,
} from './service-store.ts';

/** An account's balance over its columns, as `balanceOf` (core/account-state.ts) computes it. */
const BALANCE_SQL = 'allocation + purchased + promotional - debt';

/** A value bound to a `?` placeholder. */
export type OperatorParam = string | number | null;

/**
 * What a backend supplies to the operator reads: one statement with `?` placeholders, and how
 * it orders account ids byte-wise (PostgreSQL's default collation would not), so the keyset
 * cursor and the ORDER BY agree.
 */
export interface OperatorSql {
  query(sql: string, params: readonly OperatorParam[]): Promise<Row[]>;
  /** `id` as compared and ordered, e.g. `id COLLATE "C"`. */
  idExpr: string;
}

const SORT_EXPR: Record<AccountSort, string | null> = {
  account: null,
  balance: `(${BALANCE_SQL})`,
  available: `(${BALANCE_SQL} - held)`,
  last_activity: 'updated_at',
};

interface AccountCursor {
  sort: AccountSort;
  order: 'asc' | 'desc';
  value: number | null;
  id: string;
}

function encodeListCursor(c: AccountCursor): string {
  return Buffer.from(JSON.stringify(['l', c.sort, c.order, c.value, c.id])).toString('base64url');
}

function decodeListCursor(cursor: string, sort: AccountSort, order: 'asc' | 'desc'): AccountCursor {
  const bad = () =>
    new TokenmeterError('invalid_request', 'cursor: not a cursor this service issued for this sort', 'cursor');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 5 || parsed[0] !== 'l') throw bad();
  const [, s, o, value, id] = parsed as unknown[];
  if (s !== sort || o !== order || typeof id !== 'string' || id.length === 0) throw bad();
  if (sort === 'account' ? value !== null : !Number.isSafeInteger(value)) throw bad();
  return { sort, order, value: value as number | null, id };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Accounts matching the search and filters, in the chosen order, a keyset page at a time. */
export async function listAccountsSql(db: OperatorSql, q: AccountListQuery): Promise<AccountPage> {
  const sort = q.sort ?? 'account';
  const order = q.order ?? 'asc';
  const id = db.idExpr;
  const expr = SORT_EXPR[sort];
  const where: string[] = [];
  const params: OperatorParam[] = [];
  if (q.query !== null) {
    where.push(`id LIKE ? ESCAPE '\\'`);
    params.push(`%${escapeLike(q.query)}%`);
  }
  // The stored figures, as the list shows them: the same rule as core's featuresDisabled.
  if (q.filters?.featuresDisabled) where.push(`${BALANCE_SQL} - held <= 0`);
  if (q.filters?.negativeBalance) where.push(`${BALANCE_SQL} < 0`);
  if (q.filters?.autoTopup) where.push('id IN (SELECT account_id FROM auto_topups WHERE enabled = 1)');
  if (q.filters?.pool) where.push('pool_id IS NOT NULL');
  const cmp = order === 'asc' ? '>' : '<';
  if (q.cursor !== null) {
    const after = decodeListCursor(q.cursor, sort, order);
    if (expr === null) {
      where.push(`${id} ${cmp} ?`);
      params.push(after.id);
    } else {
      where.push(`(${expr} ${cmp} ? OR (${expr} = ? AND ${id} ${cmp} ?))`);
      params.push(after.value, after.value, after.id);
    }
  }
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  const orderBy = expr === null ? `${id} ${dir}` : `${expr} ${dir}, ${id} ${dir}`;
  const rows = await db.query(
    `SELECT ${ACCOUNT_READ_COLUMNS} FROM accounts ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY ${orderBy} LIMIT ?`,
    [...params, q.limit + 1],
  );
  const accounts = rows.slice(0, q.limit).map((row) => toAccount(row));
  const last = accounts.at(-1);
  if (rows.length <= q.limit || !last) return { accounts, nextCursor: null };
  const value =
    sort === 'account'
      ? null
      : sort === 'balance'
        ? balanceOf(last)
        : sort === 'available'
          ? availableOf(last)
          : last.updatedAt;
  return { accounts, nextCursor: encodeListCursor({ sort, order, value, id: last.id }) };
}

const PAYMENT_COLUMNS = `id, provider, reference, account_id, package_id, kind, tokens, amount, currency, status,
  payment_intent, subscription_id, tokens_taken_back, amount_refunded, receipt_url, created_at, updated_at`;

function toPaymentRow(row: Row): PaymentRow {
  return {
    id: int(row, 'id'),
    provider: str(row, 'provider'),
    reference: str(row, 'reference'),
    account: str(row, 'account_id'),
    packageId: str(row, 'package_id'),
    kind: str(row, 'kind') as PaymentRow['kind'],
    tokens: int(row, 'tokens'),
    amount: int(row, 'amount'),
    currency: str(row, 'currency'),
    status: str(row, 'status') as PaymentRow['status'],
    paymentIntent: strOrNull(row, 'payment_intent'),
    subscriptionId: strOrNull(row, 'subscription_id'),
    tokensTakenBack: int(row, 'tokens_taken_back'),
    amountRefunded: int(row, 'amount_refunded'),
    receiptUrl: strOrNull(row, 'receipt_url'),
    createdAt: int(row, 'created_at'),
    updatedAt: int(row, 'updated_at'),
  };
}

/** Payments newest first, of any account or one, optionally only those with money taken back. */
export async function listPaymentsSql(db: OperatorSql, q: PaymentListQuery): Promise<PaymentRow[]> {
  const where: string[] = [];
  const params: OperatorParam[] = [];
  if (q.account !== undefined) {
    where.push('account_id = ?');
    params.push(q.account);
  }
  if (q.refundedOnly) where.push('amount_refunded > 0');
  const rows = await db.query(
    `SELECT ${PAYMENT_COLUMNS} FROM payments ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY id DESC LIMIT ?`,
    [...params, q.limit],
  );
  return rows.map(toPaymentRow);
}

/** Provider events kept `pending` (their payment or subscription has not arrived), newest first. */
export async function pendingEventsSql(db: OperatorSql, limit: number): Promise<PaymentEventRow[]> {
  const rows = await db.query(
    `SELECT provider, event_id, type, status, match_key, reason, received_at FROM payment_events
     WHERE status = 'pending' ORDER BY received_at DESC, event_id LIMIT ?`,
    [limit],
  );
  return rows.map((r) => ({
    provider: str(r, 'provider'),
    eventId: str(r, 'event_id'),
    type: str(r, 'type'),
    status: 'pending' as const,
    matchKey: strOrNull(r, 'match_key'),
    reason: strOrNull(r, 'reason'),
    receivedAt: int(r, 'received_at'),
  }));
}

/** Disputes newest first, each with the payment (and account) it is about when that is known. */
export async function listDisputesSql(db: OperatorSql, limit: number): Promise<DisputeRow[]> {
  const rows = await db.query(
    `SELECT d.provider, d.dispute_id, d.payment_intent, d.status, d.amount, d.created_at, d.updated_at,
            p.account_id, p.reference, p.currency
     FROM payment_disputes d
     LEFT JOIN payments p ON p.provider = d.provider AND p.payment_intent = d.payment_intent
     ORDER BY d.updated_at DESC, d.dispute_id LIMIT ?`,
    [limit],
  );
  return rows.map((r) => ({
    provider: str(r, 'provider'),
    disputeId: str(r, 'dispute_id'),
    paymentIntent: str(r, 'payment_intent'),
    status: str(r, 'status') as DisputeRow['status'],
    amount: int(r, 'amount'),
    currency: strOrNull(r, 'currency'),
    account: strOrNull(r, 'account_id'),
    paymentReference: strOrNull(r, 'reference'),
    createdAt: int(r, 'created_at'),
    updatedAt: int(r, 'updated_at'),
  }));
}

/** An account's subscriptions, the latest period end first (where a subscription's cycle ends). */
export async function subscriptionsOfSql(db: OperatorSql, account: string): Promise<SubscriptionRow[]> {
  const rows = await db.query(
    `SELECT provider, subscription_id, account_id, plan, status, period_end FROM subscriptions
     WHERE account_id = ? ORDER BY updated_at DESC, subscription_id`,
    [account],
  );
  return rows.map((r) => ({
    provider: str(r, 'provider'),
    subscriptionId: str(r, 'subscription_id'),
    account: str(r, 'account_id'),
    plan: str(r, 'plan'),
    status: str(r, 'status'),
    periodEnd: intOrNull(r, 'period_end'),
  }));
}
