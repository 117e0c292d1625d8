import type { TokenPackage } from './catalog.ts';

/**
 * A paid session tokenmeter did not create (a Payment Link, one made in the provider's
 * dashboard) buys its package only when it charged exactly the package's price, in its
 * currency: metadata alone would let anyone who can make a session buy 2,000 tokens for a cent.
 */
export function chargedPackagePrice(pkg: TokenPackage, amount: number | null, currency: string | null): boolean {
  return amount === pkg.priceCents && currency !== null && currency.toLowerCase() === pkg.currency.toLowerCase();
}
