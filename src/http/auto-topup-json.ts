import { TOPUP_STATUSES } from '../core/auto-topup.ts';
import type { AutoTopupView } from '../ledger/topup/auto-topup-ledger.ts';

/**
 * An account's auto top-up on the wire (`/api/payment/auto-topup`, the CLI's `--json`):
 * snake_case, `package` for the library's `packageId`, the card as `{brand, last4}` or null.
 */
export function autoTopupJson(v: AutoTopupView) {
  return {
    enabled: v.enabled,
    threshold: v.threshold,
    package: v.packageId,
    monthly_limit: v.monthlyLimit,
    used_this_month: v.usedThisMonth,
    status: v.status,
    payment_method: v.paymentMethod ? { brand: v.paymentMethod.brand, last4: v.paymentMethod.last4 } : null,
    last_error: v.lastError,
  };
}

/** The answer of both auto top-up routes, for the OpenAPI document. */
export const autoTopupAnswer = {
  type: 'object',
  additionalProperties: false,
  required: ['success', 'auto_topup'],
  properties: {
    success: { type: 'boolean' },
    auto_topup: {
      type: 'object',
      additionalProperties: false,
      required: [
        'enabled',
        'threshold',
        'package',
        'monthly_limit',
        'used_this_month',
        'status',
        'payment_method',
        'last_error',
      ],
      properties: {
        enabled: { type: 'boolean' },
        threshold: { type: 'integer', description: 'Top up when available drops below this.' },
        package: { type: 'string', description: 'The top-up package bought each time.' },
        monthly_limit: { type: 'integer', description: 'Most successful automatic top-ups per calendar month (UTC).' },
        used_this_month: {
          type: 'integer',
          description: 'Successful automatic top-ups this calendar month (UTC); checkouts never count.',
        },
        status: {
          type: 'string',
          enum: [...TOPUP_STATUSES],
          description: '`suspended`: stopped after failed charges until a new card is saved or it is re-enabled.',
        },
        payment_method: {
          type: ['object', 'null'],
          description: 'The saved card, or null (enabling then answers 409 payment_method_required).',
          additionalProperties: false,
          required: ['brand', 'last4'],
          properties: { brand: { type: 'string' }, last4: { type: 'string' } },
        },
        last_error: {
          type: ['string', 'null'],
          description: 'The last declined charge’s reason, e.g. card_declined.',
        },
      },
    },
  },
} as const;
