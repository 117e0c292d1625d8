import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isTokenmeterError, TokenmeterError } from '../../core/errors.ts';
import { packageJson, paymentJson } from '../../payments/payment-json.ts';
import type { PaymentProvider } from '../../payments/payment-provider.ts';
import type { AppContext } from '../options.ts';
import { actingAccount } from '../principal.ts';
import * as s from '../schemas.ts';

const ANY = ['user', 'app', 'admin'] as const;
const saveCardField = {
  type: 'boolean',
  description: 'Keep the card for automatic top-ups (top-up packages only: with a plan, true is 400)',
} as const;

/**
 * Packages, checkout, billing history and the customer portal. None of these is behind the
 * token gate and none costs tokens: a user at zero or below can always pay.
 */
export async function paymentRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger } = deps;
  const payments = deps.payments;

  const provider = (): PaymentProvider => {
    const p = payments?.checkout;
    if (!p) throw new TokenmeterError('unavailable', 'No payment provider is configured');
    return p;
  };
  /** A provider call; its failures (network, provider errors) are a 503 to retry, details in the log. */
  const viaProvider = async <T>(request: FastifyRequest, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (isTokenmeterError(err)) throw err;
      request.log.error({ err }, 'payment provider call failed');
      throw new TokenmeterError('unavailable', 'The payment provider could not be reached; try again');
    }
  };
  const baseUrl = (request: FastifyRequest) => payments?.publicUrl ?? `${request.protocol}://${request.host}`;
  const absolute = (request: FastifyRequest, url: string) => (url.startsWith('/') ? `${baseUrl(request)}${url}` : url);

  app.get(
    '/api/payment/packages',
    { config: { access: ANY }, schema: { tags: ['payments'], summary: 'Token packages and plans for sale' } },
    async () => ({ success: true, packages: [...ledger.catalog.packages.values()].map(packageJson) }),
  );

  app.post<{ Body: { account?: string; package: string; save_card?: boolean } }>(
    '/api/payment/checkout',
    {
      config: { access: ANY },
      schema: {
        tags: ['payments'],
        summary: 'Start a checkout for a package; send the browser to `url`',
        body: s.closed({ account: s.accountId, package: s.packageId, save_card: saveCardField }, ['package']),
      },
    },
    async (request) => {
      const account = actingAccount(request, request.body.account);
      const pkg = ledger.payments.findPackage(request.body.package);
      const saveCard = request.body.save_card === true;
      // A plan's card pays its subscription; auto top-up charges cards saved by a top-up purchase.
      if (saveCard && pkg.kind !== 'topup') {
        throw new TokenmeterError(
          'invalid_request',
          'save_card: only a top-up package can save the card for automatic top-ups',
          'save_card',
        );
      }
      const p = provider();
      const base = baseUrl(request);
      const created = await viaProvider(request, () =>
        p.createCheckout({
          account,
          package: pkg,
          successUrl: `${base}/billing?payment=success`,
          cancelUrl: `${base}/billing?payment=canceled`,
          saveCard,
        }),
      );
      await ledger.payments.startPayment({ provider: p.name, reference: created.checkoutId, account, package: pkg });
      return { success: true, checkout_id: created.checkoutId, url: absolute(request, created.url) };
    },
  );

  app.get<{ Querystring: { account?: string; limit?: number } }>(
    '/api/payment/history',
    {
      config: { access: ANY },
      schema: {
        tags: ['payments'],
        summary: 'An account’s payments, newest first',
        querystring: s.closed({ account: s.accountId, limit: s.limit }),
      },
    },
    async (request) => {
      const account = actingAccount(request, request.query.account);
      const rows = await ledger.payments.history(account, request.query.limit ?? 100);
      return { success: true, payments: rows.map((p) => paymentJson(p, ledger.catalog)) };
    },
  );

  app.post<{ Body: { account?: string } }>(
    '/api/payment/portal',
    {
      config: { access: ANY },
      schema: {
        tags: ['payments'],
        summary: 'The provider’s customer portal (payment methods, invoices)',
        body: s.closed({ account: s.accountId }),
      },
    },
    async (request) => {
      const account = actingAccount(request, request.body?.account);
      const p = provider();
      const portal = await viaProvider(request, () =>
        p.createPortal({ account, returnUrl: `${baseUrl(request)}/billing` }),
      );
      return { success: true, url: absolute(request, portal.url) };
    },
  );
}
