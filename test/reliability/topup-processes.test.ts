// Automatic top-up under real processes (issue 17): two `tokenmeter serve` processes on one
// PostgreSQL database race 160 deductions across the threshold and charge the card once; a
// server SIGKILLed after Stripe charged the card but before it heard so recovers after a restart
// by asking for the PaymentIntent by its stored id, and credits once. The test waits on what the
// servers deliver to a real webhook receiver, then reads the database through its own ledger.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openLedger } from '../../src/ledger/open-ledger.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { createTestDatabase, pgSuiteSkip } from '../helpers/pg-server.ts';
import { call, type Json } from '../helpers/server-call.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';
import { type ReceivedWebhook, type WebhookReceiver, webhookReceiver } from '../helpers/webhook-receiver.ts';
import { sign, stripeEvent, WEBHOOK_SECRET } from '../payments/payment-helpers.ts';
import { type StripeStandIn, stripeStandIn } from '../payments/stripe-api-standin.ts';

const WEBHOOK_ENV = { TOKENMETER_WEBHOOK_ALLOW_PRIVATE: 'true', TOKENMETER_WEBHOOK_RETRY_BASE_MS: '100' };
const PACKAGE = { id: 'tokens_500', tokens: 500, priceCents: 2_500 };

/** Auto top-up on through the server: below 50, buy 500 tokens. The card must be saved first. */
async function enableAutoTopup(url: string, account: string): Promise<void> {
  const r = await call(url, 'PUT', '/api/payment/auto-topup', {
    body: {
      account,
      enabled: true,
      threshold: 50,
      package: PACKAGE.id,
      monthly_limit: 5,
    },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((r.body.auto_topup as Json | undefined)?.status, 'active', JSON.stringify(r.body));
}

/** A free account (100 tokens) with a card saved for off-session charges by `provider`. */
async function accountWithCard(ledger: TokenLedger, account: string, provider: 'test' | 'stripe', methodId: string) {
  await ledger.createAccount({ account });
  if (provider === 'stripe') await ledger.payments.saveCustomer(account, 'stripe', `cus_${account}`);
  const outcome = await ledger.payments.applyEvent({
    provider,
    eventId: `card-${account}`,
    eventType: 'payment_method.attached',
    command: { type: 'payment_method_saved', account, customerId: null, methodId, brand: 'visa', last4: '4242' },
  });
  assert.equal(outcome.status, 'applied');
}

async function addHook(url: string, port: number): Promise<void> {
  const r = await call(url, 'POST', '/api/admin/webhooks', {
    as: 'admin',
    body: { url: `http://127.0.0.1:${port}/h` },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

const succeededFor = (account: string) => (received: readonly ReceivedWebhook[]) =>
  received.some((w) => w.type === 'topup.succeeded' && w.account === account);

const topupEvents = async (ledger: TokenLedger, account: string) =>
  (await ledger.store.service.accountEvents(account, { before: null, limit: 1000 }))
    .reverse()
    .map((e) => e.type)
    .filter((t) => t.startsWith('topup.'));

/** Everything a repeated provider report could change, to compare before and after it. */
async function moneyState(ledger: TokenLedger, account: string) {
  return {
    balance: (await ledger.getBalance(account)).balance,
    payments: await ledger.payments.history(account),
    intents: await ledger.autoTopup.intents(account),
    events: (await ledger.store.service.accountEvents(account, { before: null, limit: 1000 }))
      .reverse()
      .map((e) => e.id),
  };
}

describe('automatic top-up across server processes and a kill -9', { timeout: 90_000 }, () => {
  const servers: ServerProcess[] = [];
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const s of servers) await s.kill();
    for (const close of closers.splice(0)) await close();
  });

  /** A receiver, closed after the suite. */
  const receiver = async (): Promise<{ rx: WebhookReceiver; port: number }> => {
    const rx = webhookReceiver();
    closers.push(() => rx.close());
    return { rx, port: await rx.ready };
  };

  it('two servers on PostgreSQL, 160 deductions of 1 at once across the threshold: one charge, one credit', async (t) => {
    const skip = await pgSuiteSkip();
    if (skip) return t.skip(skip);
    const db = await createTestDatabase();
    const ledger = await openLedger({ databaseUrl: db.url, groupCommit: false, logger: silentLogger });
    try {
      const { rx, port } = await receiver();
      const env = { ...WEBHOOK_ENV, TOKENMETER_TEST_PAYMENTS: 'true', TOKENMETER_TOPUP_RETRY_S: '0' };
      const a = await startServerProcess({ databaseUrl: db.url, env });
      const b = await startServerProcess({ databaseUrl: db.url, env });
      servers.push(a, b);
      await accountWithCard(ledger, 'c', 'test', 'test_pm_c');
      await enableAutoTopup(a.url, 'c');
      await addHook(a.url, port);

      const results = await Promise.all(
        Array.from({ length: 160 }, (_, i) =>
          call(i % 2 === 0 ? a.url : b.url, 'POST', '/api/tokens/deduct', {
            body: { account: 'c', feature: 'outbound_call_single' },
          }),
        ),
      );
      // Refused only for want of tokens, when the deductions outran the top-up.
      assert.deepEqual(
        results.filter((r) => r.status !== 200 && r.status !== 402),
        [],
        `${a.logTail()}\n${b.logTail()}`,
      );
      const charged = results.filter((r) => r.status === 200).length;
      await rx.until(succeededFor('c'));

      const charges = await ledger.payments.testCharges.list('c');
      assert.deepEqual(
        charges.map((c) => [c.status, c.amount]),
        [['succeeded', PACKAGE.priceCents]],
        'the card was charged once',
      );
      const payments = await ledger.payments.history('c');
      assert.deepEqual(
        payments.map((p) => [p.status, p.tokens, p.reference]),
        [['paid', PACKAGE.tokens, charges[0]?.paymentId]],
      );
      assert.equal((await ledger.getBalance('c')).balance, 100 + PACKAGE.tokens - charged);
      assert.deepEqual((await ledger.reconcile()).drift, []);
      assert.deepEqual(await topupEvents(ledger, 'c'), ['topup.succeeded']);
      assert.deepEqual(
        (await ledger.autoTopup.intents('c')).map((i) => i.status),
        ['succeeded'],
      );
      const delivered = rx.received.filter((w) => w.type === 'topup.succeeded');
      assert.equal(new Set(delivered.map((w) => w.id)).size, 1);
    } finally {
      for (const s of servers.splice(0)) await s.kill();
      await ledger.close();
      await db.drop();
    }
  });

  /**
   * One server with Stripe pointed at the stand-in; the stand-in SIGKILLs it once the confirm has
   * charged the card, before answering. The restarted server must find the PaymentIntent by the
   * id stored before the confirm, credit once, and ignore Stripe's own webhook for it afterwards.
   */
  async function killBetweenChargeAndCredit(databaseUrl: string): Promise<void> {
    const api: StripeStandIn = await stripeStandIn();
    closers.push(() => api.close());
    const ledger = await openLedger({ databaseUrl, groupCommit: false, logger: silentLogger });
    try {
      const { rx, port } = await receiver();
      const env = {
        ...WEBHOOK_ENV,
        STRIPE_SECRET_KEY: 'sk_test_tokenmeter',
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_API_BASE: `http://127.0.0.1:${api.port}`,
        TOKENMETER_TOPUP_LEASE_S: '1',
        TOKENMETER_TOPUP_RETRY_S: '0',
      };
      const first = await startServerProcess({ databaseUrl, env });
      servers.push(first);
      await accountWithCard(ledger, 'k', 'stripe', 'pm_card_visa');
      await enableAutoTopup(first.url, 'k');
      await addHook(first.url, port);

      const confirmed: string[] = [];
      api.confirmed = async (id) => {
        confirmed.push(id);
        await first.kill();
      };
      // 100 → 40: below the threshold. Its answer may be lost to the kill; the ledger shows it committed.
      await call(first.url, 'POST', '/api/tokens/deduct', {
        body: { account: 'k', feature: 'outbound_call_single', quantity: 60 },
      });
      await first.exited;
      api.confirmed = null;

      // Killed between the charge and the credit: charged at Stripe, the id stored, nothing credited.
      const id = confirmed[0] ?? '';
      assert.deepEqual(confirmed, [id]);
      assert.equal(api.charges, 1);
      assert.equal(api.intents.get(id)?.status, 'succeeded');
      assert.deepEqual(
        (await ledger.autoTopup.intents('k')).map((i) => [i.status, i.paymentId]),
        [['charging', id]],
      );
      assert.deepEqual(await ledger.payments.history('k'), []);
      assert.equal((await ledger.getBalance('k')).balance, 40);

      const mark = api.requests.length;
      const second = await startServerProcess({ databaseUrl, env });
      servers.push(second);
      await rx.until(succeededFor('k'));

      const since = api.requests.slice(mark).map((r) => `${r.method} ${r.path}`);
      assert.ok(since.includes(`GET /v1/payment_intents/${id}`), `asked Stripe by id: ${since.join(', ')}`);
      assert.deepEqual(
        since.filter((r) => !r.startsWith('GET ')),
        [],
        'no second PaymentIntent, no second confirm',
      );
      assert.equal(api.charges, 1, 'the card was charged once');
      assert.equal(api.intents.size, 1);
      const payments = await ledger.payments.history('k');
      assert.deepEqual(
        payments.map((p) => [p.provider, p.reference, p.paymentIntent, p.status, p.tokens, p.amount]),
        [['stripe', id, id, 'paid', PACKAGE.tokens, PACKAGE.priceCents]],
      );
      assert.equal((await ledger.getBalance('k')).balance, 40 + PACKAGE.tokens);
      assert.deepEqual(
        (await ledger.autoTopup.intents('k')).map((i) => [i.status, i.paymentId]),
        [['succeeded', id]],
      );
      assert.deepEqual(await topupEvents(ledger, 'k'), ['topup.succeeded']);
      assert.deepEqual((await ledger.reconcile()).drift, []);

      // Stripe's own report of the same payment, arriving after the worker's: recorded, changes nothing.
      const before = await moneyState(ledger, 'k');
      const body = stripeEvent('payment_intent.succeeded', api.intents.get(id) ?? {});
      const res = await fetch(`${second.url}/api/payment/webhook/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': sign(body) },
        body,
      });
      const answer = (await res.json()) as Json;
      assert.equal(res.status, 200, JSON.stringify(answer));
      assert.equal(answer.status, 'applied', 'matched to the top-up, not ignored');
      assert.deepEqual(await moneyState(ledger, 'k'), before);
      assert.equal(api.charges, 1);
    } finally {
      for (const s of servers.splice(0)) await s.kill();
      await ledger.close();
    }
  }

  it('kill -9 between the charge and the credit [sqlite]: recovered by the PaymentIntent id, credited once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-topup-kill-'));
    try {
      await killBetweenChargeAndCredit(`sqlite:${join(dir, 'tokens.db')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kill -9 between the charge and the credit [postgres]: recovered by the PaymentIntent id, credited once', async (t) => {
    const skip = await pgSuiteSkip();
    if (skip) return t.skip(skip);
    const db = await createTestDatabase();
    try {
      await killBetweenChargeAndCredit(db.url);
    } finally {
      await db.drop();
    }
  });
});
