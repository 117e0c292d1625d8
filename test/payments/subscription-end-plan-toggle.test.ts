import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/default-config.ts';
import { parseConfig } from '../../src/config/index.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { PaymentCommand } from '../../src/core/payment-command.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

// When a subscription ends, the account restarts a cycle on the default plan with its allocation.
// Plan changes in that cycle grant at most the highest allocation held in it, as in any cycle.

const DAY = 24 * 3600 * 1000;

/** A ledger on a fresh SQLite file whose default plan is `defaultPlan`; `u1` subscribed to pro, then the subscription ended. */
async function restartedFromPro(defaultPlan: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tm-restart-'));
  const store = new SqliteStore({ path: join(dir, 'ledger.db') });
  await store.migrate();
  const catalog = parseConfig({ ...defaultConfig(), default_plan: defaultPlan }, 'restart test');
  const clock = new ManualClock('2026-01-15T10:00:00Z');
  const ledger = new TokenLedger({ store, catalog, clock });
  let seq = 0;
  const send = (command: PaymentCommand) =>
    ledger.payments.applyEvent({ provider: 'stripe', eventId: `evt_${++seq}`, eventType: command.type, command });
  const p0 = clock.now();
  await ledger.payments.startPayment({
    provider: 'stripe',
    reference: 'cs_plan',
    account: 'u1',
    package: ledger.payments.findPackage('plan_pro'),
  });
  const subscription = { subscriptionId: 'sub_1', amount: 19900, currency: 'usd' };
  await send({
    type: 'checkout_paid',
    reference: 'cs_plan',
    account: 'u1',
    packageId: 'plan_pro',
    paymentIntent: null,
    customerId: null,
    ...subscription,
  });
  await send({
    type: 'invoice_paid',
    invoiceId: 'in_1',
    periodStart: p0,
    periodEnd: p0 + 30 * DAY,
    billingReason: 'subscription_create',
    paymentIntent: 'pi_1',
    ...subscription,
  });
  clock.advance(DAY);
  await send({ type: 'subscription_deleted', subscriptionId: 'sub_1' });
  return {
    ledger,
    async toggle(plans: string[]) {
      for (const plan of plans) await ledger.setPlan({ account: 'u1', plan, reason: 'toggle', actor: 'ops' });
    },
    async close() {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('plan changes in the cycle a subscription’s end restarted', () => {
  it('regression: toggling free/pro grants up to pro’s 5,000 once (it granted 5,100)', async () => {
    const t = await restartedFromPro('free');
    try {
      const restarted = await t.ledger.getBalance('u1');
      assert.deepEqual([restarted.plan, restarted.allocation], ['free', 100]);
      await t.toggle(['pro', 'free', 'pro', 'free', 'pro']);
      const view = await t.ledger.getBalance('u1');
      assert.equal(view.cycleStart, restarted.cycleStart, 'still the restarted cycle');
      // Free's 100 on the restart, +4,900 on the first upgrade; nothing was spent.
      assert.deepEqual([view.plan, view.allocation], ['pro', 5000]);
      assert.deepEqual((await t.ledger.reconcile()).drift, []);
    } finally {
      await t.close();
    }
  });

  it('regression: a restart’s rollover is no grant, and an upgrade after it adds new − old once (it granted 6,500)', async () => {
    const t = await restartedFromPro('starter');
    try {
      // Starter's 1,000 plus 500 of pro's unused rolled over (starter's cap); the rest expired.
      const restarted = await t.ledger.getBalance('u1');
      assert.deepEqual([restarted.plan, restarted.allocation, restarted.rolledOver], ['starter', 1500, 500]);
      await t.toggle(['pro', 'starter', 'pro']);
      // +4,000 on the upgrade: 5,000 granted in the cycle (pro's), the 500 rolled over on top.
      assert.equal((await t.ledger.getBalance('u1')).allocation, 5500);
      // As a renewal: the unused beyond the cap expires, the restart's entry grants the plan's allocation.
      const restart = (await t.ledger.history('u1', { limit: 5 })).entries.slice(3);
      assert.deepEqual(
        restart.map((e) => [e.kind, e.allocationDelta]),
        [
          ['plan_change', 1000],
          ['cycle_expiry', -5500],
        ],
      );
      assert.deepEqual((await t.ledger.reconcile()).drift, []);
    } finally {
      await t.close();
    }
  });
});
