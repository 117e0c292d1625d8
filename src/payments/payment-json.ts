import type { Catalog, TokenPackage } from '../core/catalog.ts';
import type { PaymentRow } from '../ledger/payments/payment-ledger.ts';

/** A package as `/api/payment/packages` shows it; `expires_in_days` null: its tokens never expire. */
export function packageJson(p: TokenPackage) {
  return {
    id: p.id,
    name: p.name,
    kind: p.kind,
    tokens: p.tokens,
    price_cents: p.priceCents,
    currency: p.currency,
    expires_in_days: p.expiresInDays ?? null,
  };
}

/** A payment as billing history shows it. */
export function paymentJson(p: PaymentRow, catalog: Catalog) {
  return {
    id: p.id,
    checkout_id: p.reference,
    package: p.packageId,
    package_name: catalog.packages.get(p.packageId)?.name ?? p.packageId,
    kind: p.kind,
    tokens: p.tokens,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    provider: p.provider,
    tokens_taken_back: p.tokensTakenBack,
    amount_refunded: p.amountRefunded,
    created: new Date(p.createdAt).toISOString(),
    receipt_url: p.receiptUrl,
  };
}
