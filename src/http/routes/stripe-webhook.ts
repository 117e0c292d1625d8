import type { FastifyInstance } from 'fastify';
import type { StripeProvider } from '../../payments/stripe-provider.ts';
import { errorBody } from '../errors.ts';
import type { AppContext } from '../options.ts';

/**
 * `POST /api/payment/webhook/stripe`: authenticated by its signature alone (no key, no CSRF
 * check, no rate limit), verified on the raw body. Every verified event gets a 2xx once it is
 * recorded, including repeats and types tokenmeter ignores, so Stripe stops retrying it.
 */
export async function stripeWebhookRoutes(app: FastifyInstance, deps: AppContext, stripe: StripeProvider) {
  // The signature covers the bytes as sent, so this scope keeps the body as text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post(
    '/api/payment/webhook/stripe',
    {
      config: { access: 'public', rateLimit: false },
      // Invoices with many lines outgrow the API's default body limit.
      bodyLimit: 1024 * 1024,
      schema: { tags: ['payments'], summary: 'Stripe webhook (signed by Stripe)', security: [] },
    },
    async (request, reply) => {
      const signature = request.headers['stripe-signature'];
      const raw = typeof request.body === 'string' ? request.body : '';
      if (typeof signature !== 'string' || signature === '' || raw === '') {
        return reply.status(400).send(errorBody('invalid_request', 'Missing Stripe-Signature header or body'));
      }
      let event: ReturnType<StripeProvider['verifyWebhook']>;
      try {
        event = stripe.verifyWebhook(raw, signature);
      } catch {
        return reply.status(400).send(errorBody('invalid_request', 'Invalid Stripe signature'));
      }
      const outcome = await deps.ledger.payments.applyEvent(event);
      if (outcome.status === 'unmatched') {
        request.log.warn(
          { event: event.eventId, type: event.eventType, reason: outcome.reason },
          'Stripe event matched nothing tokenmeter knows (recorded unmatched; see its reason)',
        );
      }
      return { success: true, received: true, status: outcome.status };
    },
  );
}
