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

/**
 * Whether a subscription update must wait for its period to be paid for before it applies: it
 * names a plan other than the subscription's or the account's (a portal switch) for a period
 * whose grant is not in the ledger yet. The period's invoice grants the plan it paid for, the
 * one held before the switch, and the switch grants its difference after it, so a switch
 * delivered first must not change the plan that invoice grants (nor grant its difference against
 * the cycle before the period). Without a period (a payload stored before periods were
 * normalized) nothing can be waited for.
 */
export function switchAwaitsPeriod(
  update: { plan: string | null; periodStart: number | null },
  held: { subscription: string; account: string },
  periodGranted: boolean,
): boolean {
  if (update.plan === null || update.periodStart === null || periodGranted) return false;
  return update.plan !== held.subscription || update.plan !== held.account;
}
