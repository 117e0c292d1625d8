import { requireAccountId } from '../../core/account-id.ts';
import type { TokenPackage } from '../../core/catalog.ts';
import { findPlan } from '../../core/catalog.ts';
import { chargedPackagePrice } from '../../core/checkout-price.ts';
import { decideCredit } from '../../core/credit.ts';
import type { PaymentCommand } from '../../core/payment-command.ts';
import { linkSubscription } from '../../core/subscription-cycle.ts';
import type { PaymentRow } from '../../store/payment-tx.ts';
import { applied, type EffectResult, unmatchedBecause } from './effect-result.ts';
import type { PaymentSession } from './payment-session.ts';

type CheckoutPaid = Extract<PaymentCommand, { type: 'checkout_paid' }>;
type CheckoutClosed = Extract<PaymentCommand, { type: 'checkout_closed' }>;

function validAccount(id: string | null): string | null {
  if (id === null) return null;
  try {
    return requireAccountId(id);
  } catch {
    return null;
  }
}

/**
 * A paid checkout: a top-up credits the package's tokens to purchased (reference = the
 * checkout id, once under the ledger's UNIQUE index); a plan links the subscription and moves
 * the account to the plan, granting nothing until its first invoice. A session tokenmeter did
 * not create counts when its metadata names a known account and package and it charged the
 * package's price in its currency.
 */
export async function checkoutPaid(s: PaymentSession, c: CheckoutPaid): Promise<EffectResult> {
  let payment = await s.tx.payments.findPayment(s.provider, c.reference);
  const account = payment?.account ?? validAccount(c.account);
  const pkg = s.catalog.packages.get(payment?.packageId ?? c.packageId ?? '');
  if (account === null) return unmatchedBecause('unknown_account');
  if (!pkg) return unmatchedBecause('unknown_package');
  if (!payment) {
    if (!chargedPackagePrice(pkg, c.amount, c.currency)) return unmatchedBecause('price_mismatch');
    if (!(await s.exists(account))) return unmatchedBecause('unknown_account');
  }
  const working = await s.account(account);
  // Re-read under the account's lock: a concurrent event for this payment has committed by now.
  payment = await s.tx.payments.findPayment(s.provider, c.reference);
  if (payment && payment.status !== 'pending' && payment.status !== 'canceled' && payment.status !== 'failed') {
    return applied(account);
  }
  const row = payment ?? (await insertPaid(s, c, account, pkg));
  await s.tx.payments.updatePayment(row.id, {
    status: 'paid',
    paymentIntent: c.paymentIntent ?? row.paymentIntent,
    subscriptionId: c.subscriptionId ?? row.subscriptionId,
    tokensTakenBack: row.tokensTakenBack,
    amountRefunded: row.amountRefunded,
    receiptUrl: row.receiptUrl,
    updatedAt: s.now,
  });
  // Past the check above, this is the payment's first paid event: announced once.
  working.emit('purchase.completed', {
    account,
    payment_id: String(row.id),
    package: pkg.id,
    tokens: row.tokens,
    amount: row.amount,
    currency: row.currency,
  });
  if (pkg.kind === 'topup') {
    if (!(await s.hasEntry('purchase', c.reference))) {
      const link = { source: s.provider, reference: c.reference, reason: `Bought ${pkg.name}`, actor: null };
      // A package may make its tokens expire (`expires_in_days`), counted from the purchase.
      const expiresAt = pkg.expiresInDays ? s.now + pkg.expiresInDays * 86_400_000 : null;
      working.apply(decideCredit(working.state, row.tokens, 'purchase', link, s.now, expiresAt));
    }
  } else {
    const plan = findPlan(s.catalog, pkg.plan ?? '');
    working.state = linkSubscription(working.state, plan);
    await s.tx.payments.upsertSubscription(
      {
        provider: s.provider,
        subscriptionId: c.subscriptionId ?? c.reference,
        account,
        plan: plan.id,
        status: 'active',
        periodEnd: null,
      },
      s.now,
    );
  }
  return applied(account);
}

async function insertPaid(s: PaymentSession, c: CheckoutPaid, account: string, pkg: TokenPackage): Promise<PaymentRow> {
  await s.tx.payments.insertPayment({
    provider: s.provider,
    reference: c.reference,
    account,
    packageId: pkg.id,
    kind: pkg.kind,
    tokens: pkg.tokens,
    amount: c.amount ?? pkg.priceCents,
    currency: (c.currency ?? pkg.currency).toLowerCase(),
    status: 'pending',
    paymentIntent: null,
    subscriptionId: null,
    receiptUrl: null,
    createdAt: s.now,
  });
  const row = await s.tx.payments.findPayment(s.provider, c.reference);
  if (!row) throw new Error(`payment ${c.reference} vanished after insert`);
  return row;
}

/** A checkout that expired or failed: a pending payment says so; a paid one is left as it is. */
export async function checkoutClosed(s: PaymentSession, c: CheckoutClosed): Promise<EffectResult> {
  const payment = await s.tx.payments.findPayment(s.provider, c.reference);
  if (!payment) return unmatchedBecause('unknown_payment');
  await s.account(payment.account);
  const fresh = await s.tx.payments.findPayment(s.provider, c.reference);
  if (fresh?.status === 'pending') {
    await s.tx.payments.updatePayment(fresh.id, { ...fresh, status: c.status, updatedAt: s.now });
  }
  return applied(payment.account);
}
