import { decideCredit } from '../../core/credit.ts';
import type { PaymentCommand } from '../../core/payment-command.ts';
import { decidePaymentTakeBack, tokensToTakeBack } from '../../core/payment-refund.ts';
import type { PaymentRow, PaymentStatus } from '../../store/payment-tx.ts';
import { applied, type EffectResult, waitingFor } from './effect-result.ts';
import type { PaymentSession } from './payment-session.ts';

type Refunded = Extract<PaymentCommand, { type: 'charge_refunded' }>;
type DisputeOpened = Extract<PaymentCommand, { type: 'dispute_opened' }>;
type DisputeClosed = Extract<PaymentCommand, { type: 'dispute_closed' }>;

/** The paid payment behind a payment intent, re-read under its account's lock; null while unknown or unpaid. */
async function paidPayment(s: PaymentSession, paymentIntent: string): Promise<PaymentRow | null> {
  const first = await s.tx.payments.findPaymentByIntent(s.provider, paymentIntent);
  if (!first) return null;
  await s.account(first.account);
  const payment = await s.tx.payments.findPaymentByIntent(s.provider, paymentIntent);
  if (!payment || payment.status === 'pending' || payment.status === 'canceled' || payment.status === 'failed') {
    return null;
  }
  return payment;
}

function settledStatus(p: { amount: number; amountRefunded: number }): PaymentStatus {
  if (p.amountRefunded === 0) return 'paid';
  return p.amountRefunded >= p.amount ? 'refunded' : 'partially_refunded';
}

/**
 * A refund takes back the refunded share of the purchase's tokens, applying the change in the
 * cumulative `amount_refunded` since the largest one seen; the entry's reference is the charge
 * and that cumulative amount, so each step is recorded once.
 */
export async function chargeRefunded(s: PaymentSession, c: Refunded): Promise<EffectResult> {
  const p = await paidPayment(s, c.paymentIntent);
  if (!p) return waitingFor(c.paymentIntent);
  if (c.amountRefunded <= p.amountRefunded) return applied(p.account);
  const take = p.kind === 'topup' ? tokensToTakeBack(p, c.amountRefunded) : 0;
  if (take > 0) {
    const working = await s.account(p.account);
    const link = {
      source: s.provider,
      reference: `${c.chargeId}:${c.amountRefunded}`,
      reason: `Refund of ${c.amountRefunded} of ${p.amount} ${p.currency}`,
    };
    working.apply(decidePaymentTakeBack(working.state, take, link, s.now));
  }
  const amountRefunded = c.amountRefunded;
  await s.tx.payments.updatePayment(p.id, {
    ...p,
    status: p.status === 'disputed' ? 'disputed' : settledStatus({ amount: p.amount, amountRefunded }),
    tokensTakenBack: p.tokensTakenBack + take,
    amountRefunded,
    receiptUrl: c.receiptUrl ?? p.receiptUrl,
    updatedAt: s.now,
  });
  return applied(p.account);
}

/** A dispute takes back the disputed share, at most what refunds left. */
export async function disputeOpened(s: PaymentSession, c: DisputeOpened): Promise<EffectResult> {
  const p = await paidPayment(s, c.paymentIntent);
  if (!p) return waitingFor(c.paymentIntent);
  const reference = `dispute:${c.disputeId}`;
  if (await s.tx.findEntryByReference('payment_refund', s.provider, reference)) return applied(p.account);
  const share = p.kind === 'topup' ? tokensToTakeBack({ ...p, tokensTakenBack: 0 }, c.amount) : 0;
  const take = Math.min(share, p.tokens - p.tokensTakenBack);
  if (take > 0) {
    const working = await s.account(p.account);
    const link = { source: s.provider, reference, reason: `Disputed payment (${c.amount} ${p.currency})` };
    working.apply(decidePaymentTakeBack(working.state, take, link, s.now));
  }
  await s.tx.payments.updatePayment(p.id, {
    ...p,
    status: 'disputed',
    tokensTakenBack: p.tokensTakenBack + take,
    updatedAt: s.now,
  });
  return applied(p.account);
}

/** A dispute closed as won gives back what it took; a lost one keeps the payment disputed. */
export async function disputeClosed(s: PaymentSession, c: DisputeClosed): Promise<EffectResult> {
  const p = await paidPayment(s, c.paymentIntent);
  if (!p) return waitingFor(c.paymentIntent);
  if (!c.won) return applied(p.account);
  const reference = `dispute:${c.disputeId}`;
  const taken = await s.tx.findEntryByReference('payment_refund', s.provider, reference);
  if (!taken || (await s.tx.findEntryByReference('debit_reversal', s.provider, reference))) return applied(p.account);
  const back = -taken.amount;
  if (back > 0) {
    const working = await s.account(p.account);
    const link = { source: s.provider, reference, reason: 'Dispute won', actor: null };
    working.apply(decideCredit(working.state, back, 'debit_reversal', link, s.now));
  }
  await s.tx.payments.updatePayment(p.id, {
    ...p,
    status: settledStatus(p),
    tokensTakenBack: p.tokensTakenBack - back,
    updatedAt: s.now,
  });
  return applied(p.account);
}
