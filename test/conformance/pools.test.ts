import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isTokenmeterError } from '../../src/core/errors.ts';
import type { PaymentCommand } from '../../src/core/payment-command.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { accepted, refused } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const ops = { reason: 'test', actor: 'ops' };

/** A pool with `tokens` available (a free account's 100, adjusted). */
async function pool(ledger: TokenLedger, id: string, tokens = 100): Promise<void> {
  await ledger.createAccount({ account: id });
  if (tokens !== 100) await ledger.adjust({ account: id, amount: tokens - 100, ...ops });
}

/** The error a call throws (fails when it does not throw). */
async function thrown(call: () => Promise<unknown>): Promise<{ code: string; field: string | undefined }> {
  try {
    await call();
  } catch (err) {
    if (isTokenmeterError(err)) return { code: err.code, field: err.field };
    throw err;
  }
  assert.fail('expected an error');
}

async function clean(ledger: TokenLedger): Promise<void> {
  const report = await ledger.reconcile();
  assert.deepEqual(report.drift, []);
}

conformance('shared pools', (get) => {
  it('a new member spends nothing of its own: it opens with no allocation and no bonus, and draws from the pool', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency');
    const joined = await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: null });
    assert.deepEqual(
      { pool: joined.pool, member: joined.member, limit: joined.limitPerCycle, used: joined.usedThisCycle },
      { pool: 'agency', member: 'client', limit: null, used: 0 },
    );
    const before = await ledger.getBalance('client');
    assert.equal(before.balance, 0);
    assert.equal(before.available, 100);
    assert.equal(before.featuresDisabled, false);
    assert.deepEqual(before.pool, {
      id: 'agency',
      available: 100,
      limitPerCycle: null,
      usedThisCycle: 0,
      remainingThisCycle: null,
    });

    const charged = accepted(await ledger.deduct({ account: 'client', feature: 'crm_ai_agent' }));
    assert.equal(charged.cost, 2);
    assert.equal(charged.pooled, 2);
    assert.equal(charged.balance, 0);
    assert.equal(charged.available, 98);
    assert.equal((await ledger.getBalance('agency')).balance, 98);

    // One entry on each: the member's records the whole use, the pool's names the member.
    const [memberEntry] = (await ledger.history('client')).entries;
    assert.equal(memberEntry?.kind, 'debit');
    assert.equal(memberEntry?.amount, 0);
    assert.equal(memberEntry?.pooled, 2);
    assert.equal(memberEntry?.poolId, 'agency');
    const [poolEntry] = (await ledger.history('agency')).entries;
    assert.equal(poolEntry?.amount, -2);
    assert.equal(poolEntry?.memberId, 'client');
    const [member] = await ledger.poolMembers('agency');
    assert.equal(member?.usedThisCycle, 2);
    await clean(ledger);
  });

  it('an existing member keeps what was granted to it but loses its included allocation on joining', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency');
    await ledger.createAccount({ account: 'client' }); // 100 included
    await ledger.credit({ account: 'client', tokens: 7, source: 'test', reference: 'bought' });
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 50 });
    const view = await ledger.getBalance('client');
    assert.equal(view.allocation, 0);
    assert.equal(view.purchased, 7);
    assert.equal(view.balance, 7);
    assert.equal(view.available, 57);

    // Its own 7 first, whatever their order, then the pool.
    const first = accepted(await ledger.deduct({ account: 'client', feature: 'business_collector' })); // 5
    assert.equal(first.pooled, 0);
    assert.equal(first.balance, 2);
    const second = accepted(await ledger.deduct({ account: 'client', feature: 'business_collector' })); // 2 own + 3
    assert.equal(second.pooled, 3);
    assert.equal(second.balance, 0);
    assert.equal(second.available, 47);
    assert.equal((await ledger.getBalance('agency')).balance, 97);
    await clean(ledger);
  });

  it('a limit is exact under 40 concurrent deductions by one member, and refusals quote the combined figure', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 25 });
    const results = await Promise.all(
      Array.from({ length: 40 }, () => ledger.deduct({ account: 'client', feature: 'outbound_call_single' })),
    );
    assert.equal(results.filter((r) => r.ok).length, 25);
    for (const r of results.filter((x) => !x.ok)) {
      const refusal = refused(r);
      assert.equal(refusal.code, 'insufficient_tokens');
      assert.equal(refusal.available, 0);
      assert.match(refusal.message, /Your balance is 0/);
    }
    assert.equal((await ledger.getBalance('agency')).balance, 75);
    const view = await ledger.getBalance('client');
    assert.equal(view.available, 0);
    assert.equal(view.featuresDisabled, true);
    assert.equal(view.pool?.remainingThisCycle, 0);
    assert.equal(view.pool?.usedThisCycle, 25);
    await clean(ledger);
  });

  it('members racing on one pool never overdraw it', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency', 60);
    const members = ['m1', 'm2', 'm3', 'm4', 'm5'];
    for (const m of members) await ledger.joinPool({ member: m, pool: 'agency', limitPerCycle: null });
    const results = await Promise.all(
      members.flatMap((m) =>
        Array.from({ length: 20 }, () => ledger.deduct({ account: m, feature: 'outbound_call_single' })),
      ),
    );
    assert.equal(results.filter((r) => r.ok).length, 60);
    const agency = await ledger.getBalance('agency');
    assert.equal(agency.balance, 0);
    const used = (await ledger.poolMembers('agency')).reduce((sum, m) => sum + m.usedThisCycle, 0);
    assert.equal(used, 60);
    await clean(ledger);
  });

  it('the pool spends its own tokens beside its members', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency', 10);
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: null });
    const results = await Promise.all([
      ...Array.from({ length: 8 }, () => ledger.deduct({ account: 'agency', feature: 'outbound_call_single' })),
      ...Array.from({ length: 8 }, () => ledger.deduct({ account: 'client', feature: 'outbound_call_single' })),
    ]);
    assert.equal(results.filter((r) => r.ok).length, 10);
    assert.equal((await ledger.getBalance('agency')).balance, 0);
    await clean(ledger);
  });

  it('holds reserve from the pool, count against the limit, and keep their split', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 40 });
    await ledger.credit({ account: 'client', tokens: 10, source: 'test', reference: 'own' });
    const hold = accepted(await ledger.reserve({ account: 'client', amount: 30 })); // 10 own + 20 pool
    let view = await ledger.getBalance('client');
    assert.equal(view.held, 10);
    assert.equal(view.pool?.remainingThisCycle, 20);
    assert.equal(view.available, 20);
    assert.equal((await ledger.getBalance('agency')).available, 80);
    // The limit counts the hold: 21 more cannot be taken, 20 can.
    refused(await ledger.reserve({ account: 'client', amount: 21 }));

    const committed = accepted(await ledger.commitHold(hold.holdId, 25)); // 10 own + 15 pool
    assert.equal(committed.charged, 25);
    assert.equal(committed.shortfall, 0);
    view = await ledger.getBalance('client');
    assert.equal(view.balance, 0);
    assert.equal(view.held, 0);
    assert.equal(view.pool?.usedThisCycle, 15);
    assert.equal(view.pool?.remainingThisCycle, 25);
    const agency = await ledger.getBalance('agency');
    assert.equal(agency.balance, 85);
    assert.equal(agency.held, 0);
    const [entry] = (await ledger.history('client')).entries;
    assert.equal(entry?.kind, 'hold_commit');
    assert.equal(entry?.amount, -10);
    assert.equal(entry?.pooled, 15);

    const second = accepted(await ledger.reserve({ account: 'client', amount: 20 }));
    accepted(await ledger.releaseHold(second.holdId));
    view = await ledger.getBalance('client');
    assert.equal(view.pool?.remainingThisCycle, 25);
    assert.equal((await ledger.getBalance('agency')).available, 85);
    await clean(ledger);
  });

  it('a hold reserved before leaving commits to the pool and counts for that membership', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 30 });
    const hold = accepted(await ledger.reserve({ account: 'client', amount: 12 }));
    await ledger.leavePool('client');
    const alone = await ledger.getBalance('client');
    assert.equal(alone.pool, null);
    assert.equal(alone.available, 0);
    refused(await ledger.deduct({ account: 'client', feature: 'outbound_call_single' }));

    accepted(await ledger.commitHold(hold.holdId, 12));
    assert.equal((await ledger.getBalance('agency')).balance, 88);
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 30 });
    const [member] = await ledger.poolMembers('agency');
    assert.equal(member?.usedThisCycle, 12, 'rejoining in the same cycle keeps the usage');
    await clean(ledger);
  });

  it('an expired hold frees the pool and the membership', async () => {
    const { ledger, clock } = get();
    await pool(ledger, 'agency');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 30 });
    accepted(await ledger.reserve({ account: 'client', amount: 30, ttlSeconds: 60 }));
    assert.equal((await ledger.getBalance('client')).available, 0);
    clock.advance(61_000);
    assert.equal((await ledger.getBalance('client')).available, 30);
    // The pool's own write records the expiry and frees the membership.
    accepted(await ledger.deduct({ account: 'agency', feature: 'outbound_call_single' }));
    accepted(await ledger.deduct({ account: 'client', feature: 'outbound_call_single' }));
    const [member] = await ledger.poolMembers('agency');
    assert.equal(member?.held, 0);
    assert.equal(member?.usedThisCycle, 1);
    await clean(ledger);
  });

  it("the pool's cycle boundary resets its members' usage", async () => {
    const { ledger, clock } = get();
    await pool(ledger, 'agency');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 5 });
    accepted(await ledger.deduct({ account: 'client', feature: 'business_collector' }));
    refused(await ledger.deduct({ account: 'client', feature: 'outbound_call_single' }));
    clock.advance(32 * 86_400_000);
    const view = await ledger.getBalance('client');
    assert.equal(view.pool?.usedThisCycle, 0);
    assert.equal(view.available, 5);
    accepted(await ledger.deduct({ account: 'client', feature: 'business_collector' }));
    refused(await ledger.deduct({ account: 'client', feature: 'outbound_call_single' }));
    // The member renewed with nothing of its own.
    assert.equal((await ledger.getBalance('client')).balance, 0);
    await clean(ledger);
  });

  it("a member's plan change grants it nothing; after leaving, its next cycle renews on its plan", async () => {
    const { ledger, clock } = get();
    await pool(ledger, 'agency');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: null });
    await ledger.setPlan({ account: 'client', plan: 'starter', ...ops });
    let view = await ledger.getBalance('client');
    assert.equal(view.plan, 'starter');
    assert.equal(view.balance, 0);
    await ledger.leavePool('client');
    view = await ledger.getBalance('client');
    assert.equal(view.balance, 0, 'leaving grants nothing at once');
    assert.equal(view.pool, null);
    clock.advance(32 * 86_400_000);
    assert.equal((await ledger.getBalance('client')).balance, 1_000);
    await clean(ledger);
  });

  it("a member's subscription invoice grants it nothing while it is in the pool", async () => {
    const { ledger, clock } = get();
    await pool(ledger, 'agency');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: null });
    const provider = 'stripe';
    await ledger.payments.startPayment({
      provider,
      reference: 'cs_plan',
      account: 'client',
      package: ledger.payments.findPackage('plan_starter'),
    });
    const send = (command: PaymentCommand, eventId: string) =>
      ledger.payments.applyEvent({ provider, eventId, eventType: command.type, command });
    await send(
      {
        type: 'checkout_paid',
        reference: 'cs_plan',
        account: 'client',
        packageId: 'plan_starter',
        paymentIntent: null,
        subscriptionId: 'sub_1',
        customerId: null,
        amount: 4900,
        currency: 'usd',
      },
      'evt_checkout',
    );
    await send(
      {
        type: 'invoice_paid',
        invoiceId: 'in_1',
        subscriptionId: 'sub_1',
        periodStart: clock.now(),
        periodEnd: clock.now() + 30 * 86_400_000,
        billingReason: 'subscription_create',
        paymentIntent: null,
        amount: 4900,
        currency: 'usd',
      },
      'evt_invoice',
    );
    const view = await ledger.getBalance('client');
    assert.equal(view.plan, 'starter');
    assert.equal(view.balance, 0);
    assert.equal(view.available, 100);
    await clean(ledger);
  });

  it('a keyed deduction by a member replays its first answer field for field', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 10 });
    const input = { account: 'client', feature: 'crm_ai_agent', idempotencyKey: 'run-1' };
    const first = accepted(await ledger.deduct(input));
    accepted(await ledger.deduct({ account: 'client', feature: 'crm_ai_agent' }));
    const again = accepted(await ledger.deduct(input));
    assert.deepEqual(again, { ...first, replayed: true });
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => ledger.deduct({ ...input, idempotencyKey: 'run-2' })),
    );
    const entries = concurrent.map((r) => accepted(r).entryId);
    assert.equal(new Set(entries).size, 1);
    assert.equal((await ledger.poolMembers('agency'))[0]?.usedThisCycle, 6);
    const conflict = refused(await ledger.deduct({ ...input, feature: 'social_post' }));
    assert.equal(conflict.code, 'idempotency_conflict');
  });

  it('member.limit_reached is announced on the pool once per cycle', async () => {
    const { ledger, clock } = get();
    await pool(ledger, 'agency');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 3 });
    for (let i = 0; i < 3; i++) accepted(await ledger.deduct({ account: 'client', feature: 'outbound_call_single' }));
    refused(await ledger.deduct({ account: 'client', feature: 'outbound_call_single' }));
    const types = async () =>
      (await ledger.store.service.accountEvents('agency', { before: null, limit: 100 }))
        .filter((e) => e.type === 'member.limit_reached')
        .map((e) => e.data);
    assert.deepEqual(await types(), [{ account: 'agency', pool: 'agency', member: 'client', limit: 3 }]);
    assert.deepEqual(
      (await ledger.store.service.accountEvents('client', { before: null, limit: 100 })).filter((e) =>
        e.type.startsWith('balance.'),
      ),
      [],
      'the member gets no balance events for the pool share',
    );
    clock.advance(32 * 86_400_000);
    for (let i = 0; i < 3; i++) accepted(await ledger.deduct({ account: 'client', feature: 'outbound_call_single' }));
    assert.equal((await types()).length, 2);
  });

  it('refuses bad memberships with invalid_request naming the field, writing nothing', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency');
    await pool(ledger, 'holding');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: null });
    const cases: [string, () => Promise<unknown>, string][] = [
      ['itself', () => ledger.joinPool({ member: 'agency', pool: 'agency' }), 'pool'],
      ['a pool as member', () => ledger.joinPool({ member: 'agency', pool: 'holding' }), 'member'],
      ['a member as pool', () => ledger.joinPool({ member: 'other', pool: 'client' }), 'pool'],
      [
        'a negative limit',
        () => ledger.joinPool({ member: 'x', pool: 'agency', limitPerCycle: -1 }),
        'limit_per_cycle',
      ],
      [
        'a fractional limit',
        () => ledger.joinPool({ member: 'x', pool: 'agency', limitPerCycle: 1.5 }),
        'limit_per_cycle',
      ],
    ];
    for (const [what, call, field] of cases) {
      assert.deepEqual(await thrown(call), { code: 'invalid_request', field }, what);
    }
    assert.deepEqual(await thrown(() => ledger.joinPool({ member: 'x', pool: 'nobody' })), {
      code: 'not_found',
      field: 'pool',
    });
    assert.equal((await ledger.getBalance('other')).exists, false);
    assert.equal((await ledger.getBalance('x')).exists, false);
    assert.equal((await ledger.getBalance('agency')).pool, null);
    assert.deepEqual(
      (await ledger.poolMembers('agency')).map((m) => m.member),
      ['client'],
    );
    assert.equal((await thrown(() => ledger.leavePool('agency'))).code, 'not_found');
  });

  it('the database itself holds pools to one level', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency');
    await pool(ledger, 'holding');
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: null });
    await assert.rejects(
      ledger.store.write(async (tx) => {
        await tx.pools.saveMembership({
          pool: 'holding',
          member: 'agency',
          limitPerCycle: null,
          usedThisCycle: 0,
          held: 0,
          cycleStart: 0,
          joinedAt: 0,
          updatedAt: 0,
        });
        await tx.pools.setPool('agency', 'holding');
      }),
      /one level/,
    );
  });

  it('the database refuses a membership move past its limit', async () => {
    const { ledger } = get();
    await pool(ledger, 'agency');
    const joined = await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 3 });
    const move = { pool: 'agency', member: 'client', heldDelta: 0, updatedAt: 0 };
    const at = { cycleStartBefore: joined.cycleStart, cycleStart: joined.cycleStart };
    await assert.rejects(
      ledger.store.write((tx) => tx.pools.moveMemberships([{ ...move, ...at, usedDelta: 4 }])),
      /limit/,
    );
    await ledger.store.write((tx) => tx.pools.moveMemberships([{ ...move, ...at, usedDelta: 3 }]));
    assert.equal((await ledger.poolMembers('agency'))[0]?.usedThisCycle, 3);
  });
});
