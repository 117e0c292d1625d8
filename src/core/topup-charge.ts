import type { TokenPackage } from './catalog.ts';

/**
 * What one automatic top-up attempt charges for, fixed on its intent when the attempt starts:
 * the package, its tokens and its price. Every retry and recovery of that attempt asks the
 * provider for exactly this and credits exactly this, whatever the settings or the config say by
 * then (a package chosen meanwhile is bought from the next attempt on).
 */
export interface TopupCharge {
  packageId: string;
  tokens: number;
  /** The price, minor units. */
  amount: number;
  /** Lower case, as providers report it. */
  currency: string;
}

/** A top-up package's charge at its price now. */
export function chargeOfPackage(pkg: TokenPackage): TopupCharge {
  return { packageId: pkg.id, tokens: pkg.tokens, amount: pkg.priceCents, currency: pkg.currency.toLowerCase() };
}

/**
 * The package a provider is asked to charge for an attempt: the config's (its name, its tokens'
 * expiry) at the attempt's fixed tokens and price, or the charge alone when the config dropped it.
 */
export function packageOfCharge(charge: TopupCharge, configured: TokenPackage | undefined): TokenPackage {
  const base = configured ?? { id: charge.packageId, name: charge.packageId, kind: 'topup', plan: null };
  return { ...base, tokens: charge.tokens, priceCents: charge.amount, currency: charge.currency };
}

/** What a provider's report says about which attempt it is: its number (null: not named) and its payment. */
export interface AttemptReport {
  attempt: number | null;
  paymentId: string | null;
}

/**
 * Whether a report is about the intent's current attempt. One naming its attempt is about that
 * attempt only (and not when it names another payment than the one stored for it). One naming no
 * attempt (a payment made before reports named theirs) is about the current attempt only when it
 * is the payment stored for it: with none stored, nothing ties it to this attempt.
 */
export function aboutCurrentAttempt(
  intent: { attempt: number; paymentId: string | null },
  report: AttemptReport,
): boolean {
  if (report.attempt === null) return report.paymentId !== null && report.paymentId === intent.paymentId;
  if (report.attempt !== intent.attempt) return false;
  return report.paymentId === null || intent.paymentId === null || report.paymentId === intent.paymentId;
}

/** Whether a successful payment bought `charge`: that package, at exactly its price, in its currency. */
export function paidAsCharged(
  charge: TopupCharge,
  paid: { packageId: string; amount: number; currency: string },
): boolean {
  return (
    paid.packageId === charge.packageId &&
    paid.amount === charge.amount &&
    paid.currency.toLowerCase() === charge.currency.toLowerCase()
  );
}
