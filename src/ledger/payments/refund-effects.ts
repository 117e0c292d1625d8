import type { PaymentCommand } from '../../core/payment-command.ts';
import { decideTakeBackStep, isTakeBack } from '../../core/payment-refund.ts';
import { settledStatus, takeBackTarget } from '../../core/take-back-target.ts';
import type { PaymentRow } from '../../store/payment-tx.ts';
import { applied, type EffectResult, waitingFor } from './effect-result.ts';
import type { PaymentSession } from './payment-session.ts';

type Refunded = Extract<PaymentCommand, { type: 'charge_refunded' }>;
type DisputeChanged = Extract<PaymentCommand, { type: 'dispute_changed' }>;

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

/**
 * Brings what a payment has taken back to the target its stored facts give (its largest
 * refunded figure, each dispute's latest status): the step is posted under a reference naming
 * this event, and the payment's figure moves only from the value this decision read.
 */
async function settle(s: PaymentSession, paymentIntent: string, eventId: string, reason: string): Promise<void> {
  const p = await s.tx.payments.findPaymentByIntent(s.provider, paymentIntent);
  if (!p) throw new Error(`payment ${paymentIntent} vanished inside its own transaction`);
  const facts = {
    tokens: p.tokens,
    amount: p.amount,
    amountRefunded: p.amountRefunded,
    disputes: await s.tx.payments.disputesOf(s.provider, paymentIntent),
  };
  const target = takeBackTarget(facts);
  const step = target - p.tokensTakenBack;
  if (step !== 0) {
    const working = await s.account(p.account);
    const link = { source: s.provider, reference: `${paymentIntent}:${eventId}`, reason };
    // The payment's earlier steps (written, and decided earlier in this transaction) say what
    // its take-backs drew from each grant and how much debt they made: a reversal undoes those.
    const prefix = `${paymentIntent}:`;
    const history = [
      ...(await s.tx.takeBackSteps(p.account, s.provider, prefix)),
      ...working.entries.filter((e) => e.source === s.provider && isTakeBack(e) && e.reference?.startsWith(prefix)),
    ];
    if (step < 0)
      await working.loadGrants(
        s.tx,
        history.flatMap((e) => e.grantMoves.map((m) => m.grant)),
      );
    // A top-up's own grant is drawn first; a period's allocation is the soonest-ending included grant.
    const own = working.state.grants.find((g) => g.source === s.provider && g.reference === p.reference);
    const from = { kind: p.kind === 'plan' ? ('allocation' as const) : ('purchased' as const), grant: own?.id ?? null };
    working.apply(decideTakeBackStep(working.state, step, from, history, link, s.now));
    if (step > 0)
      working.emit('payment.refunded', { account: p.account, payment_id: String(p.id), tokens_taken_back: step });
  }
  await s.tx.payments.settleTakeBack(p.id, {
    from: p.tokensTakenBack,
    to: target,
    status: settledStatus(facts),
    updatedAt: s.now,
  });
}

/** A refund: the largest cumulative `amount_refunded` seen counts, so a late, smaller report changes nothing. */
export async function chargeRefunded(s: PaymentSession, c: Refunded, eventId: string): Promise<EffectResult> {
  const p = await paidPayment(s, c.paymentIntent);
  if (!p) return waitingFor(c.paymentIntent);
  const refunded = await s.tx.payments.recordRefund(p.id, c.amountRefunded, c.receiptUrl, s.now);
  await settle(s, c.paymentIntent, eventId, `Refund of ${refunded} of ${p.amount} ${p.currency}`);
  return applied(p.account);
}

/** A dispute opened, updated or closed: merged with what is known of it, then the payment settled. */
export async function disputeChanged(s: PaymentSession, c: DisputeChanged, eventId: string): Promise<EffectResult> {
  const p = await paidPayment(s, c.paymentIntent);
  if (!p) return waitingFor(c.paymentIntent);
  await s.tx.payments.recordDispute({
    provider: s.provider,
    disputeId: c.disputeId,
    paymentIntent: c.paymentIntent,
    status: c.status,
    amount: c.amount,
    now: s.now,
  });
  (await s.account(p.account)).emit('payment.disputed', {
    account: p.account,
    payment_id: String(p.id),
    status: c.status,
  });
  await settle(s, c.paymentIntent, eventId, `Dispute ${c.disputeId} ${c.status} (${c.amount} ${p.currency})`);
  return applied(p.account);
}
