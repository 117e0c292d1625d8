import { createHash, randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../core/clock.ts';
import type { PaymentEvent } from '../core/payment-command.ts';
import type { PaymentRow, TestChargeBook, TestChargeRow } from '../ledger/payments/payment-ledger.ts';
import type {
  CheckoutInput,
  CreatedCheckout,
  OffSessionCharge,
  OffSessionResult,
  PaymentProvider,
} from './payment-provider.ts';
import { DEFAULT_TEST_CARD, offSessionOutcome, onSessionOutcome, readTestCard, type TestCard } from './test-cards.ts';

export const TEST_PROVIDER = 'test';

export interface TestProviderOptions {
  /** Its books of off-session charges (`ledger.payments.testCharges`): in the database, so they outlive a crash. */
  charges: TestChargeBook;
  /** Stamps the charges it records; the system clock by default. */
  clock?: Clock;
}

/** A card used at a test checkout, and whether the buyer asked to save it for automatic top-ups. */
export interface CheckoutCard extends TestCard {
  save: boolean;
}

/** A test checkout completed without naming a card: the default card, not saved. */
export const DEFAULT_CHECKOUT_CARD: CheckoutCard = { ...readTestCard(DEFAULT_TEST_CARD), save: false };

// Ids derived from what names them (not random) so a repeat yields the same id: a retried
// charge remembers the payment id its first run stored, a replayed completion saves the same card.
const idFrom = (prefix: string, name: string) =>
  `${prefix}${createHash('sha256').update(name).digest('hex').slice(0, 24)}`;

/**
 * The offline provider for development and the demo: checkouts are pages tokenmeter serves
 * itself (`/pay/test/:checkout_id`), and completing one is applied through the same
 * transactional event path as a provider's webhook. Off-session charges to a saved test card
 * are decided by its last four digits (see `TEST_CARDS`) and kept one per idempotency key.
 *
 * @example new TestProvider({ charges: ledger.payments.testCharges })
 */
export class TestProvider implements PaymentProvider {
  readonly name = TEST_PROVIDER;
  private readonly charges: TestChargeBook;
  private readonly clock: Clock;

  constructor(options: TestProviderOptions) {
    this.charges = options.charges;
    this.clock = options.clock ?? systemClock;
  }

  async createCheckout(input: CheckoutInput): Promise<CreatedCheckout> {
    const checkoutId = `test_cs_${randomBytes(12).toString('hex')}`;
    return { checkoutId, url: `/pay/test/${checkoutId}${input.saveCard ? '?save_card=1' : ''}` };
  }

  async createPortal(_input: { account: string; returnUrl: string }): Promise<{ url: string }> {
    return { url: '/pay/test/portal' };
  }

  /**
   * Charges the package's price to the saved test card, once per idempotency key: a repeat (or a
   * recovery naming the payment id) returns the charge recorded first and charges nothing again.
   */
  async chargeOffSession(charge: OffSessionCharge): Promise<OffSessionResult> {
    if (charge.method.provider !== TEST_PROVIDER) {
      // Not a card this provider saved: nothing is charged, and asking again would not change that.
      return { status: 'failed', paymentId: null, reason: 'payment_method_unknown' };
    }
    const paymentId = charge.paymentId ?? idFrom('test_pi_', charge.idempotencyKey);
    const known = await this.charges.find(paymentId);
    if (charge.paymentId !== paymentId) await charge.remember(paymentId);
    if (known) return resultOf(known);
    const outcome = offSessionOutcome(charge.method.last4);
    const stored = await this.charges.record({
      idempotencyKey: charge.idempotencyKey,
      paymentId,
      account: charge.account,
      methodId: charge.method.methodId,
      amount: charge.package.priceCents,
      currency: charge.package.currency.toLowerCase(),
      status: outcome.paid ? 'succeeded' : 'failed',
      reason: outcome.paid ? null : outcome.reason,
      createdAt: this.clock.now(),
    });
    return resultOf(stored);
  }
}

function resultOf(row: TestChargeRow): OffSessionResult {
  return row.status === 'succeeded'
    ? { status: 'succeeded', paymentId: row.paymentId, amount: row.amount, currency: row.currency }
    : { status: 'failed', paymentId: row.paymentId, reason: row.reason ?? 'card_declined' };
}

/**
 * The events a completed test checkout stands for: paid (for a plan, its first invoice too) and,
 * when the buyer asked, the card saved for automatic top-ups; or, for a card declined at
 * checkout, the checkout failed.
 */
export function testCompletionEvents(payment: PaymentRow, card: CheckoutCard = DEFAULT_CHECKOUT_CARD): PaymentEvent[] {
  const outcome = onSessionOutcome(card);
  if (!outcome.paid) {
    return [
      {
        provider: TEST_PROVIDER,
        eventId: `${payment.reference}:failed`,
        eventType: 'checkout.failed',
        command: { type: 'checkout_closed', reference: payment.reference, status: 'failed' },
      },
    ];
  }
  const subscriptionId = payment.kind === 'plan' ? `test_sub_${payment.reference}` : null;
  const events: PaymentEvent[] = [
    {
      provider: TEST_PROVIDER,
      eventId: `${payment.reference}:completed`,
      eventType: 'checkout.completed',
      command: {
        type: 'checkout_paid',
        reference: payment.reference,
        account: payment.account,
        packageId: payment.packageId,
        paymentIntent: `test_pi_${payment.reference}`,
        subscriptionId,
        customerId: null,
        amount: payment.amount,
        currency: payment.currency,
      },
    },
  ];
  if (subscriptionId !== null) {
    events.push({
      provider: TEST_PROVIDER,
      eventId: `${payment.reference}:invoice`,
      eventType: 'invoice.paid',
      command: {
        type: 'invoice_paid',
        invoiceId: `test_in_${payment.reference}`,
        subscriptionId,
        periodStart: payment.createdAt,
        periodEnd: payment.createdAt + 30 * 86_400_000,
        billingReason: 'subscription_create',
        // The test checkout already carries the payment intent; the test provider simulates no refunds.
        paymentIntent: null,
        amount: payment.amount,
        currency: payment.currency,
      },
    });
  }
  if (card.save) {
    events.push({
      provider: TEST_PROVIDER,
      eventId: `${payment.reference}:card_saved`,
      eventType: 'payment_method.attached',
      command: {
        type: 'payment_method_saved',
        account: payment.account,
        customerId: null,
        methodId: idFrom('test_pm_', payment.reference),
        brand: card.brand,
        last4: card.last4,
      },
    });
  }
  return events;
}

/** The event a cancelled test checkout stands for. */
export function testCancelEvent(payment: PaymentRow): PaymentEvent {
  return {
    provider: TEST_PROVIDER,
    eventId: `${payment.reference}:canceled`,
    eventType: 'checkout.canceled',
    command: { type: 'checkout_closed', reference: payment.reference, status: 'canceled' },
  };
}
