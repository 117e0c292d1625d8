import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultConfig } from '../../src/config/default-config.ts';
import { parseConfig } from '../../src/config/index.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { LedgerEntry } from '../../src/core/entry.ts';
import type { PaymentCommand } from '../../src/core/payment-command.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { backends } from '../helpers/backends.ts';

// Written from the rule, not from src/core: plan changes grant at most the highest
// allocation held in the cycle, also in a cycle a subscription's end restarted on the default
// plan (its allocation is granted; what rolled over is not) and in an imported account's first
// cycle (the account held its plan's month in the legacy app, used or not).

const catalogs = new Map(
  ['free', 'starter'].map((id) => [id, parseConfig({ ...defaultConfig(), default_plan: id }, `default ${id}`)]),
);
const plans = [...(catalogs.get('free')?.plans.values() ?? [])];
const allocationOf = (id: string): number => plans.find((p) => p.id === id)?.monthlyAllocation ?? Number.NaN;
const capOf = (id: string): number => plans.find((p) => p.id === id)?.rolloverCap ?? Number.NaN;
const planId = fc.constantFrom(...plans.map((p) => p.id));
const DAY = 24 * 3600 * 1000;

const opArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('plan' as const), plan: planId }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('spend' as const), quantity: fc.integer({ min: 1, max: 3000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('buy' as const), tokens: fc.integer({ min: 1, max: 500 }) }) },
);

const openingArb = fc.oneof(
  fc.record({
    kind: fc.constant('restart' as const),
    defaultPlan: fc.constantFrom(...catalogs.keys()),
    subscribed: fc.constantFrom('plan_starter', 'plan_pro'),
    spent: fc.integer({ min: 0, max: 7000 }),
  }),
  fc.record({
    kind: fc.constant('import' as const),
    plan: planId,
    balance: fc.integer({ min: -300, max: 9000 }),
  }),
);

const runArb = fc.record({
  opening: openingArb,
  // Inside the cycle: at most 25 half days.
  ops: fc.array(fc.tuple(opArb, fc.integer({ min: 0, max: Math.floor(DAY / 2) })), { maxLength: 25 }),
});

type Opening = typeof openingArb extends fc.Arbitrary<infer T> ? T : never;

/** Subscribes `a` to `subscribed`, spends `spent` of what it can, ends the subscription, and checks the restart. */
async function restart(ledger: TokenLedger, clock: ManualClock, o: Extract<Opening, { kind: 'restart' }>) {
  let seq = 0;
  const send = (command: PaymentCommand) =>
    ledger.payments.applyEvent({ provider: 'stripe', eventId: `evt_${++seq}`, eventType: command.type, command });
  const pkg = ledger.payments.findPackage(o.subscribed);
  await ledger.payments.startPayment({ provider: 'stripe', reference: 'cs', account: 'a', package: pkg });
  const sub = { subscriptionId: 'sub', amount: pkg.priceCents, currency: pkg.currency };
  await send({
    type: 'checkout_paid',
    reference: 'cs',
    account: 'a',
    packageId: o.subscribed,
    paymentIntent: null,
    customerId: null,
    ...sub,
  });
  const p0 = clock.now();
  const invoice = { invoiceId: 'in', periodStart: p0, periodEnd: p0 + 30 * DAY, paymentIntent: 'pi', ...sub };
  await send({ type: 'invoice_paid', billingReason: 'subscription_create', ...invoice });
  const before = await ledger.getBalance('a');
  const spend = Math.min(o.spent, before.available);
  if (spend > 0) await ledger.deduct({ account: 'a', feature: 'social_post', quantity: spend });
  clock.advance(DAY);
  const unused = (await ledger.getBalance('a')).allocation;
  await send({ type: 'subscription_deleted', subscriptionId: 'sub' });
  const after = await ledger.getBalance('a');
  const rollover = Math.min(unused, capOf(o.defaultPlan));
  assert.deepEqual(
    [after.plan, after.allocation, after.rolledOver],
    [o.defaultPlan, allocationOf(o.defaultPlan) + rollover, rollover],
    'a restart grants the default plan’s allocation and keeps the rollover up to its cap',
  );
}

/**
 * Walks the cycle's entries after its opening (the restart's or the import's), oldest first:
 * every plan change grants within [0, new − old], and the cycle grants at most the highest
 * allocation held in it; holding that highest plan, it has granted it in full.
 */
function checkCycle(entries: LedgerEntry[], start: string, targets: Map<number, string>): void {
  let plan = start;
  let granted = allocationOf(start);
  let highest = granted;
  for (const e of entries) {
    assert.notEqual(e.kind, 'cycle_grant', 'stayed inside one cycle');
    const target = targets.get(e.id);
    if (e.kind !== 'plan_change') continue;
    assert.ok(target !== undefined, `plan_change ${e.id} is one of ours`);
    assert.ok(e.allocationDelta >= 0, 'a plan change never takes allocation');
    assert.ok(e.allocationDelta <= Math.max(0, allocationOf(target) - allocationOf(plan)), 'at most new − old');
    plan = target;
    granted += e.allocationDelta;
    highest = Math.max(highest, allocationOf(plan));
    assert.ok(granted <= highest, `granted ${granted} in a cycle whose highest allocation held is ${highest}`);
  }
  if (allocationOf(plan) === highest) assert.equal(granted, highest, 'holding the highest plan, the cycle granted it');
}

for (const backend of backends()) {
  describe(`plan changes after a restart or an import, on a real store [${backend.name}] (fast-check)`, () => {
    const numRuns = backend.name === 'sqlite' ? 40 : 8;

    it('any sequence of plan changes grants at most the highest allocation held in the cycle, and reconciles clean', async () => {
      await fc.assert(
        fc.asyncProperty(runArb, async ({ opening, ops }) => {
          const db = await backend.open();
          const catalog = catalogs.get(opening.kind === 'restart' ? opening.defaultPlan : 'free');
          assert.ok(catalog);
          const clock = new ManualClock('2026-03-31T10:00:00Z');
          const ledger = new TokenLedger({ store: db.store, catalog, clock });
          const targets = new Map<number, string>();
          let refs = 0;
          try {
            if (opening.kind === 'restart') await restart(ledger, clock, opening);
            else
              await ledger.importAccount({
                account: 'a',
                plan: opening.plan,
                balance: opening.balance,
                usedThisCycle: 0,
              });
            const openedAt = (await ledger.history('a', { limit: 1 })).entries[0]?.id ?? 0;
            for (const [o, wait] of ops) {
              clock.advance(wait);
              if (o.op === 'plan') {
                const r = await ledger.setPlan({ account: 'a', plan: o.plan, reason: 'property', actor: 't' });
                if (r.entryId !== null) targets.set(r.entryId, o.plan);
              } else if (o.op === 'spend') {
                await ledger.deduct({ account: 'a', feature: 'social_post', quantity: o.quantity });
              } else {
                await ledger.credit({ account: 'a', tokens: o.tokens, source: 'property', reference: `r${refs++}` });
              }
            }
            const entries: LedgerEntry[] = [];
            for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
              const page = await ledger.history('a', { limit: 200, cursor });
              entries.push(...page.entries);
              cursor = page.nextCursor;
            }
            const cycle = entries.filter((e) => e.id > openedAt).reverse();
            checkCycle(cycle, opening.kind === 'restart' ? opening.defaultPlan : opening.plan, targets);
            assert.deepEqual((await ledger.reconcile()).drift, []);
          } finally {
            await ledger.close();
            await db.cleanup();
          }
        }),
        { numRuns },
      );
    });
  });
}
