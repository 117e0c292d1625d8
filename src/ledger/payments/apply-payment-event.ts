import type { PaymentCommand, PaymentEvent } from '../../core/payment-command.ts';
import type { PaymentEventStatus } from '../../store/payment-tx.ts';
import type { LedgerContext } from '../context.ts';
import { checkoutClosed, checkoutPaid } from './checkout-effects.ts';
import { type EffectResult, ignored } from './effect-result.ts';
import { PaymentSession } from './payment-session.ts';
import { chargeRefunded, disputeClosed, disputeOpened } from './refund-effects.ts';
import { invoiceFailed, invoicePaid, subscriptionDeleted, subscriptionUpdated } from './subscription-effects.ts';

export interface PaymentEventOutcome {
  /** `duplicate`: this event id was processed before; nothing changed. */
  status: PaymentEventStatus | 'duplicate';
  account: string | null;
}

function effectOf(s: PaymentSession, c: PaymentCommand): Promise<EffectResult> {
  switch (c.type) {
    case 'checkout_paid':
      return checkoutPaid(s, c);
    case 'checkout_closed':
      return checkoutClosed(s, c);
    case 'charge_refunded':
      return chargeRefunded(s, c);
    case 'dispute_opened':
      return disputeOpened(s, c);
    case 'dispute_closed':
      return disputeClosed(s, c);
    case 'invoice_paid':
      return invoicePaid(s, c);
    case 'invoice_failed':
      return invoiceFailed(s, c);
    case 'subscription_updated':
      return subscriptionUpdated(s, c);
    case 'subscription_deleted':
      return subscriptionDeleted(s, c);
    case 'ignored':
      return Promise.resolve(ignored);
  }
}

/** The payment intents and subscriptions a command is about: locked before any account. */
function keysOf(c: PaymentCommand): string[] {
  switch (c.type) {
    case 'checkout_paid':
      return [c.paymentIntent, c.subscriptionId].filter((k): k is string => k !== null).sort();
    case 'charge_refunded':
    case 'dispute_opened':
    case 'dispute_closed':
      return [c.paymentIntent];
    case 'invoice_paid':
    case 'invoice_failed':
    case 'subscription_updated':
    case 'subscription_deleted':
      return [c.subscriptionId];
    default:
      return [];
  }
}

/** Keys that events kept pending may wait for, once a checkout has been applied. */
function releasedKeys(c: PaymentCommand): string[] {
  if (c.type !== 'checkout_paid') return [];
  return [c.paymentIntent, c.subscriptionId].filter((k): k is string => k !== null);
}

/**
 * Applies one provider event in ONE transaction: its id is recorded under UNIQUE
 * (provider, event_id) first (a repeat or concurrent delivery finds it and changes nothing),
 * then the account is locked, the effect decided by pure rules, the account and payment
 * written, and events that were waiting for this payment applied too.
 */
export async function applyPaymentEvent(ctx: LedgerContext, event: PaymentEvent): Promise<PaymentEventOutcome> {
  const outcome = await ctx.store.write(async (tx): Promise<PaymentEventOutcome> => {
    const now = ctx.clock.now();
    const fresh = await tx.payments.insertEvent({
      provider: event.provider,
      eventId: event.eventId,
      type: event.eventType,
      receivedAt: now,
    });
    if (!fresh) return { status: 'duplicate', account: null };
    // Keys first, then accounts, in every transaction: an event kept pending for a payment
    // and the transaction that applies the payment take turns instead of missing each other.
    for (const key of keysOf(event.command)) await tx.payments.lockKey(event.provider, key);
    const session = new PaymentSession(tx, ctx.catalog, event.provider, now);
    const result = await effectOf(session, event.command);
    await tx.payments.finishEvent(
      event.provider,
      event.eventId,
      result.status,
      result.matchKey,
      JSON.stringify(event.command),
    );
    if (result.status === 'applied') {
      for (const waiting of await tx.payments.pendingEvents(event.provider, releasedKeys(event.command))) {
        const command = JSON.parse(waiting.payload) as PaymentCommand;
        const later = await effectOf(session, command);
        if (later.status !== 'pending') {
          await tx.payments.finishEvent(event.provider, waiting.eventId, later.status, null, waiting.payload);
        }
      }
    }
    await session.flush();
    return { status: result.status, account: result.account };
  });
  if (outcome.status !== 'duplicate') {
    ctx.logger.info(
      { provider: event.provider, event: event.eventId, type: event.eventType, ...outcome },
      'payment event',
    );
  }
  return outcome;
}
