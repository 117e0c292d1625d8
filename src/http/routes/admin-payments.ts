import type { FastifyInstance } from 'fastify';
import type { DisputeRow, PaymentEventRow } from '../../ledger/operator-queries.ts';
import type { PaymentRow, UnmatchedEvent } from '../../ledger/payments/payment-ledger.ts';
import type { JsonObject } from '../../ledger/wire.ts';
import type { AppContext } from '../options.ts';
import * as s from '../schemas.ts';

const ADMIN = ['admin'] as const;
const iso = (ms: number) => new Date(ms).toISOString();

function paymentJson(p: PaymentRow): JsonObject {
  return {
    id: p.id,
    provider: p.provider,
    checkout_id: p.reference,
    account: p.account,
    package: p.packageId,
    kind: p.kind,
    tokens: p.tokens,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    amount_refunded: p.amountRefunded,
    tokens_taken_back: p.tokensTakenBack,
    payment_intent: p.paymentIntent,
    subscription_id: p.subscriptionId,
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
  };
}

function unmatchedJson(e: UnmatchedEvent): JsonObject {
  return {
    provider: e.provider,
    event_id: e.eventId,
    type: e.type,
    status: 'unmatched',
    reason: e.reason,
    waiting_for: null,
    received_at: iso(e.receivedAt),
  };
}

function pendingJson(e: PaymentEventRow): JsonObject {
  return {
    provider: e.provider,
    event_id: e.eventId,
    type: e.type,
    status: 'pending',
    reason: e.reason ?? 'its payment or subscription has not arrived yet',
    waiting_for: e.matchKey,
    received_at: iso(e.receivedAt),
  };
}

function disputeJson(d: DisputeRow): JsonObject {
  return {
    provider: d.provider,
    dispute_id: d.disputeId,
    payment_intent: d.paymentIntent,
    status: d.status,
    amount: d.amount,
    currency: d.currency,
    account: d.account,
    checkout_id: d.paymentReference,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
  };
}

/** The operator's view of money: recent payments, refunds, disputes, and events that need a decision. */
export async function adminPaymentRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger } = deps;
  const config = { access: ADMIN };

  app.get<{ Querystring: { limit?: number } }>(
    '/api/admin/payments',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Payments, refunds, disputes, and provider events recorded unmatched or pending, with their reason',
        description:
          'needs_decision lists what an operator should look at: events that matched nothing tokenmeter knows ' +
          '(unmatched, with the reason), events still waiting for their payment or subscription (pending), and open disputes.',
        querystring: s.closed({ limit: { type: 'integer', minimum: 1, maximum: 500 } }),
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const [unmatched, pending, disputes, payments, refunds] = await Promise.all([
        ledger.payments.unmatchedEvents(limit),
        ledger.operator.pendingPaymentEvents(limit),
        ledger.operator.disputes(limit),
        ledger.operator.payments({ limit }),
        ledger.operator.payments({ limit, refundedOnly: true }),
      ]);
      return {
        success: true,
        needs_decision: {
          unmatched_events: unmatched.map(unmatchedJson),
          pending_events: pending.map(pendingJson),
          open_disputes: disputes.filter((d) => d.status === 'open').map(disputeJson),
        },
        payments: payments.map(paymentJson),
        refunds: refunds.map(paymentJson),
        disputes: disputes.map(disputeJson),
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>(
    '/api/admin/accounts/:id/payments',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'An account’s payments, newest first',
        params: { type: 'object', properties: { id: s.accountId }, required: ['id'] },
        querystring: s.closed({ limit: { type: 'integer', minimum: 1, maximum: 500 } }),
      },
    },
    async (request) => {
      const payments = await ledger.operator.payments({
        account: request.params.id,
        limit: request.query.limit ?? 50,
      });
      return { success: true, account: request.params.id, payments: payments.map(paymentJson) };
    },
  );
}
