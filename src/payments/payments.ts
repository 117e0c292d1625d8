import type { TokenLedger } from '../ledger/token-ledger.ts';
import type { PaymentProvider } from './payment-provider.ts';
import type { StripeProvider } from './stripe-provider.ts';
import { TestProvider } from './test-provider.ts';

/** The payment providers a service runs with. */
export interface Payments {
  /** Where checkouts and portals go: Stripe when configured, else the test provider; null when neither is on. */
  checkout: PaymentProvider | null;
  /** Set when Stripe is configured: its webhook route verifies with it. */
  stripe: StripeProvider | null;
  /** The offline provider's pages are served. */
  testProvider: boolean;
  /** The public base URL that buyers return to; when null, the request's own origin. */
  publicUrl: string | null;
}

type Env = Record<string, string | undefined>;

/**
 * Providers from the environment: Stripe when STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are
 * both set; the offline test provider in demo mode or with TOKENMETER_TEST_PAYMENTS=true, never
 * by default otherwise. Stripe's SDK is loaded only when it is configured (it costs ~35 MB of memory).
 */
export async function paymentsFromEnv(env: Env, ledger: TokenLedger, demo: boolean): Promise<Payments> {
  const secretKey = env.STRIPE_SECRET_KEY?.trim();
  const webhookSecret = env.STRIPE_WEBHOOK_SECRET?.trim();
  const stripe =
    secretKey && webhookSecret
      ? new (await import('./stripe-provider.ts')).StripeProvider({
          secretKey,
          webhookSecret,
          customers: customerDirectory(ledger, 'stripe'),
        })
      : null;
  const testProvider = demo || env.TOKENMETER_TEST_PAYMENTS?.trim() === 'true';
  return {
    checkout: stripe ?? (testProvider ? new TestProvider({ charges: ledger.payments.testCharges }) : null),
    stripe,
    testProvider,
    publicUrl: env.TOKENMETER_PUBLIC_URL?.trim().replace(/\/+$/, '') || null,
  };
}

/** The ledger's payment_customers table, as a provider sees it. */
export function customerDirectory(ledger: TokenLedger, provider: string) {
  return {
    find: (account: string) => ledger.payments.customer(account, provider),
    save: (account: string, customerId: string) => ledger.payments.saveCustomer(account, provider, customerId),
  };
}

export const NO_PAYMENTS: Payments = { checkout: null, stripe: null, testProvider: false, publicUrl: null };
