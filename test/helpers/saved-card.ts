import type { PaymentEventOutcome } from '../../src/ledger/payments/apply-payment-event.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';

let saved = 0;

/**
 * Saves a card for an existing account the way a provider reports one (`payment_method.attached`
 * becomes `payment_method_saved`): it becomes the account's card for automatic top-up.
 */
export function saveCard(
  ledger: TokenLedger,
  account: string,
  card: { last4?: string; brand?: string; provider?: string } = {},
): Promise<PaymentEventOutcome> {
  saved += 1;
  const last4 = card.last4 ?? '4242';
  return ledger.payments.applyEvent({
    provider: card.provider ?? 'test',
    eventId: `card-${process.pid}-${saved}`,
    eventType: 'payment_method.attached',
    command: {
      type: 'payment_method_saved',
      account,
      customerId: null,
      methodId: `test_pm_${process.pid}_${saved}`,
      brand: card.brand ?? 'visa',
      last4,
    },
  });
}
