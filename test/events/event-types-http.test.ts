// Event types produced by real operations through the HTTP API, delivered by the dispatcher to a
// real receiver and verified there with the `standardwebhooks` library: balance crossings from
// deductions, plan.changed from the admin route, grant.expiring, grant.expired and cycle.renewed
// from the time-driven work as the clock passes them. (Purchases, refunds and disputes are
// produced through the payment path in test/payments/order-independence.test.ts.)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { systemClock } from '../../src/core/clock.ts';
import { WebhookDispatcher } from '../../src/events/dispatcher.ts';
import { DueWorkScheduler } from '../../src/events/due-work.ts';
import { Webhooks } from '../../src/events/webhooks.ts';
import { createLogger } from '../../src/log/logger.ts';
import { type TestApp, testApp } from '../http/http-helpers.ts';

const DAY = 86_400_000;

describe('every time-driven and operator event type, through the API to a receiver', { timeout: 60_000 }, () => {
  let t: TestApp;
  let dispatcher: WebhookDispatcher;
  let due: DueWorkScheduler;
  const got: Record<string, unknown>[] = [];
  let waiting: { count: number; resolve: () => void } | null = null;
  let secret = '';
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push(
        new Webhook(secret).verify(Buffer.concat(chunks).toString(), req.headers as Record<string, string>) as Record<
          string,
          unknown
        >,
      );
      res.statusCode = 204;
      res.end();
      if (waiting && got.length >= waiting.count) waiting.resolve();
    });
  });
  const received = (count: number) =>
    got.length >= count ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { count, resolve }));

  before(async () => {
    t = await testApp();
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const outbox = t.ledger.store.service;
    const logger = createLogger({ level: 'silent' });
    dispatcher = new WebhookDispatcher({
      outbox,
      clock: systemClock, // a receiver refuses a signature timestamp far from its own clock
      logger,
      retryBaseMs: 1000,
      maxAgeMs: 3 * DAY,
      allowPrivate: true,
    });
    t.ledger.onEventsCommitted(() => dispatcher.wake());
    due = new DueWorkScheduler({ ledger: t.ledger, outbox, clock: t.clock, logger, noticeMs: 7 * DAY });
    const hook = await new Webhooks({ outbox, clock: t.clock, allowPrivate: true }).add({
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
    });
    secret = hook.secret;
  });
  after(async () => {
    await due.stop();
    await dispatcher.stop();
    receiver.close();
    await t.close();
  });

  it('low, depleted, recovered, plan.changed, grant.expiring, grant.expired and cycle.renewed each arrive, signed, in sequence', async () => {
    const deduct = (quantity: number) =>
      t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account: 'e', feature: 'social_post', quantity },
      });
    assert.equal((await deduct(95)).statusCode, 200); // 5: low
    assert.equal((await deduct(5)).statusCode, 200); // 0: depleted
    const plan = await t.call({
      method: 'PUT',
      url: '/api/admin/accounts/e/plan',
      as: 'admin',
      payload: { plan: 'starter', reason: 'upgrade' },
    });
    assert.equal(plan.statusCode, 200, plan.body); // plan.changed, and the upgrade's tokens: recovered
    const grant = await t.call({
      method: 'POST',
      url: '/api/admin/accounts/e/grants',
      as: 'admin',
      payload: {
        tokens: 25,
        category: 'promotional',
        expires_at: new Date(t.clock.now() + 3 * DAY).toISOString(),
        reason: 'sorry',
      },
    });
    assert.equal(grant.statusCode, 201, grant.body);
    await due.round(); // grant.expiring: within the 7-day notice
    t.clock.advance(40 * DAY); // past the grant's expiry and the cycle's end
    await due.round(); // grant.expired, cycle.renewed
    await received(7);
    dispatcher.wake();
    const types = got.map((e) => e.type);
    for (const type of [
      'balance.low',
      'balance.depleted',
      'plan.changed',
      'balance.recovered',
      'grant.expiring',
      'grant.expired',
      'cycle.renewed',
    ]) {
      assert.ok(types.includes(type), `${type} arrived (got ${types.join(', ')})`);
    }
    const sequences = got.map((e) => e.sequence as number).sort((a, b) => a - b);
    assert.deepEqual(
      sequences,
      sequences.map((_, i) => i + 1),
    );
    assert.ok(got.every((e) => e.account === 'e'));
  });
});
