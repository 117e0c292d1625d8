import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { EventData } from '../../src/core/event.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { stripeEventToPaymentEvent } from '../../src/payments/stripe-events.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { fixture } from './payment-helpers.ts';

// Issue 13, items 1 and 2: every permutation, with duplicates, of a payment's events ends at the
// same balance and the same tokens taken back, through the real applyPaymentEvent path on a
// real SQLite file and on the PostgreSQL server.

type StripeEvent = { id: string; type: string; object: Record<string, unknown> };

const DISPUTE_FINAL = ['open', 'won', 'lost'] as const;
type Final = (typeof DISPUTE_FINAL)[number];

/** A payment's facts: cumulative refund reports (any order) and disputes with the status each ends at. */
const paymentFacts = (amount: number) =>
  fc.record({
    refunds: fc.array(fc.integer({ min: 1, max: amount }), { maxLength: 3 }),
    disputes: fc.array(
      fc.record({ amount: fc.integer({ min: 1, max: amount }), final: fc.constantFrom(...DISPUTE_FINAL) }),
      {
        maxLength: 2,
      },
    ),
  });
type Facts = { refunds: number[]; disputes: { amount: number; final: Final }[] };

/** The formula of the issue, computed here independently of `core/`. */
function expectedTakeBack(tokens: number, amount: number, f: Facts): number {
  const refunded = Math.max(0, ...f.refunds);
  const disputed = f.disputes.reduce((sum, d) => sum + (d.final === 'won' ? 0 : d.amount), 0);
  return Math.floor((tokens * Math.min(amount, refunded + disputed)) / amount);
}

/** The refund and dispute events Stripe sends for these facts about the charge of `pi`. */
function chargeEvents(tag: string, pi: string, amount: number, f: Facts): StripeEvent[] {
  const events: StripeEvent[] = f.refunds.map((r, i) => ({
    id: `evt_${tag}_r${i}`,
    type: 'charge.refunded',
    object: fixture('charge', {
      id: `ch_${tag}`,
      payment_intent: pi,
      amount,
      amount_captured: amount,
      captured: true,
      amount_refunded: r,
      refunded: r === amount,
    }),
  }));
  f.disputes.forEach((d, i) => {
    const dispute = (status: string) => ({
      id: `dp_${tag}_${i}`,
      object: 'dispute',
      amount: d.amount,
      charge: `ch_${tag}`,
      currency: 'usd',
      payment_intent: pi,
      status,
    });
    events.push({ id: `evt_${tag}_d${i}_c`, type: 'charge.dispute.created', object: dispute('needs_response') });
    events.push({ id: `evt_${tag}_d${i}_u`, type: 'charge.dispute.updated', object: dispute('under_review') });
    if (d.final !== 'open') {
      events.push({ id: `evt_${tag}_d${i}_x`, type: 'charge.dispute.closed', object: dispute(d.final) });
    }
  });
  return events;
}

/**
 * The events in a generated order, with repeats: the same event id again (a redelivery, which
 * must change nothing) or the same object under a new id (another event carrying that fact).
 */
const delivery = (count: number) =>
  fc.record({
    order: fc.shuffledSubarray(
      Array.from({ length: count }, (_, i) => i),
      { minLength: count, maxLength: count },
    ),
    repeats: fc.array(fc.record({ index: fc.nat({ max: count - 1 }), at: fc.nat(), sameId: fc.boolean() }), {
      maxLength: 3,
    }),
  });

function deliver(
  events: StripeEvent[],
  plan: { order: number[]; repeats: { index: number; at: number; sameId: boolean }[] },
) {
  const out = plan.order.map((i) => events[i]).filter((e): e is StripeEvent => e !== undefined);
  plan.repeats.forEach((r, n) => {
    const e = events[r.index];
    if (!e) return;
    out.splice(r.at % (out.length + 1), 0, r.sameId ? e : { ...e, id: `${e.id}_again${n}` });
  });
  return out;
}

async function apply(ledger: TokenLedger, events: StripeEvent[]) {
  for (const e of events) {
    await ledger.payments.applyEvent(stripeEventToPaymentEvent({ id: e.id, type: e.type, data: { object: e.object } }));
  }
}

const runsOn: Record<string, number> = { sqlite: 40, postgres: 6 };

for (const backend of backends().filter((b) => b.name in runsOn)) {
  const numRuns = runsOn[backend.name] ?? 0;
  describe(`payment events in any order [${backend.name}]`, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    let run = 0;
    before(async () => {
      db = await backend.open();
      ({ ledger } = ledgerOn(db.store));
    });
    after(async () => {
      await ledger.close();
      await db.cleanup();
    });

    it('item 1: a top-up’s refunds and disputes take back the same tokens in every order', async () => {
      await fc.assert(
        fc.asyncProperty(
          paymentFacts(500).chain((f) =>
            fc.tuple(fc.constant(f), delivery(1 + chargeEvents('x', 'pi', 500, f).length)),
          ),
          async ([facts, plan]) => {
            const tag = `t${backend.name}${++run}`;
            const account = `acct_${tag}`;
            const pi = `pi_${tag}`;
            await ledger.payments.startPayment({
              provider: 'stripe',
              reference: `cs_${tag}`,
              account,
              package: ledger.payments.findPackage('tokens_100'),
            });
            const checkout: StripeEvent = {
              id: `evt_${tag}_cs`,
              type: 'checkout.session.completed',
              object: fixture('checkout.session', {
                id: `cs_${tag}`,
                mode: 'payment',
                payment_status: 'paid',
                metadata: { tokenmeter_account: account, tokenmeter_package: 'tokens_100' },
                amount_total: 500,
                currency: 'usd',
                payment_intent: pi,
              }),
            };
            await apply(ledger, deliver([checkout, ...chargeEvents(tag, pi, 500, facts)], plan));
            const target = expectedTakeBack(100, 500, facts);
            const view = await ledger.getBalance(account);
            assert.equal(view.purchased, 100 - target);
            assert.equal(view.balance, 100 + 100 - target);
            const payment = await ledger.payments.findPayment('stripe', `cs_${tag}`);
            assert.equal(payment?.tokensTakenBack, target);
            // The outbox tells the same story in every order: one purchase, and (with no dispute
            // won, so nothing taken back is ever returned) refund steps adding up to the take-back.
            const events = (await ledger.store.service.accountEvents(account, { before: null, limit: 1000 })).reverse();
            const purchases = events.filter((e) => e.type === 'purchase.completed');
            assert.deepEqual(
              purchases.map((e) => e.data),
              [
                {
                  account,
                  payment_id: String(payment?.id),
                  package: 'tokens_100',
                  tokens: 100,
                  amount: 500,
                  currency: 'usd',
                },
              ],
            );
            const steps = events.flatMap((e) =>
              e.type === 'payment.refunded' ? [(e.data as EventData['payment.refunded']).tokens_taken_back] : [],
            );
            assert.ok(steps.every((t) => t > 0));
            if (!facts.disputes.some((d) => d.final === 'won')) {
              assert.equal(
                steps.reduce((a, b) => a + b, 0),
                target,
              );
            }
            const disputed = events.filter((e) => e.type === 'payment.disputed');
            assert.equal(disputed.length > 0, facts.disputes.length > 0);
          },
        ),
        { numRuns },
      );
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });

    it('item 2: a subscription period grants once and its charge’s refunds and disputes take the same back in every order', async () => {
      const chargeFacts = paymentFacts(4900);
      await fc.assert(
        fc.asyncProperty(
          fc
            .record({ facts: chargeFacts, invoiceDeliveries: fc.integer({ min: 1, max: 3 }), proration: fc.boolean() })
            .chain((g) =>
              fc.tuple(
                fc.constant(g),
                delivery(
                  1 + g.invoiceDeliveries + (g.proration ? 2 : 0) + chargeEvents('x', 'pi', 4900, g.facts).length,
                ),
              ),
            ),
          async ([g, plan]) => {
            const tag = `s${backend.name}${++run}`;
            const account = `acct_${tag}`;
            const sub = `sub_${tag}`;
            const pi = `pi_${tag}`;
            await ledger.payments.startPayment({
              provider: 'stripe',
              reference: `cs_${tag}`,
              account,
              package: ledger.payments.findPackage('plan_starter'),
            });
            const start = 1_770_000_000;
            const invoice = (id: string, reason: string, intent: string, amount: number) =>
              fixture('invoice', {
                id,
                billing_reason: reason,
                status: 'paid',
                paid: true,
                amount_paid: amount,
                subscription: sub,
                payment_intent: intent,
                lines: {
                  object: 'list',
                  data: [{ id: `il_${id}`, type: 'subscription', period: { start, end: start + 2_592_000 } }],
                },
              });
            const events: StripeEvent[] = [
              {
                id: `evt_${tag}_cs`,
                type: 'checkout.session.completed',
                object: fixture('checkout.session', {
                  id: `cs_${tag}`,
                  mode: 'subscription',
                  payment_status: 'paid',
                  payment_intent: null,
                  subscription: sub,
                  metadata: { tokenmeter_account: account, tokenmeter_package: 'plan_starter' },
                  amount_total: 4900,
                  currency: 'usd',
                }),
              },
            ];
            // Stripe sends more than one event carrying a paid invoice (and redelivers them).
            for (let i = 0; i < g.invoiceDeliveries; i++) {
              events.push({
                id: `evt_${tag}_in${i}`,
                type: 'invoice.paid',
                object: invoice(`in_${tag}`, 'subscription_create', pi, 4900),
              });
            }
            if (g.proration) {
              // A proration in the same period grants nothing; its full refund takes nothing.
              const proration = invoice(`in_${tag}_p`, 'subscription_update', `${pi}_p`, 1200);
              events.push({ id: `evt_${tag}_pr`, type: 'invoice.paid', object: proration });
              events.push({
                id: `evt_${tag}_prr`,
                type: 'charge.refunded',
                object: fixture('charge', {
                  id: `ch_${tag}_p`,
                  payment_intent: `${pi}_p`,
                  amount: 1200,
                  amount_refunded: 1200,
                }),
              });
            }
            events.push(...chargeEvents(tag, pi, 4900, g.facts));
            await apply(ledger, deliver(events, plan));
            const target = expectedTakeBack(1000, 4900, g.facts);
            const view = await ledger.getBalance(account);
            assert.equal(view.plan, 'starter');
            // The free plan's 100 rolled over, one grant of 1,000, less what its charge took back.
            assert.equal(view.balance, 1100 - target);
            assert.equal((await ledger.payments.findPayment('stripe', `in_${tag}`))?.tokensTakenBack, target);
            const grants = (await ledger.history(account, { limit: 100 })).entries.filter(
              (e) => e.kind === 'cycle_grant',
            );
            assert.equal(grants.length, 1);
          },
        ),
        { numRuns },
      );
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });
  });
}
