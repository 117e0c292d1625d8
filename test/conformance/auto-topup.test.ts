import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { accepted } from '../helpers/ledger.ts';
import { saveCard } from '../helpers/saved-card.ts';
import { conformance } from '../helpers/suite.ts';

const ops = { reason: 'test', actor: 'ops' };

/** A free account (100 tokens) with a card and auto top-up on at `threshold`. */
async function armed(ledger: TokenLedger, account: string, threshold = 50, monthlyLimit = 5): Promise<void> {
  await ledger.createAccount({ account });
  await saveCard(ledger, account);
  await ledger.autoTopup.put({ account, enabled: true, threshold, packageId: 'tokens_100', monthlyLimit });
}

const statuses = async (ledger: TokenLedger, account: string) =>
  (await ledger.autoTopup.intents(account)).map((i) => i.status).reverse();

async function eventTypes(ledger: TokenLedger, account: string): Promise<string[]> {
  const events = (await ledger.store.service.accountEvents(account, { before: null, limit: 1000 })).reverse();
  return events.map((e) => e.type).filter((t) => t.startsWith('topup.') || t === 'purchase.completed');
}

/** Claims the account's due intent and decides it, as the worker does. */
async function begin(ledger: TokenLedger) {
  const [claimed] = await ledger.autoTopup.claimDue(10, 60_000);
  assert.ok(claimed, 'an intent is due');
  return ledger.autoTopup.begin(claimed);
}

conformance('automatic top-up (intents recorded by the database)', (get) => {
  it('the deduction that takes available below the threshold records one intent; more below it record none', async () => {
    const { ledger } = get();
    await armed(ledger, 'a');
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 50 })); // 50: at the threshold
    assert.deepEqual(await statuses(ledger, 'a'), []);
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' })); // 49
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 9 })); // 40
    assert.deepEqual(await statuses(ledger, 'a'), ['pending']);
    const [intent] = await ledger.autoTopup.intents('a');
    assert.equal(intent?.sequence, 1);
  });

  it('a hold, an adjustment and a grant’s expiry cross the threshold too', async () => {
    const { ledger, clock } = get();
    await armed(ledger, 'h');
    accepted(await ledger.reserve({ account: 'h', amount: 60 }));
    assert.deepEqual(await statuses(ledger, 'h'), ['pending']);

    await armed(ledger, 'j');
    await ledger.adjust({ account: 'j', amount: -51, ...ops });
    assert.deepEqual(await statuses(ledger, 'j'), ['pending']);

    // 100 + 30 promotional expiring tomorrow: at 130 it is above 120, and the expiry takes it to 100.
    await ledger.createAccount({ account: 'x' });
    await ledger.grant({
      account: 'x',
      tokens: 30,
      category: 'promotional',
      expiresAt: clock.now() + 86_400_000,
      ...ops,
    });
    await saveCard(ledger, 'x');
    await ledger.autoTopup.put({
      account: 'x',
      enabled: true,
      threshold: 120,
      packageId: 'tokens_100',
      monthlyLimit: 5,
    });
    assert.deepEqual(await statuses(ledger, 'x'), []);
    clock.advance(2 * 86_400_000);
    assert.equal(await ledger.catchUp('x'), true);
    assert.deepEqual(await statuses(ledger, 'x'), ['pending']);
  });

  it('the database itself records the intent and refuses a second open one, whoever writes', async () => {
    const { ledger, db } = get();
    await armed(ledger, 'raw');
    // A write that bypasses the engine still records its crossing...
    await db.raw(
      `UPDATE accounts SET allocation = 10, updated_at = updated_at + 1, version = version + 1 WHERE id = 'raw'`,
    );
    assert.deepEqual(await statuses(ledger, 'raw'), ['pending']);
    // ...and no second intent can be open beside it.
    await assert.rejects(
      db.raw(
        `INSERT INTO topup_intents (account_id, sequence, status, next_attempt_at, created_at, updated_at) VALUES ('raw', 99, 'pending', 0, 0, 0)`,
      ),
    );
    // Off, nothing is recorded.
    await ledger.autoTopup.put({
      account: 'raw',
      enabled: false,
      threshold: 50,
      packageId: 'tokens_100',
      monthlyLimit: 5,
    });
    await db.raw(`UPDATE accounts SET allocation = 100 WHERE id = 'raw'`);
    await db.raw(`UPDATE accounts SET allocation = 1 WHERE id = 'raw'`);
    assert.deepEqual(await statuses(ledger, 'raw'), ['pending']);
  });

  it('160 concurrent deductions of 1 across the threshold record exactly one intent', async () => {
    const { ledger } = get();
    await armed(ledger, 'c', 50);
    const results = await Promise.all(
      Array.from({ length: 160 }, () => ledger.deduct({ account: 'c', feature: 'outbound_call_single' })),
    );
    assert.equal(results.filter((r) => r.ok).length, 100);
    assert.deepEqual(await statuses(ledger, 'c'), ['pending']);
  });

  it('enabling needs a saved card; enabling below the threshold records an intent at once; re-saving records none', async () => {
    const { ledger } = get();
    await ledger.createAccount({ account: 's' });
    const request = { account: 's', enabled: true, threshold: 150, packageId: 'tokens_100', monthlyLimit: 5 };
    await assert.rejects(ledger.autoTopup.put(request), { code: 'payment_method_required' });
    assert.equal((await ledger.autoTopup.get('s')).status, 'off');
    await saveCard(ledger, 's', { last4: '4444' });
    const view = await ledger.autoTopup.put(request);
    assert.deepEqual(
      { status: view.status, card: view.paymentMethod, used: view.usedThisMonth },
      { status: 'active', card: { brand: 'visa', last4: '4444' }, used: 0 },
    );
    assert.deepEqual(await statuses(ledger, 's'), ['pending']);
    await ledger.autoTopup.put(request);
    assert.deepEqual(await statuses(ledger, 's'), ['pending']);
  });

  it('a success credits the package once, whichever of the worker and the webhook reports it, and announces it', async () => {
    const { ledger } = get();
    await armed(ledger, 'ok');
    await ledger.adjust({ account: 'ok', amount: -60, ...ops }); // 40
    const attempt = await begin(ledger);
    assert.ok(attempt);
    assert.match(attempt.idempotencyKey, new RegExp(`^tokenmeter-topup-${attempt.intent}-[0-9a-z]+-1$`));
    await ledger.autoTopup.remember(attempt, 'pi_1');
    await ledger.autoTopup.succeeded(attempt, 'pi_1', 500, 'usd');
    // The provider's webhook for the same payment, later: nothing more.
    await ledger.payments.applyEvent({
      provider: 'test',
      eventId: 'evt_webhook_1',
      eventType: 'payment_intent.succeeded',
      command: {
        type: 'topup_paid',
        paymentId: 'pi_1',
        intent: attempt.intent,
        attempt: attempt.attempt,
        account: 'ok',
        packageId: 'tokens_100',
        amount: 500,
        currency: 'usd',
      },
    });
    assert.equal((await ledger.getBalance('ok')).balance, 140);
    assert.deepEqual(await statuses(ledger, 'ok'), ['succeeded']);
    assert.equal((await ledger.autoTopup.get('ok')).usedThisMonth, 1);
    assert.deepEqual(await eventTypes(ledger, 'ok'), ['purchase.completed', 'topup.succeeded']);
    const [payment] = await ledger.payments.history('ok');
    assert.deepEqual(
      { ref: payment?.reference, pi: payment?.paymentIntent, status: payment?.status, tokens: payment?.tokens },
      { ref: 'pi_1', pi: 'pi_1', status: 'paid', tokens: 100 },
    );
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('an intent is cancelled, not charged, when auto top-up was turned off or available came back meanwhile', async () => {
    const { ledger } = get();
    await armed(ledger, 'off');
    await ledger.adjust({ account: 'off', amount: -60, ...ops });
    await ledger.autoTopup.put({
      account: 'off',
      enabled: false,
      threshold: 50,
      packageId: 'tokens_100',
      monthlyLimit: 5,
    });
    assert.equal(await begin(ledger), null);
    assert.deepEqual(await statuses(ledger, 'off'), ['cancelled']);

    await armed(ledger, 'back');
    await ledger.adjust({ account: 'back', amount: -60, ...ops });
    await ledger.adjust({ account: 'back', amount: 30, ...ops }); // 70: at or above again
    assert.equal(await begin(ledger), null);
    assert.deepEqual(await statuses(ledger, 'back'), ['cancelled']);
  });

  it('past the monthly limit a crossing charges nothing and topup.limit_reached is announced once', async () => {
    const { ledger } = get();
    await armed(ledger, 'cap', 50, 1);
    let paid = 0;
    for (let round = 1; round <= 3; round++) {
      const available = (await ledger.getBalance('cap')).available;
      await ledger.adjust({ account: 'cap', amount: 40 - available, ...ops }); // down to 40
      const attempt = await begin(ledger);
      if (attempt) {
        paid += 1;
        await ledger.autoTopup.succeeded(attempt, `pi_cap_${round}`, 500, 'usd');
      }
      await ledger.adjust({ account: 'cap', amount: 30, ...ops }); // back above the threshold
    }
    assert.equal(paid, 1);
    assert.deepEqual(await statuses(ledger, 'cap'), ['succeeded', 'limited', 'limited']);
    assert.deepEqual(
      (await eventTypes(ledger, 'cap')).filter((t) => t === 'topup.limit_reached'),
      ['topup.limit_reached'],
    );
  });

  it('declines retry while below; the third suspends; a new card brings it back and records an intent at once', async () => {
    const { ledger, clock } = get();
    await armed(ledger, 'd');
    await ledger.adjust({ account: 'd', amount: -60, ...ops });
    for (let n = 1; n <= 3; n++) {
      if (n > 1) {
        // The next try waits TOKENMETER_TOPUP_RETRY_S (an hour by default) after the last.
        assert.deepEqual(await ledger.autoTopup.claimDue(10, 60_000), []);
        clock.advance(3_600_000);
      }
      const attempt = await begin(ledger);
      assert.equal(attempt?.attempt, n);
      assert.ok(attempt);
      await ledger.autoTopup.remember(attempt, `pi_d_${n}`);
      await ledger.autoTopup.failed(attempt, `pi_d_${n}`, 'card_declined');
      // The same decline reported again (the webhook) changes nothing.
      await ledger.autoTopup.failed(attempt, `pi_d_${n}`, 'card_declined');
    }
    assert.deepEqual(await statuses(ledger, 'd'), ['failed']);
    const view = await ledger.autoTopup.get('d');
    assert.deepEqual({ status: view.status, error: view.lastError }, { status: 'suspended', error: 'card_declined' });
    assert.deepEqual(await eventTypes(ledger, 'd'), [
      'topup.failed',
      'topup.failed',
      'topup.failed',
      'topup.suspended',
    ]);
    // Suspended: a crossing records nothing.
    await ledger.adjust({ account: 'd', amount: 30, ...ops });
    await ledger.adjust({ account: 'd', amount: -30, ...ops });
    assert.deepEqual(await statuses(ledger, 'd'), ['failed']);
    await saveCard(ledger, 'd', { last4: '1111' });
    assert.equal((await ledger.autoTopup.get('d')).status, 'active');
    assert.deepEqual(await statuses(ledger, 'd'), ['failed', 'pending']);
  });

  it('authentication_required suspends at once, without another try', async () => {
    const { ledger } = get();
    await armed(ledger, 'auth');
    await ledger.adjust({ account: 'auth', amount: -60, ...ops });
    const attempt = await begin(ledger);
    assert.ok(attempt);
    await ledger.autoTopup.failed(attempt, null, 'authentication_required');
    assert.equal((await ledger.autoTopup.get('auth')).status, 'suspended');
    assert.deepEqual(await statuses(ledger, 'auth'), ['failed']);
    assert.deepEqual(await eventTypes(ledger, 'auth'), ['topup.failed', 'topup.suspended']);
  });

  it('an attempt under way is finished, not dropped: after a crash it is asked about again under the same key', async () => {
    const { ledger, clock } = get();
    await armed(ledger, 'r');
    await ledger.adjust({ account: 'r', amount: -60, ...ops });
    const first = await begin(ledger);
    assert.ok(first);
    await ledger.autoTopup.remember(first, 'pi_r');
    // The worker dies here. Meanwhile auto top-up is even turned off: the payment may exist, so it is asked about.
    await ledger.autoTopup.put({
      account: 'r',
      enabled: false,
      threshold: 50,
      packageId: 'tokens_100',
      monthlyLimit: 5,
    });
    assert.deepEqual(await ledger.autoTopup.claimDue(10, 60_000), []); // the lease still runs
    clock.advance(60_001);
    const again = await begin(ledger);
    assert.deepEqual(
      { key: again?.idempotencyKey, attempt: again?.attempt, payment: again?.paymentId },
      { key: first.idempotencyKey, attempt: 1, payment: 'pi_r' },
    );
  });
});
