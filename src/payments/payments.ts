import { TokenmeterError } from '../core/errors.ts';
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
 * STRIPE_API_BASE (e.g. `http://127.0.0.1:12111`) sends Stripe's API calls elsewhere: stripe-mock
 * or a test's stand-in.
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
          ...stripeApiBase(env.STRIPE_API_BASE),
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

/** Where STRIPE_API_BASE points Stripe's SDK; refused when it is not an http(s) URL. */
function stripeApiBase(base: string | undefined): { host?: string; port?: number; protocol?: 'http' | 'https' } {
  const raw = base?.trim();
  if (!raw) return {};
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TokenmeterError('config_invalid', `STRIPE_API_BASE is not a URL: "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TokenmeterError('config_invalid', `STRIPE_API_BASE must be http or https: "${raw}"`);
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: Number(url.port || (protocol === 'http' ? 80 : 443)), protocol };
}
