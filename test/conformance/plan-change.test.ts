import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { PaymentCommand } from '../../src/core/payment-command.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const DAY = 24 * 3600 * 1000;
let seq = 0;
const send = (ledger: TokenLedger, command: PaymentCommand, eventId = `evt_plan_${++seq}`) =>
  ledger.payments.applyEvent({ provider: 'stripe', eventId, eventType: command.type, command });

const switched = (packageId: string, periodStart: number, status = 'active'): PaymentCommand => ({
  type: 'subscription_updated',
  subscriptionId: 'sub_1',
  status,
  packageId,
  periodStart,
  periodEnd: periodStart + 30 * DAY,
});

const invoice = (id: string, periodStart: number, billingReason: string): PaymentCommand => ({
  type: 'invoice_paid',
  invoiceId: id,
  subscriptionId: 'sub_1',
  periodStart,
  periodEnd: periodStart + 30 * DAY,
  billingReason,
  paymentIntent: `pi_${id}`,
  amount: 4900,
  currency: 'usd',
});

/** u1 on starter through a subscription whose first period (starting now) is paid: 1,000 + free's 100 rolled over. */
async function subscribedToStarter(ledger: TokenLedger, periodStart: number): Promise<void> {
  await ledger.payments.startPayment({
    provider: 'stripe',
    reference: 'cs_plan',
    account: 'u1',
    package: ledger.payments.findPackage('plan_starter'),
  });
  await send(ledger, {
    type: 'checkout_paid',
    reference: 'cs_plan',
    account: 'u1',
    packageId: 'plan_starter',
    paymentIntent: null,
    subscriptionId: 'sub_1',
    customerId: null,
    amount: 4900,
    currency: 'usd',
  });
  await send(ledger, invoice('in_1', periodStart, 'subscription_create'));
  assert.equal((await ledger.getBalance('u1')).allocation, 1100);
}

conformance('plan changes', (get) => {
  it('plan changes cannot be farmed: five toggles between starter and pro leave 5,000, not 6,500', async () => {
    const { ledger } = get();
    for (const plan of ['pro', 'starter', 'pro', 'starter', 'pro']) {
      await ledger.setPlan({ account: 'a', plan, reason: 'toggle', actor: 't' });
    }
    const view = await ledger.getBalance('a');
    assert.equal(view.plan, 'pro');
    // 100 opened on free, +4,900 on the first upgrade; every later change grants nothing.
    assert.equal(view.balance, 5000);
    assert.deepEqual(await ledger.reconcile(), { accountsChecked: 1, drift: [] });
  });

  it('a plan change keeps the anchor, the cycle start and the tokens used this cycle', async () => {
    const { ledger, clock, db } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'business_collector' }));
    const before = await db.store.getAccount('a');
    clock.advance(3 * DAY);
    await ledger.setPlan({ account: 'a', plan: 'starter', reason: 'upgrade', actor: 'billing' });
    const after = await db.store.getAccount('a');
    assert.equal(after?.plan, 'starter');
    assert.equal(after?.cycleAnchor, before?.cycleAnchor);
    assert.equal(after?.cycleStart, before?.cycleStart);
    assert.equal(after?.usedThisCycle, 5);
    assert.equal(after?.lastReset, before?.lastReset);
    assert.equal(after?.rolledOver, before?.rolledOver);
  });

  it('an upgrade adds new − old allocation, recorded as one plan_change entry with the reason', async () => {
    const { ledger } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'business_collector' }));
    const r = await ledger.setPlan({ account: 'a', plan: 'starter', reason: 'upgrade', actor: 'billing' });
    assert.equal(r.previousPlan, 'free');
    assert.equal(r.balance, 95 + 900);
    const view = await ledger.getBalance('a');
    assert.equal(view.allocation, 995);
    const [entry] = (await ledger.history('a', { limit: 1 })).entries;
    assert.equal(entry?.kind, 'plan_change');
    assert.equal(entry?.amount, 900);
    assert.equal(entry?.allocationDelta, 900);
    assert.equal(entry?.reason, 'upgrade');
    assert.equal(entry?.actor, 'billing');
    assert.equal(r.entryId, entry?.id);
  });

  it('a downgrade adds and removes nothing, and is on record', async () => {
    const { ledger } = get();
    await ledger.setPlan({ account: 'a', plan: 'pro', reason: 'r', actor: 't' });
    const r = await ledger.setPlan({ account: 'a', plan: 'starter', reason: 'cheaper', actor: 't' });
    assert.equal(r.previousPlan, 'pro');
    assert.equal(r.balance, 5000);
    const view = await ledger.getBalance('a');
    assert.equal(view.plan, 'starter');
    assert.equal(view.allocation, 5000);
    const [entry] = (await ledger.history('a', { limit: 1 })).entries;
    assert.equal(entry?.kind, 'plan_change');
    assert.equal(entry?.amount, 0);
    assert.equal(entry?.reason, 'cheaper');
  });

  it('an upgrade after a downgrade grants only up to the highest allocation held in the cycle', async () => {
    const { ledger } = get();
    await ledger.setPlan({ account: 'a', plan: 'pro', reason: 'r', actor: 't' }); // +4,900: 5,000 granted
    await ledger.setPlan({ account: 'a', plan: 'free', reason: 'r', actor: 't' }); // nothing
    await ledger.setPlan({ account: 'a', plan: 'starter', reason: 'r', actor: 't' }); // within 5,000 already
    assert.equal((await ledger.getBalance('a')).allocation, 5000);
  });

  it('two plan changes at once do not both grant', async () => {
    const { ledger } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    // On PostgreSQL these run on separate pooled connections and meet at the account row lock.
    await Promise.all(
      ['pro', 'starter', 'pro', 'starter', 'pro', 'free', 'pro'].map((plan, i) =>
        ledger.setPlan({ account: 'a', plan, reason: `change ${i}`, actor: 't' }),
      ),
    );
    const granted = (await ledger.history('a')).entries
      .filter((e) => e.kind === 'plan_change' || e.kind === 'opening_balance')
      .reduce((sum, e) => sum + e.allocationDelta, 0);
    assert.ok(granted <= 5000, `granted ${granted}`);
    assert.ok((await ledger.getBalance('a')).balance <= 4999);
    assert.deepEqual(await ledger.reconcile(), { accountsChecked: 1, drift: [] });
  });

  it('regression: a portal upgrade grants its difference once, on customer.subscription.updated', async () => {
    const { ledger, clock } = get();
    const p0 = clock.now();
    await subscribedToStarter(ledger, p0);
    clock.advance(2 * DAY);
    assert.equal((await send(ledger, switched('plan_pro', p0), 'evt_up')).status, 'applied');
    assert.equal((await send(ledger, switched('plan_pro', p0), 'evt_up')).status, 'duplicate');
    let view = await ledger.getBalance('u1');
    assert.equal(view.plan, 'pro');
    assert.equal(view.allocation, 1100 + 4000);
    assert.equal(view.cycleStart, p0); // no new cycle
    const [entry] = (await ledger.history('u1', { limit: 1 })).entries;
    assert.equal(entry?.kind, 'plan_change');
    assert.equal(entry?.source, 'stripe');
    assert.equal(entry?.reference, `sub_1:${p0}:pro`);
    // Toggling in the portal, under any event ids, grants nothing more in this period.
    for (const pkg of ['plan_starter', 'plan_pro', 'plan_starter', 'plan_pro']) await send(ledger, switched(pkg, p0));
    view = await ledger.getBalance('u1');
    assert.equal(view.allocation, 5100);
    // Proration invoices never grant a difference.
    await send(ledger, invoice('in_proration', p0, 'subscription_update'));
    assert.equal((await ledger.getBalance('u1')).allocation, 5100);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('a portal downgrade grants nothing; the next period renews on the plan held then', async () => {
    const { ledger, clock } = get();
    const p0 = clock.now();
    await subscribedToStarter(ledger, p0);
    await send(ledger, switched('plan_pro', p0)); // 5,100
    accepted(await ledger.deduct({ account: 'u1', feature: 'social_post', quantity: 100 }));
    await send(ledger, switched('plan_starter', p0));
    let view = await ledger.getBalance('u1');
    assert.equal(view.plan, 'starter');
    assert.equal(view.allocation, 5000);
    const p1 = p0 + 30 * DAY;
    clock.set(new Date(p1 + 3600_000).toISOString());
    await send(ledger, invoice('in_2', p1, 'subscription_cycle'));
    view = await ledger.getBalance('u1');
    assert.equal(view.rolledOver, 500); // starter's cap
    assert.equal(view.allocation, 500 + 1000);
    // A stale switch of the previous period finds its grant already given.
    await send(ledger, switched('plan_pro', p0));
    assert.equal((await ledger.getBalance('u1')).allocation, 1500);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('a switch while the subscription is not active changes no plan and grants nothing', async () => {
    const { ledger, clock } = get();
    const p0 = clock.now();
    await subscribedToStarter(ledger, p0);
    await send(ledger, switched('plan_pro', p0, 'past_due'));
    let view = await ledger.getBalance('u1');
    assert.equal(view.plan, 'starter');
    assert.equal(view.allocation, 1100);
    await send(ledger, switched('plan_pro', p0, 'active'));
    view = await ledger.getBalance('u1');
    assert.equal(view.plan, 'pro');
    assert.equal(view.allocation, 5100);
  });
});
