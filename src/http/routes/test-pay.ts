import type { FastifyInstance } from 'fastify';
import { invalid, isTokenmeterError, TokenmeterError } from '../../core/errors.ts';
import type { PaymentRow } from '../../ledger/payments/payment-ledger.ts';
import { DEFAULT_TEST_CARD, readTestCard } from '../../payments/test-cards.ts';
import {
  type CheckoutCard,
  TEST_PROVIDER,
  testCancelEvent,
  testCompletionEvents,
} from '../../payments/test-provider.ts';
import type { AppContext } from '../options.ts';
import * as s from '../schemas.ts';
import { testCheckoutPage, testPortalPage } from './test-pay-page.ts';

const checkoutParams = s.closed({ id: { type: 'string', minLength: 1, maxLength: 255 } }, ['id']);

/** `POST /pay/test/:id/complete`: the card (default 4242) and whether to save it; JSON, or the page's form. */
interface CompleteBody {
  card?: string;
  save_card?: boolean;
}
const completeBody = s.closed({ card: { type: 'string', maxLength: 64 }, save_card: { type: 'boolean' } });

const FORM = 'application/x-www-form-urlencoded';
// A ticked checkbox sends its value ("1" here, "on" by default); an unticked one sends nothing.
const FORM_BOOLEAN: Record<string, boolean> = { '1': true, on: true, true: true, '0': false, false: false };

/** A form body as the JSON one would be; a value that is no boolean is left for the schema to refuse. */
function formFields(text: string): Record<string, unknown> {
  const fields: Record<string, unknown> = Object.fromEntries(new URLSearchParams(text));
  const save = fields.save_card;
  if (typeof save === 'string' && save in FORM_BOOLEAN) fields.save_card = FORM_BOOLEAN[save];
  return fields;
}

/** The card a completion names, checked; only a top-up may save it (automatic top-up buys top-up packages). */
function completionCard(payment: PaymentRow, body: CompleteBody): CheckoutCard {
  const card = { ...readTestCard(body.card ?? DEFAULT_TEST_CARD), save: body.save_card === true };
  if (card.save && payment.kind !== 'topup') {
    throw invalid('save_card', 'only a top-up package saves its card for automatic top-ups');
  }
  return card;
}

/**
 * The offline test provider's pages (demo mode, or TOKENMETER_TEST_PAYMENTS=true only):
 * completing a test checkout is applied through the same once-only event path as a webhook.
 */
export async function testPayRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger } = deps;
  app.addContentTypeParser(FORM, { parseAs: 'string' }, (_r, body, done) =>
    done(null, formFields(typeof body === 'string' ? body : body.toString('utf8'))),
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

  const packageName = (payment: PaymentRow) =>
    ledger.catalog.packages.get(payment.packageId)?.name ?? payment.packageId;

  app.get<{ Params: { id: string }; Querystring: { save_card?: string } }>(
    '/pay/test/:id',
    { schema: { hide: true, params: checkoutParams } },
    async (request, reply) => {
      const payment = await load(request.params.id);
      const state = { saveCard: request.query.save_card === '1' };
      return reply.type(html).send(testCheckoutPage(payment, packageName(payment), state));
    },
  );

  app.post<{ Params: { id: string }; Body: CompleteBody }>(
    '/pay/test/:id/complete',
    {
      schema: { hide: true, params: checkoutParams, body: completeBody },
      // No body at all (a bare POST) is the default card, not a malformed request.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const payment = await load(request.params.id);
      const body = request.body;
      let card: CheckoutCard;
      try {
        card = completionCard(payment, body);
      } catch (err) {
        // The page's own form gets the page back, saying what to fix; an API caller gets the JSON error.
        if (!isTokenmeterError(err) || !request.headers['content-type']?.startsWith(FORM)) throw err;
        const state = { saveCard: body.save_card === true, card: body.card ?? '', error: err.message };
        return reply
          .code(400)
          .type(html)
          .send(testCheckoutPage(payment, packageName(payment), state));
      }
      for (const event of testCompletionEvents(payment, card)) await ledger.payments.applyEvent(event);
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
