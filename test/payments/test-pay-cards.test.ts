// The test checkout's card: the page's card field, save box and documented test cards; the
// completion route's card (form or JSON), its validation, and the events a completion stands for.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PaymentRow } from '../../src/ledger/payments/payment-ledger.ts';
import { readTestCard } from '../../src/payments/test-cards.ts';
import { testCompletionEvents } from '../../src/payments/test-provider.ts';
import { type PaymentApp, paymentApp } from './payment-helpers.ts';

const payment = (over: Partial<PaymentRow> = {}): PaymentRow => ({
  id: 1,
  provider: 'test',
  reference: 'test_cs_abc',
  account: 'u-cards',
  packageId: 'tokens_500',
  kind: 'topup',
  tokens: 500,
  amount: 2500,
  currency: 'usd',
  status: 'pending',
  paymentIntent: null,
  subscriptionId: null,
  tokensTakenBack: 0,
  amountRefunded: 0,
  receiptUrl: null,
  createdAt: 0,
  updatedAt: 0,
  ...over,
});

describe('testCompletionEvents with a card', () => {
  it('no card: paid with the default card, nothing saved (as before)', () => {
    const events = testCompletionEvents(payment());
    assert.deepEqual(
      events.map((e) => [e.eventId, e.command.type]),
      [['test_cs_abc:completed', 'checkout_paid']],
    );
  });

  it('a saved card: paid, then the card saved as brand and last four digits only', () => {
    const events = testCompletionEvents(payment(), { ...readTestCard('5555 5555 5555 4444'), save: true });
    assert.deepEqual(
      events.map((e) => e.command.type),
      ['checkout_paid', 'payment_method_saved'],
    );
    const saved = events[1];
    assert.ok(saved);
    assert.equal(saved.provider, 'test');
    assert.equal(saved.eventId, 'test_cs_abc:card_saved');
    assert.equal(saved.eventType, 'payment_method.attached');
    assert.ok(saved.command.type === 'payment_method_saved');
    assert.match(saved.command.methodId, /^test_pm_[0-9a-f]{24}$/);
    assert.deepEqual(saved.command, {
      type: 'payment_method_saved',
      account: 'u-cards',
      customerId: null,
      methodId: saved.command.methodId,
      brand: 'mastercard',
      last4: '4444',
    });
    assert.doesNotMatch(JSON.stringify(events), /5555555555554444/, 'the card number is in no event');
    // A replayed completion saves the same method (the event id dedupes it; the payload agrees).
    assert.deepEqual(testCompletionEvents(payment(), { ...readTestCard('5555555555554444'), save: true }), events);
  });

  it('a plan paid with a saved card: the card event comes after the invoice', () => {
    const events = testCompletionEvents(payment({ kind: 'plan', packageId: 'plan_starter' }), {
      ...readTestCard('4242424242424242'),
      save: true,
    });
    assert.deepEqual(
      events.map((e) => e.command.type),
      ['checkout_paid', 'invoice_paid', 'payment_method_saved'],
    );
  });

  it('9995 is declined at checkout: the checkout failed, nothing paid, nothing saved', () => {
    const events = testCompletionEvents(payment(), { ...readTestCard('4000 0000 0000 9995'), save: true });
    assert.deepEqual(events, [
      {
        provider: 'test',
        eventId: 'test_cs_abc:failed',
        eventType: 'checkout.failed',
        command: { type: 'checkout_closed', reference: 'test_cs_abc', status: 'failed' },
      },
    ]);
  });

  it('0341 and 3184 are paid at checkout (they fail only off session)', () => {
    for (const number of ['4000000000000341', '4000002760003184']) {
      const events = testCompletionEvents(payment(), { ...readTestCard(number), save: true });
      assert.deepEqual(
        events.map((e) => e.command.type),
        ['checkout_paid', 'payment_method_saved'],
        number,
      );
    }
  });
});

describe('the test checkout page and its card, over HTTP', () => {
  let t: PaymentApp;
  let token: string;
  const account = 'u-cards';
  before(async () => {
    t = await paymentApp();
    token = await t.userToken(account);
  });
  after(() => t.close());

  const checkout = async (pkg = 'tokens_100'): Promise<string> => {
    const r = await t.call({ method: 'POST', url: '/api/payment/checkout', payload: { package: pkg }, as: { token } });
    assert.equal(r.statusCode, 200, r.body);
    return (r.json() as { checkout_id: string }).checkout_id;
  };
  const complete = (id: string, body: unknown) =>
    t.call({ method: 'POST', url: `/pay/test/${id}/complete`, as: 'none', payload: body as Record<string, unknown> });
  const completeForm = (id: string, form: string) =>
    t.call({
      method: 'POST',
      url: `/pay/test/${id}/complete`,
      as: 'none',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form,
    });
  const status = async (id: string) => (await t.ledger.payments.findPayment('test', id))?.status;
  const purchased = async () => (await t.ledger.getBalance(account)).purchased;
  /** Whether the route applied the card event: applying it again is then a duplicate. */
  const cardEventApplied = async (id: string) => {
    const row = await t.ledger.payments.findPayment('test', id);
    assert.ok(row);
    const [, saved] = testCompletionEvents(row, { ...readTestCard('4242424242424242'), save: true });
    assert.ok(saved);
    return (await t.ledger.payments.applyEvent(saved)).status === 'duplicate';
  };

  it('the page has a labelled card field (default 4242), the save box, and the documented test cards', async () => {
    const id = await checkout();
    const page = (await t.call({ method: 'GET', url: `/pay/test/${id}`, as: 'none' })).body;
    assert.match(page, /<label for="card">Card number<\/label>/);
    assert.match(page, /<input type="text" id="card" name="card" value="4242 4242 4242 4242"/);
    assert.match(page, /<input type="checkbox" id="save_card" name="save_card" value="1">/);
    assert.match(
      page,
      /<label class="check"><input type="checkbox" id="save_card"[^>]*> Save this card for automatic top-ups<\/label>/,
    );
    for (const number of ['4242 4242 4242 4242', '4000 0000 0000 0341', '4000 0000 0000 9995', '4000 0027 6000 3184']) {
      assert.match(page, new RegExp(`<td><code>${number}</code></td>`), number);
    }
    assert.match(page, /card_declined/);
    assert.match(page, /insufficient_funds/);
    assert.match(page, /authentication_required/);
    assert.match(page, /last four digits/);
  });

  it('save_card=1 in the url ticks the box; a plan checkout has no box', async () => {
    const id = await checkout();
    const ticked = (await t.call({ method: 'GET', url: `/pay/test/${id}?save_card=1`, as: 'none' })).body;
    assert.match(ticked, /name="save_card" value="1" checked>/);
    const plan = await checkout('plan_starter');
    const planPage = (await t.call({ method: 'GET', url: `/pay/test/${plan}?save_card=1`, as: 'none' })).body;
    assert.match(planPage, /id="card"/);
    assert.doesNotMatch(planPage, /save_card/);
  });

  it('JSON {card, save_card}: paid, the card event applied, back to billing with success', async () => {
    const before = await purchased();
    const id = await checkout();
    const r = await complete(id, { card: '4000-0000-0000-0341', save_card: true });
    assert.equal(r.statusCode, 303, r.body);
    assert.equal(r.headers.location, '/billing?payment=success');
    assert.equal(await status(id), 'paid');
    assert.equal(await purchased(), before + 100);
    assert.equal(await cardEventApplied(id), true);
  });

  it('the form posts card and save_card urlencoded: parsed, not discarded', async () => {
    const id = await checkout();
    const r = await completeForm(id, 'card=4242+4242+4242+4242&save_card=1');
    assert.equal(r.statusCode, 303, r.body);
    assert.equal(await status(id), 'paid');
    assert.equal(await cardEventApplied(id), true);
    // Without the box ticked nothing is saved.
    const plain = await checkout();
    assert.equal((await completeForm(plain, 'card=4242424242424242')).statusCode, 303);
    assert.equal(await cardEventApplied(plain), false);
  });

  it('a card declined at checkout (9995): the payment failed, no tokens, back to billing as canceled', async () => {
    const before = await purchased();
    const id = await checkout();
    const r = await completeForm(id, 'card=4000000000009995&save_card=1');
    assert.equal(r.statusCode, 303);
    assert.equal(r.headers.location, '/billing?payment=canceled');
    assert.equal(await status(id), 'failed');
    assert.equal(await purchased(), before);
    assert.equal(await cardEventApplied(id), false);
  });

  it('a bad card number over JSON: 400 invalid_request naming card, nothing applied', async () => {
    const before = await purchased();
    const id = await checkout();
    for (const card of ['4242424242424241', 'not a card', '', '4242']) {
      const r = await complete(id, { card, save_card: true });
      assert.equal(r.statusCode, 400, card);
      assert.equal(r.json().code, 'invalid_request');
      assert.match(r.json().error, /^card: /);
    }
    assert.equal(await status(id), 'pending');
    assert.equal(await purchased(), before);
    assert.equal(await cardEventApplied(id), false);
  });

  it('a bad card number from the form: 400 with the page again, the error announced and tied to the field', async () => {
    const id = await checkout();
    const r = await completeForm(id, 'card=4242+4242+4242+4241&save_card=1');
    assert.equal(r.statusCode, 400);
    assert.match(String(r.headers['content-type']), /text\/html/);
    assert.match(r.body, /<p class="error" role="alert" id="card-error">card: /);
    assert.match(r.body, /value="4242 4242 4242 4241"[^>]*aria-invalid="true" aria-describedby="card-error"/);
    assert.match(r.body, /name="save_card" value="1" checked>/);
    assert.equal(await status(id), 'pending');
    // What was typed is shown back as text, never as markup.
    const hostile = await completeForm(id, `card=${encodeURIComponent('"><script>alert(1)</script>')}`);
    assert.equal(hostile.statusCode, 400);
    assert.doesNotMatch(hostile.body, /<script>/);
    assert.match(hostile.body, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
  });

  it('refused: save_card on a plan, a save_card that is no boolean, an unknown field', async () => {
    const plan = await checkout('plan_starter');
    const onPlan = await complete(plan, { save_card: true });
    assert.equal(onPlan.statusCode, 400);
    assert.match(onPlan.json().error, /^save_card: /);
    assert.equal(await status(plan), 'pending');
    const id = await checkout();
    const notBoolean = await complete(id, { save_card: 'yes' });
    assert.equal(notBoolean.statusCode, 400);
    assert.match(notBoolean.json().error, /^save_card: /);
    const formNotBoolean = await completeForm(id, 'save_card=maybe');
    assert.equal(formNotBoolean.statusCode, 400);
    const unknown = await complete(id, { card_number: '4242424242424242' });
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().error, /card_number/);
    assert.equal(await status(id), 'pending');
  });

  it('no body at all still completes with the default card', async () => {
    const id = await checkout();
    const r = await t.call({ method: 'POST', url: `/pay/test/${id}/complete`, as: 'none' });
    assert.equal(r.statusCode, 303);
    assert.equal(await status(id), 'paid');
    assert.equal(await cardEventApplied(id), false);
  });
});
