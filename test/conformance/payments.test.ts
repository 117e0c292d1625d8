import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { PaymentCommand } from '../../src/core/payment-command.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const provider = 'stripe';
let seq = 0;
const send = (ledger: TokenLedger, command: PaymentCommand, eventId = `evt_${++seq}`) =>
  ledger.payments.applyEvent({ provider, eventId, eventType: command.type, command });

const paid = (over: Partial<Extract<PaymentCommand, { type: 'checkout_paid' }>> = {}): PaymentCommand => ({
  type: 'checkout_paid',
  reference: 'cs_1',
  account: 'u1',
  packageId: 'tokens_100',
  paymentIntent: 'pi_1',
  subscriptionId: null,
  customerId: null,
  amount: 500,
  currency: 'usd',
  ...over,
});
const refund = (amountRefunded: number): PaymentCommand => ({
  type: 'charge_refunded',
  paymentIntent: 'pi_1',
  chargeId: 'ch_1',
  amountRefunded,
  receiptUrl: null,
});

async function startTopup(ledger: TokenLedger, account = 'u1', reference = 'cs_1') {
  await ledger.payments.startPayment({
    provider,
    reference,
    account,
    package: ledger.payments.findPackage('tokens_100'),
  });
}

conformance('payments', (get) => {
  it('a paid top-up credits purchased once; the event and the reference are each unique', async () => {
    const { ledger } = get();
    await startTopup(ledger);
    assert.equal((await send(ledger, paid(), 'evt_a')).status, 'applied');
    assert.equal((await send(ledger, paid(), 'evt_a')).status, 'duplicate');
    assert.equal((await send(ledger, paid(), 'evt_b')).status, 'applied'); // another event, same payment
    const view = await ledger.getBalance('u1');
    assert.equal(view.purchased, 100);
    assert.equal(view.balance, 200);
    const [payment] = await ledger.payments.history('u1');
    assert.equal(payment?.status, 'paid');
    assert.equal(payment?.paymentIntent, 'pi_1');
    assert.equal((await ledger.reconcile()).drift.length, 0);
  });

  it('the same event delivered 5 times at once has one effect, and every delivery succeeds', async () => {
    const { ledger } = get();
    await startTopup(ledger);
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => send(ledger, paid(), 'evt_same')));
    assert.equal(outcomes.filter((o) => o.status === 'applied').length, 1);
    assert.equal((await ledger.getBalance('u1')).purchased, 100);
  });

  it('two different events for one payment delivered at once credit once', async () => {
    const { ledger } = get();
    await startTopup(ledger);
    await Promise.all([send(ledger, paid(), 'evt_x'), send(ledger, paid(), 'evt_y'), send(ledger, paid(), 'evt_z')]);
    assert.equal((await ledger.getBalance('u1')).purchased, 100);
  });

  it('two partial refunds take back their shares; the balance may go negative', async () => {
    const { ledger } = get();
    await startTopup(ledger);
    await send(ledger, paid());
    accepted(await ledger.adjust({ account: 'u1', amount: -190, reason: 'spent', actor: 't' }));
    await send(ledger, refund(100)); // 20% of 100 tokens
    await send(ledger, refund(100)); // a repeat report: nothing more
    await send(ledger, refund(250)); // now 50%: 30 more
    const view = await ledger.getBalance('u1');
    assert.equal(view.balance, 10 - 50);
    const [payment] = await ledger.payments.history('u1');
    assert.equal(payment?.status, 'partially_refunded');
    assert.equal(payment?.tokensTakenBack, 50);
    assert.equal(payment?.amountRefunded, 250);
    await send(ledger, refund(500));
    assert.equal((await ledger.payments.history('u1'))[0]?.status, 'refunded');
    assert.equal((await ledger.getBalance('u1')).balance, -90);
    assert.equal((await ledger.reconcile()).drift.length, 0);
  });

  it('a refund delivered before its purchase waits, then applies when the payment arrives', async () => {
    const { ledger } = get();
    await startTopup(ledger);
    assert.equal((await send(ledger, refund(250))).status, 'pending');
    assert.equal((await ledger.getBalance('u1')).purchased, 0);
    await send(ledger, paid());
    const view = await ledger.getBalance('u1');
    assert.equal(view.purchased, 50);
    assert.equal((await ledger.payments.history('u1'))[0]?.status, 'partially_refunded');
  });

  it('a refund and its purchase delivered at the same time end as if in order', async () => {
    const { ledger } = get();
    for (let i = 0; i < 5; i++) {
      const account = `race${i}`;
      await startTopup(ledger, account, `cs_race_${i}`);
      const purchase = paid({ reference: `cs_race_${i}`, account, paymentIntent: `pi_race_${i}` });
      const early: PaymentCommand = {
        type: 'charge_refunded',
        paymentIntent: `pi_race_${i}`,
        chargeId: `ch_race_${i}`,
        amountRefunded: 250,
        receiptUrl: null,
      };
      await Promise.all([send(ledger, early), send(ledger, purchase)]);
      assert.equal((await ledger.getBalance(account)).purchased, 50, account);
    }
  });

  it('a paid session tokenmeter did not create is credited when its metadata names a known account and package', async () => {
    const { ledger } = get();
    accepted(await ledger.deduct({ account: 'known', feature: 'social_post' }));
    assert.equal(
      (await send(ledger, paid({ reference: 'cs_app', account: 'known', paymentIntent: 'pi_app' }))).status,
      'applied',
    );
    assert.equal((await ledger.getBalance('known')).purchased, 100);
    assert.equal(
      (await send(ledger, paid({ reference: 'cs_2', account: 'nobody', paymentIntent: 'pi_2' }))).status,
      'unmatched',
    );
    assert.equal(
      (await send(ledger, paid({ reference: 'cs_3', account: 'known', packageId: 'nope', paymentIntent: 'pi_3' })))
        .status,
      'unmatched',
    );
    assert.equal((await ledger.getBalance('known')).purchased, 100);
  });

  it('a plan checkout links the subscription without granting; each paid invoice grants once', async () => {
    const { ledger, clock } = get();
    await ledger.payments.startPayment({
      provider,
      reference: 'cs_plan',
      account: 'u1',
      package: ledger.payments.findPackage('plan_starter'),
    });
    await send(
      ledger,
      paid({ reference: 'cs_plan', packageId: 'plan_starter', paymentIntent: null, subscriptionId: 'sub_1' }),
    );
    let view = await ledger.getBalance('u1');
    assert.equal(view.plan, 'starter');
    assert.equal(view.balance, 100); // the free plan's opening, nothing granted yet
    const invoice = (id: string): PaymentCommand => ({
      type: 'invoice_paid',
      invoiceId: id,
      subscriptionId: 'sub_1',
      periodStart: clock.now(),
      periodEnd: clock.now() + 30 * 86_400_000,
      billingReason: 'subscription_create',
      paymentIntent: null,
      amount: 4900,
      currency: 'usd',
    });
    await send(ledger, invoice('in_1'));
    await send(ledger, invoice('in_1'), 'evt_other_delivery_of_in_1');
    view = await ledger.getBalance('u1');
    assert.equal(view.allocation, 1000 + 100); // one grant; the free plan's 100 roll over under starter's cap
    assert.equal((await ledger.history('u1', { limit: 10 })).entries.filter((e) => e.kind === 'cycle_grant').length, 1);
    // A subscription-driven account is not renewed lazily as well.
    clock.advance(40 * 86_400_000);
    assert.equal((await ledger.getBalance('u1')).allocation, 1100);
    accepted(await ledger.deduct({ account: 'u1', feature: 'business_collector' }));
    await send(ledger, invoice('in_2')); // the next period
    assert.equal((await ledger.getBalance('u1')).allocation, 1000 + 500); // 995 unused, 500 roll over
    assert.equal((await ledger.reconcile()).drift.length, 0);
  });

  it('an invoice before its subscription checkout waits for it', async () => {
    const { ledger, clock } = get();
    await ledger.payments.startPayment({
      provider,
      reference: 'cs_plan',
      account: 'u1',
      package: ledger.payments.findPackage('plan_starter'),
    });
    const r = await send(ledger, {
      type: 'invoice_paid',
      invoiceId: 'in_1',
      subscriptionId: 'sub_1',
      periodStart: clock.now(),
      periodEnd: clock.now(),
      billingReason: 'subscription_create',
      paymentIntent: null,
      amount: 4900,
      currency: 'usd',
    });
    assert.equal(r.status, 'pending');
    await send(
      ledger,
      paid({ reference: 'cs_plan', packageId: 'plan_starter', paymentIntent: null, subscriptionId: 'sub_1' }),
    );
    assert.equal((await ledger.getBalance('u1')).allocation, 1100);
  });

  it('a failed invoice grants nothing; a deleted subscription returns the account to the default plan', async () => {
    const { ledger, clock } = get();
    await ledger.payments.startPayment({
      provider,
      reference: 'cs_plan',
      account: 'u1',
      package: ledger.payments.findPackage('plan_pro'),
    });
    await send(
      ledger,
      paid({ reference: 'cs_plan', packageId: 'plan_pro', paymentIntent: null, subscriptionId: 'sub_1' }),
    );
    await send(ledger, { type: 'invoice_failed', invoiceId: 'in_1', subscriptionId: 'sub_1' });
    assert.equal((await ledger.getBalance('u1')).balance, 100);
    await send(ledger, { type: 'subscription_deleted', subscriptionId: 'sub_1' });
    const view = await ledger.getBalance('u1');
    assert.equal(view.plan, 'free');
    clock.advance(32 * 86_400_000);
    assert.equal((await ledger.getBalance('u1')).allocation, 100); // renewed lazily again
  });

  it('a dispute takes the disputed share back and a won dispute gives it back', async () => {
    const { ledger } = get();
    await startTopup(ledger);
    await send(ledger, paid());
    const dispute = (status: 'open' | 'won'): PaymentCommand => ({
      type: 'dispute_changed',
      paymentIntent: 'pi_1',
      disputeId: 'dp_1',
      status,
      amount: 500,
    });
    await send(ledger, dispute('open'));
    assert.equal((await ledger.getBalance('u1')).purchased, 0);
    assert.equal((await ledger.payments.history('u1'))[0]?.status, 'disputed');
    await send(ledger, dispute('won'));
    await send(ledger, dispute('won'));
    await send(ledger, dispute('open')); // an older fact delivered late does not reopen it
    assert.equal((await ledger.getBalance('u1')).purchased, 100);
    assert.equal((await ledger.payments.history('u1'))[0]?.status, 'paid');
    assert.equal((await ledger.reconcile()).drift.length, 0);
  });

  it('refunds and disputes take back a function of the latest facts, whatever the delivery order (issue 13)', async () => {
    const { ledger } = get();
    const dispute = (id: string, status: 'open' | 'won' | 'lost', amount: number): PaymentCommand => ({
      type: 'dispute_changed',
      paymentIntent: 'pi_1',
      disputeId: id,
      status,
      amount,
    });
    await startTopup(ledger);
    await send(ledger, dispute('dp_1', 'open', 100));
    await send(ledger, refund(400));
    await send(ledger, dispute('dp_2', 'won', 200)); // closed before its open arrives
    await send(ledger, dispute('dp_2', 'open', 200));
    assert.equal((await ledger.getBalance('u1')).purchased, 0); // pending: the purchase is not here yet
    await send(ledger, paid());
    assert.equal((await ledger.getBalance('u1')).purchased, 0); // floor(100 × min(500, 400 + 100) / 500)
    await send(ledger, dispute('dp_1', 'won', 100));
    const view = await ledger.getBalance('u1');
    assert.equal(view.purchased, 20);
    const [payment] = await ledger.payments.history('u1');
    assert.equal(payment?.tokensTakenBack, 80);
    assert.equal(payment?.status, 'partially_refunded');
    assert.equal((await ledger.reconcile()).drift.length, 0);
  });

  it('a subscription invoice and the refund of its charge delivered at once end as if in order', async () => {
    const { ledger, clock } = get();
    for (let i = 0; i < 3; i++) {
      const account = `subrace${i}`;
      await ledger.payments.startPayment({
        provider,
        reference: `cs_subrace_${i}`,
        account,
        package: ledger.payments.findPackage('plan_starter'),
      });
      await send(
        ledger,
        paid({
          reference: `cs_subrace_${i}`,
          account,
          packageId: 'plan_starter',
          paymentIntent: null,
          subscriptionId: `sub_race_${i}`,
        }),
      );
      const invoice: PaymentCommand = {
        type: 'invoice_paid',
        invoiceId: `in_race_${i}`,
        subscriptionId: `sub_race_${i}`,
        periodStart: clock.now(),
        periodEnd: clock.now() + 30 * 86_400_000,
        billingReason: 'subscription_create',
        paymentIntent: `pi_subrace_${i}`,
        amount: 4900,
        currency: 'usd',
      };
      const refunded: PaymentCommand = {
        type: 'charge_refunded',
        paymentIntent: `pi_subrace_${i}`,
        chargeId: `ch_subrace_${i}`,
        amountRefunded: 2450,
        receiptUrl: null,
      };
      const disputed: PaymentCommand = {
        type: 'dispute_changed',
        paymentIntent: `pi_subrace_${i}`,
        disputeId: `dp_subrace_${i}`,
        status: 'lost',
        amount: 980,
      };
      await Promise.all([send(ledger, refunded), send(ledger, invoice), send(ledger, disputed), send(ledger, invoice)]);
      // 1,000 granted once over the free plan's 100; floor(1000 × 3430 / 4900) = 700 taken back.
      assert.equal((await ledger.getBalance(account)).balance, 1100 - 700, account);
    }
    assert.equal((await ledger.reconcile()).drift.length, 0);
  });

  it('the database refuses an unknown dispute status and a reason on an event that is not unmatched', async () => {
    const { db } = get();
    await assert.rejects(
      db.raw(`INSERT INTO payment_disputes (provider, dispute_id, payment_intent, status, amount, created_at, updated_at)
              VALUES ('stripe', 'dp_x', 'pi_x', 'reopened', 1, 0, 0)`),
    );
    await assert.rejects(
      db.raw(`INSERT INTO payment_events (provider, event_id, type, status, received_at, payload, reason)
              VALUES ('stripe', 'evt_x', 'x', 'applied', 0, '', 'price_mismatch')`),
    );
  });

  it('unknown event types are recorded as ignored and change nothing', async () => {
    const { ledger } = get();
    assert.equal((await send(ledger, { type: 'ignored' })).status, 'ignored');
  });

  it('the database refuses a second payment with the same reference or payment intent', async () => {
    const { ledger } = get();
    await startTopup(ledger);
    await assert.rejects(startTopup(ledger, 'u2'));
    await send(ledger, paid());
    await startTopup(ledger, 'u3', 'cs_other');
    await assert.rejects(send(ledger, paid({ reference: 'cs_other', account: 'u3', paymentIntent: 'pi_1' })));
  });
});
