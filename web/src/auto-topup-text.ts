import type { TopupStatus } from '../../src/core/auto-topup.ts';
import type { SavedCardJson } from './auto-topup-api.ts';

// Stripe's brand ids (the test provider uses the same) as people write them.
const BRANDS: Record<string, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  diners: 'Diners Club',
  jcb: 'JCB',
  unionpay: 'UnionPay',
  eftpos_au: 'eftpos',
};

/** "Visa •••• 4242", or "No card saved". */
export function cardLabel(method: SavedCardJson | null): string {
  if (method === null) return 'No card saved';
  return `${BRANDS[method.brand.toLowerCase()] ?? 'Card'} •••• ${method.last4}`;
}

/** The box at checkout that saves the card automatic top-up charges (the billing page's and the test checkout's words). */
export const SAVE_CARD_LABEL = 'Save this card for automatic top-ups';

/** The status in a word. */
export const STATUS_LABEL: Record<TopupStatus, string> = { off: 'Off', active: 'Active', suspended: 'Suspended' };

/** Why a suspended automatic top-up charges nothing, and what brings it back. */
export const SUSPENDED_NOTE = 'Stopped after failed charges — save a new card or re-enable.';

// The decline codes the providers report (Stripe's), in words a cardholder can act on.
const DECLINES: Record<string, string> = {
  card_declined: 'The card was declined',
  insufficient_funds: 'The card has insufficient funds',
  expired_card: 'The card has expired',
  authentication_required:
    'The bank wants the cardholder to confirm each payment, which an automatic charge cannot do; save another card',
  payment_method_unknown: 'The payment provider does not know the saved card; save it again',
};

/** A last error in words, with the provider's code kept for support: "The card was declined (card_declined)." */
export function lastErrorText(code: string): string {
  const words = DECLINES[code];
  return words ? `${words} (${code}).` : `The last charge failed: ${code}.`;
}
