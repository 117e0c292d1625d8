import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { stripeEventToPaymentEvent } from '../../src/payments/stripe-events.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { fixture } from './payment-helpers.ts';
import { DAY_S, paidInvoice, subscription, subscriptionCheckout } from './subscription-fixtures.ts';

// The same events about one subscription (created, updated with any status, its first invoice
// paid or a renewal failed, deleted), in any order and with redeliveries, end in the same plan,
// the same cycle driver and the same tokens, through the real applyPaymentEvent path on a real
// SQLite file and on the PostgreSQL server. The updates may switch plan in the portal (up or
// down): a switch delivered before the first invoice.paid ends as one delivered after it, and
// the period's grants stay within the highest allocation held.

type StripeEvent = { id: string; type: string; object: Record<string, unknown> };

/** Stripe's subscription statuses; the last two are final (Stripe never reactivates them). */
const STATUSES = ['incomplete', 'trialing', 'active', 'past_due', 'unpaid', 'paused', 'canceled', 'incomplete_expired'];
const ENDED = ['canceled', 'incomplete_expired'];

/** The plan packages a subscription is bought on or switched to, with their plan's allocation. */
const PLANS: Record<string, { plan: string; allocation: number; price: number }> = {
  plan_starter: { plan: 'starter', allocation: 1000, price: 4900 },
  plan_pro: { plan: 'pro', allocation: 5000, price: 19_900 },
};

const lifecycle = fc.record({
  bought: fc.constantFrom(...Object.keys(PLANS)),
  /** The plan every update names: the one bought, or another one switched to in the portal. */
  named: fc.constantFrom(...Object.keys(PLANS)),
  updates: fc.array(fc.constantFrom(...STATUSES), { maxLength: 3 }),
  /** Events carrying the first invoice paid (Stripe sends more than one). */
  paid: fc.integer({ min: 0, max: 2 }),
  renewalFailed: fc.boolean(),
  deleted: fc.boolean(),
});
type Lifecycle = {
  bought: string;
  named: string;
  updates: string[];
  paid: number;
  renewalFailed: boolean;
  deleted: boolean;
};

/** The first period's start, seconds. */
const START = 1_770_000_000;

/**
 * The events Stripe sends about a subscription to `l.bought` bought by `account`, in the order it
 * sends them: created, the checkout, the first invoice paid, a renewal failed, the updates (each
 * naming `l.named`: a portal switch when it is another plan), deleted.
 */
function subscriptionEvents(tag: string, account: string, l: Lifecycle): StripeEvent[] {
  const sub = `sub_${tag}`;
  const start = START;
  const object = (status: string, pkg = l.named) => subscription({ id: sub, account, pkg, status, start });
  const amount = PLANS[l.bought]?.price ?? 0;
  const first = paidInvoice({ id: `in_${tag}`, sub, pi: `pi_${tag}`, reason: 'subscription_create', start, amount });
  const renewal = paidInvoice({
    id: `in_${tag}_2`,
    sub,
    pi: null,
    reason: 'subscription_cycle',
    start: start + 30 * DAY_S,
    amount,
  });
  const checkout = subscriptionCheckout({ id: `cs_${tag}`, sub, account, packageId: l.bought, amount });
  return [
    { id: `evt_${tag}_new`, type: 'customer.subscription.created', object: object('incomplete', l.bought) },
    { id: `evt_${tag}_cs`, type: 'checkout.session.completed', object: checkout },
    ...Array.from({ length: l.paid }, (_, i) => ({ id: `evt_${tag}_in${i}`, type: 'invoice.paid', object: first })),
    ...(l.renewalFailed
      ? [{ id: `evt_${tag}_fail`, type: 'invoice.payment_failed', object: { ...renewal, status: 'open', paid: false } }]
      : []),
    ...l.updates.map((status, i) => ({
      id: `evt_${tag}_u${i}`,
      type: 'customer.subscription.updated',
      object: object(status),
    })),
    ...(l.deleted ? [{ id: `evt_${tag}_del`, type: 'customer.subscription.deleted', object: object('canceled') }] : []),
  ];
}

/** A delivery: every event once in some order, plus repeats (the same event id again, or the same object under a new id). */
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
type Delivery = { order: number[]; repeats: { index: number; at: number; sameId: boolean }[] };

function deliver(events: StripeEvent[], plan: Delivery): StripeEvent[] {
  const out = plan.order.map((i) => events[i]).filter((e): e is StripeEvent => e !== undefined);
  plan.repeats.forEach((r, n) => {
    const e = events[r.index];
    if (e) out.splice(r.at % (out.length + 1), 0, r.sameId ? e : { ...e, id: `${e.id}_again${n}` });
  });
  return out;
}

/** The checkout of `pkg` tokenmeter starts for `account` before Stripe sends anything. */
function startCheckout(ledger: TokenLedger, tag: string, account: string, pkg: string) {
  return ledger.payments.startPayment({
    provider: 'stripe',
    reference: `cs_${tag}`,
    account,
    package: ledger.payments.findPackage(pkg),
  });
}

async function apply(ledger: TokenLedger, events: StripeEvent[]) {
  for (const e of events) {
    await ledger.payments.applyEvent(stripeEventToPaymentEvent({ id: e.id, type: e.type, data: { object: e.object } }));
  }
}

/**
 * Where the account ends: plan, cycle driver, the tokens it holds, how many times a subscription
 * ended, and what the subscription's period granted (its invoice's grant and each switch's).
 */
async function standing(ledger: TokenLedger, account: string) {
  const view = await ledger.getBalance(account);
  const entries = (await ledger.history(account, { limit: 200 })).entries;
  return {
    plan: view.plan,
    subscriptionDriven: view.nextReset === null,
    allocation: view.allocation,
    balance: view.balance,
    grants: view.grants
      .map((g) => ({ category: g.category, remaining: g.remaining, expiresAt: g.expiresAt }))
      .sort((a, b) => a.remaining - b.remaining || String(a.expiresAt).localeCompare(String(b.expiresAt))),
    // A subscription's end restarts the cycle; a switch's plan_change is the provider's.
    ends: entries.filter((e) => e.kind === 'plan_change' && e.source === 'cycle_restart').length,
    periodGranted: entries
      .filter((e) => e.source === 'stripe' && (e.kind === 'cycle_grant' || e.kind === 'plan_change'))
      .reduce((sum, e) => sum + Math.max(0, e.allocationDelta), 0),
  };
}

const runsOn: Record<string, number> = { sqlite: 40, postgres: 8 };

for (const backend of backends().filter((b) => b.name in runsOn)) {
  const numRuns = runsOn[backend.name] ?? 0;
  describe(`a subscription's events in any order [${backend.name}]`, () => {
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

    it('end in the same plan, cycle driver and tokens; an ended subscription ends once and stays ended', async () => {
      await fc.assert(
        fc.asyncProperty(
          lifecycle.chain((l) => fc.tuple(fc.constant(l), delivery(subscriptionEvents('x', 'x', l).length))),
          async ([l, plan]) => {
            const tag = `${backend.name}${++run}`;
            const account = `sub_order_${tag}`;
            // The same events in the order Stripe sends them, once each, to an account of their own.
            await startCheckout(ledger, `${tag}_c`, `${account}_c`, l.bought);
            await apply(ledger, subscriptionEvents(`${tag}_c`, `${account}_c`, l));
            await startCheckout(ledger, tag, account, l.bought);
            await apply(ledger, deliver(subscriptionEvents(tag, account, l), plan));
            const ended = l.deleted || l.updates.some((s) => ENDED.includes(s));
            const got = await standing(ledger, account);
            const stripeOrder = await standing(ledger, `${account}_c`);
            // How much an ended subscription's period granted depends on whether its invoice came
            // before the end, which the end's restart leaves no trace of in the tokens held.
            const same = ({ periodGranted, ...rest }: typeof got) => (ended ? rest : { ...rest, periodGranted });
            assert.deepEqual(same(got), same(stripeOrder));
            // Ended: back on the default plan, renewed lazily, its allocation granted once by the end
            // (an invoice delivered after the end grants nothing); else the plan and one period's
            // grant: the plan bought (the free plan's 100 rolled over), then an active switch's
            // upgrade difference. A switch waits for the period to be paid for.
            const { plan: held, subscriptionDriven, allocation, ends, periodGranted } = got;
            const bought = PLANS[l.bought] ?? { plan: '', allocation: 0 };
            const named = PLANS[l.named] ?? bought;
            const switched = l.paid > 0 && l.updates.includes('active');
            const upgrade = switched ? Math.max(0, named.allocation - bought.allocation) : 0;
            assert.deepEqual(
              { held, subscriptionDriven, allocation, ends },
              ended
                ? { held: 'free', subscriptionDriven: false, allocation: 100, ends: 1 }
                : {
                    held: switched ? named.plan : bought.plan,
                    subscriptionDriven: true,
                    allocation: l.paid > 0 ? 100 + bought.allocation + upgrade : 100,
                    ends: 0,
                  },
            );
            // The period's grants stay within the highest allocation held in it.
            assert.ok(
              periodGranted <= Math.max(bought.allocation, switched ? named.allocation : 0),
              `${periodGranted}`,
            );
            const [row] = await ledger.store.service.subscriptionsOf(account);
            assert.equal(ENDED.includes(row?.status ?? ''), ended);
          },
        ),
        { numRuns },
      );
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });
  });
}
