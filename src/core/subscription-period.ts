/**
 * The invoices that pay for a subscription period: the one that starts the subscription and
 * each renewal. Prorations, manual invoices and anything else grant nothing.
 */
export function invoiceGrantsPeriod(billingReason: string | null): boolean {
  return billingReason === 'subscription_create' || billingReason === 'subscription_cycle';
}

/**
 * The reference of a period's grant: one per (subscription, period start) under the ledger's
 * UNIQUE (kind, source, reference), whatever invoice ids the provider sends for it.
 */
export function periodGrantReference(subscriptionId: string, periodStart: number): string {
  return `${subscriptionId}:period:${periodStart}`;
}
