import type { FastifyInstance } from 'fastify';
import { TokenmeterError } from '../../core/errors.ts';
import type { PaymentRow } from '../../ledger/payments/payment-ledger.ts';
import { TEST_PROVIDER, testCancelEvent, testCompletionEvents } from '../../payments/test-provider.ts';
import type { AppContext } from '../options.ts';
import * as s from '../schemas.ts';
import { testCheckoutPage, testPortalPage } from './test-pay-page.ts';

const checkoutParams = s.closed({ id: { type: 'string', minLength: 1, maxLength: 255 } }, ['id']);

/**
 * The offline test provider's pages (demo mode, or TOKENMETER_TEST_PAYMENTS=true only):
 * completing a test checkout is applied through the same once-only event path as a webhook.
 */
export async function testPayRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger } = deps;
  // The pages' forms post urlencoded bodies with nothing in them that is needed.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, _b, done) =>
    done(null, undefined),
  );

  const load = async (id: string): Promise<PaymentRow> => {
    const payment = await ledger.payments.findPayment(TEST_PROVIDER, id);
    if (!payment) throw new TokenmeterError('not_found', `No test checkout ${id}`);
    return payment;
  };
  const html = 'text/html; charset=utf-8';
  // Back to billing, as Stripe's success and cancel URLs do, saying how the payment ended now
  // (completing a checkout that was canceled meanwhile does not pretend it was paid).
  const billingReturn = async (reference: string): Promise<string> => {
    const status = (await load(reference)).status;
    return `/billing?payment=${status === 'canceled' || status === 'failed' || status === 'pending' ? 'canceled' : 'success'}`;
  };

  app.get('/pay/test/portal', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(html).send(testPortalPage()),
  );

  app.get<{ Params: { id: string } }>(
    '/pay/test/:id',
    { schema: { hide: true, params: checkoutParams } },
    async (request, reply) => {
      const payment = await load(request.params.id);
      const name = ledger.catalog.packages.get(payment.packageId)?.name ?? payment.packageId;
      return reply.type(html).send(testCheckoutPage(payment, name));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/pay/test/:id/complete',
    { schema: { hide: true, params: checkoutParams } },
    async (request, reply) => {
      const payment = await load(request.params.id);
      for (const event of testCompletionEvents(payment)) await ledger.payments.applyEvent(event);
      return reply.redirect(await billingReturn(payment.reference), 303);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/pay/test/:id/cancel',
    { schema: { hide: true, params: checkoutParams } },
    async (request, reply) => {
      const payment = await load(request.params.id);
      await ledger.payments.applyEvent(testCancelEvent(payment));
      return reply.redirect(await billingReturn(payment.reference), 303);
    },
  );
}
