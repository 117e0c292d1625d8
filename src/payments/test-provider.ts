import { randomBytes } from 'node:crypto';
import type { PaymentEvent } from '../core/payment-command.ts';
import type { PaymentRow } from '../ledger/payments/payment-ledger.ts';
import type { CheckoutInput, CreatedCheckout, PaymentProvider } from './payment-provider.ts';

export const TEST_PROVIDER = 'test';

/**
 * The offline provider for development and the demo: checkouts are pages tokenmeter serves
 * itself (`/pay/test/:checkout_id`), and completing one is applied through the same
 * transactional event path as a provider's webhook.
 */
export class TestProvider implements PaymentProvider {
  readonly name = TEST_PROVIDER;

  async createCheckout(_input: CheckoutInput): Promise<CreatedCheckout> {
    const checkoutId = `test_cs_${randomBytes(12).toString('hex')}`;
    return { checkoutId, url: `/pay/test/${checkoutId}` };
  }

  async createPortal(_input: { account: string; returnUrl: string }): Promise<{ url: string }> {
    return { url: '/pay/test/portal' };
  }
}

/** The events a completed test checkout stands for: paid, and for a plan its first invoice. */
export function testCompletionEvents(payment: PaymentRow): PaymentEvent[] {
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
