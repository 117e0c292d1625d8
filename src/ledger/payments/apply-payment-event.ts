import type { PaymentCommand, PaymentEvent } from '../../core/payment-command.ts';
import type { UnmatchedReason } from '../../core/unmatched-reason.ts';
import type { PaymentEventStatus } from '../../store/payment-tx.ts';
import type { LedgerContext } from '../context.ts';
import { checkoutClosed, checkoutPaid } from './checkout-effects.ts';
import { type EffectResult, ignored } from './effect-result.ts';
import { PaymentSession } from './payment-session.ts';
import { chargeRefunded, disputeChanged } from './refund-effects.ts';
import { storedCommand } from './stored-command.ts';
import { invoiceFailed, invoicePaid, subscriptionDeleted } from './subscription-effects.ts';
import { subscriptionUpdated } from './subscription-plan-switch.ts';
import { paymentMethodSaved, topupFailed, topupPaid } from './topup-effects.ts';

export interface PaymentEventOutcome {
  /** `duplicate`: this event id was processed before; nothing changed. */
  status: PaymentEventStatus | 'duplicate';
  account: string | null;
  /** Why an `unmatched` event matched nothing. */
  reason: UnmatchedReason | null;
}

function effectOf(s: PaymentSession, c: PaymentCommand, eventId: string): Promise<EffectResult> {
  switch (c.type) {
    case 'checkout_paid':
      return checkoutPaid(s, c);
    case 'checkout_closed':
      return checkoutClosed(s, c);
    case 'charge_refunded':
      return chargeRefunded(s, c, eventId);
    case 'dispute_changed':
      return disputeChanged(s, c, eventId);
    case 'invoice_paid':
      return invoicePaid(s, c);
    case 'invoice_failed':
      return invoiceFailed(s, c);
    case 'subscription_updated':
      return subscriptionUpdated(s, c);
    case 'subscription_deleted':
      return subscriptionDeleted(s, c);
    case 'topup_paid':
      return topupPaid(s, c);
    case 'topup_failed':
      return topupFailed(s, c);
    case 'payment_method_saved':
      return paymentMethodSaved(s, c);
    case 'ignored':
      return Promise.resolve(ignored);
  }
}

const present = (keys: (string | null)[]): string[] => keys.filter((k): k is string => k !== null);

/**
 * The subscriptions and payment intents a command is about: locked before any account, a
 * subscription before a payment intent in every transaction, so two never wait on each other.
 */
function keysOf(c: PaymentCommand): string[] {
  switch (c.type) {
    case 'checkout_paid':
      return present([c.subscriptionId, c.paymentIntent]);
    case 'charge_refunded':
    case 'dispute_changed':
      return [c.paymentIntent];
    case 'invoice_paid':
      // The invoice's charge becomes a payment here: its refunds and disputes take turns with it.
      return present([c.subscriptionId, c.paymentIntent]);
    case 'topup_paid':
      return [c.paymentId];
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
  return present([c.subscriptionId, c.paymentIntent]);
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
    if (!fresh) return { status: 'duplicate', account: null, reason: null };
    // Keys first, then accounts, in every transaction: an event kept pending for a payment
    // and the transaction that applies the payment take turns instead of missing each other.
    for (const key of keysOf(event.command)) await tx.payments.lockKey(event.provider, key);
    const session = new PaymentSession(tx, ctx.catalog, event.provider, now, ctx.topupRetryMs);
    const result = await effectOf(session, event.command, event.eventId);
    await tx.payments.finishEvent(
      event.provider,
      event.eventId,
      result.status,
      result.matchKey,
      JSON.stringify(event.command),
      result.reason,
    );
    if (result.status === 'applied') {
      const locked = new Set(keysOf(event.command));
      const queue = [...releasedKeys(event.command), ...result.releases];
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        // A payment intent made known by a released invoice, locked after the account: a
        // transaction holding it either waits for the subscription this one holds, or is a
        // refund that found no payment yet (ours is uncommitted) and takes no account lock.
        if (!locked.has(key)) {
          await tx.payments.lockKey(event.provider, key);
          locked.add(key);
        }
        for (const waiting of await tx.payments.pendingEvents(event.provider, [key])) {
          const later = await effectOf(session, storedCommand(waiting.payload), waiting.eventId);
          if (later.status !== 'pending') {
            await tx.payments.finishEvent(
              event.provider,
              waiting.eventId,
              later.status,
              null,
              waiting.payload,
              later.reason,
            );
          }
          if (later.status === 'applied') queue.push(...later.releases);
        }
      }
    }
    await session.flush();
    return { status: result.status, account: result.account, reason: result.reason };
  });
  if (outcome.status !== 'duplicate') {
    ctx.logger.info(
      { provider: event.provider, event: event.eventId, type: event.eventType, ...outcome },
      'payment event',
    );
  }
  return outcome;
}
