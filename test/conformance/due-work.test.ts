import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DueWorkScheduler } from '../../src/events/due-work.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { createLogger } from '../../src/log/logger.ts';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const DAY = 24 * 3600 * 1000;
const ops = { reason: 'test', actor: 'ops' };

const typesOf = async (ledger: TokenLedger, account: string) =>
  (await ledger.store.service.accountEvents(account, { before: null, limit: 100 }))
    .reverse()
    .map((e) => [e.type, e.timestamp]);

conformance('time-driven work (expiries, renewals, reminders)', (get) => {
  const scheduler = (ledger: TokenLedger, clock: { now(): number }) =>
    new DueWorkScheduler({
      ledger,
      outbox: ledger.store.service,
      clock,
      logger: createLogger({ level: 'silent' }),
      noticeMs: 7 * DAY,
    });

  it('a grant expiring soon is announced once; at its expiry the expiry is recorded with no other write', async () => {
    const { ledger, clock } = get();
    await ledger.createAccount({ account: 'x' });
    const bonus = await ledger.grant({
      account: 'x',
      tokens: 40,
      category: 'promotional',
      expiresAt: clock.now() + 3 * DAY,
      ...ops,
    });
    const work = scheduler(ledger, clock);
    try {
      await work.round();
      await work.round();
      const expiresAt = new Date(bonus.expiresAt ?? 0).toISOString();
      const announced = (await ledger.store.service.accountEvents('x', { before: null, limit: 100 })).reverse();
      assert.deepEqual(
        announced.map((e) => [e.type, e.data]),
        [['grant.expiring', { account: 'x', grant_id: bonus.id, tokens: 40, expires_at: expiresAt }]],
      );
      clock.advance(3 * DAY + 1000);
      await work.round();
      const expiries = (await ledger.history('x')).entries.filter((e) => e.kind === 'grant_expiry');
      assert.deepEqual(
        expiries.map((e) => [e.amount, e.at]),
        [[-40, bonus.expiresAt]],
      );
      assert.deepEqual((await typesOf(ledger, 'x')).at(-1), ['grant.expired', expiresAt]);
      assert.deepEqual((await ledger.reconcile()).drift, []);
    } finally {
      await work.stop();
    }
  });

  it('a cycle boundary renews the allocation at its time, and a hold that runs out frees its tokens', async () => {
    const { ledger, clock } = get();
    await ledger.createAccount({ account: 'y' });
    accepted(await ledger.deduct({ account: 'y', feature: 'social_post', quantity: 100 }));
    const boundary = (await ledger.getBalance('y')).nextReset ?? 0;
    const work = scheduler(ledger, clock);
    try {
      clock.set(boundary + 1000);
      await work.round();
      // Recorded by the round, with no request from the account, stamped at the boundary.
      assert.deepEqual((await typesOf(ledger, 'y')).slice(1), [
        ['cycle.renewed', new Date(boundary).toISOString()],
        ['balance.recovered', new Date(boundary).toISOString()],
      ]);
      const hold = await ledger.reserve({ account: 'y', amount: 100, ttlSeconds: 60 });
      assert.equal(hold.ok, true);
      clock.advance(61_000);
      await work.round();
      const types = (await typesOf(ledger, 'y')).map(([t]) => t);
      assert.deepEqual(types.slice(3), ['balance.depleted', 'balance.recovered']);
      assert.equal((await ledger.getBalance('y')).held, 0);
    } finally {
      await work.stop();
    }
  });
  it('a grant that takes effect later is recorded at its start with no other write, and the refill is balance.recovered then', async () => {
    const { ledger, clock } = get();
    await ledger.createAccount({ account: 'z' });
    accepted(await ledger.deduct({ account: 'z', feature: 'social_post', quantity: 100 }));
    const start = clock.now() + 2 * DAY;
    await ledger.grant({ account: 'z', tokens: 30, category: 'paid', effectiveAt: start, ...ops });
    const work = scheduler(ledger, clock);
    try {
      await work.round();
      assert.deepEqual(
        (await typesOf(ledger, 'z')).map(([t]) => t),
        ['balance.depleted'],
      );
      clock.advance(2 * DAY + 1000);
      await work.round();
      assert.deepEqual((await typesOf(ledger, 'z')).at(-1), ['balance.recovered', new Date(start).toISOString()]);
      const starts = (await ledger.history('z')).entries.filter((e) => e.kind === 'grant' && e.amount === 30);
      assert.deepEqual(
        starts.map((e) => e.at),
        [start],
      );
    } finally {
      await work.stop();
    }
  });
});
