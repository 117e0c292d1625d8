import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { AccountSort } from '../../src/store/service-store.ts';
import { conformance } from '../helpers/suite.ts';

const RUNS = Number(process.env.TOKENMETER_PROPERTY_RUNS ?? 12);

interface Listed {
  account: string;
  balance: number;
  available: number;
  updatedAt: number;
}

const key: Record<Exclude<AccountSort, 'account'>, (a: Listed) => number> = {
  balance: (a) => a.balance,
  available: (a) => a.available,
  last_activity: (a) => a.updatedAt,
};

/** The reference order: the sort key, then the id byte-wise, both in the chosen direction. */
function referenceOrder(all: Listed[], sort: AccountSort, order: 'asc' | 'desc'): string[] {
  const byId = (a: Listed, b: Listed) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0);
  const cmp = (a: Listed, b: Listed) => (sort === 'account' ? 0 : key[sort](a) - key[sort](b)) || byId(a, b);
  return [...all].sort((a, b) => (order === 'asc' ? cmp(a, b) : cmp(b, a))).map((a) => a.account);
}

conformance('operator reads', (get) => {
  it('property: paging any sort, order, filter and page size lists each matching account once, in order', async () => {
    const { ledger, clock } = get();
    // Ties on purpose (equal balances and times) so the id tiebreak is what orders them.
    const accounts = ['a', 'B', 'b', 'c-1', 'c_2', 'z', 'Ω'];
    for (const [i, account] of accounts.entries()) {
      await ledger.adjust({ account, amount: ((i * 37) % 5) * 40 - 100, reason: 'setup', actor: 't' });
      if (i % 3 === 0) clock.advance(1000);
    }
    await ledger.reserve({ account: 'c-1', amount: 30, ttlSeconds: 600 });
    const all: Listed[] = (await ledger.operator.listAccounts({ limit: 500 })).accounts.map((a) => ({
      account: a.id,
      balance: a.allocation + a.purchased,
      available: a.allocation + a.purchased - a.held,
      updatedAt: a.updatedAt,
    }));
    assert.equal(all.length, accounts.length);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<AccountSort>('account', 'balance', 'available', 'last_activity'),
        fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.boolean(),
        async (sort, order, limit, featuresDisabled, negativeBalance) => {
          const seen: string[] = [];
          let cursor: string | null = null;
          do {
            const page = await ledger.operator.listAccounts({
              sort,
              order,
              limit,
              cursor,
              filters: { featuresDisabled, negativeBalance },
            });
            assert.ok(page.accounts.length <= limit);
            seen.push(...page.accounts.map((a) => a.id));
            cursor = page.nextCursor;
          } while (cursor !== null);
          const expected = referenceOrder(
            all.filter((a) => (!featuresDisabled || a.available <= 0) && (!negativeBalance || a.balance < 0)),
            sort,
            order,
          );
          assert.deepEqual(seen, expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('usage per account and the first entry’s time', async () => {
    const { ledger, db, clock } = get();
    assert.equal(await db.store.service.firstEntryAt('u1'), null);
    const start = clock.now();
    await ledger.deduct({ account: 'u1', feature: 'social_post', quantity: 2 });
    clock.advance(86_400_000);
    await ledger.deduct({ account: 'u2', feature: 'social_post' });
    assert.equal(await db.store.service.firstEntryAt('u1'), start);
    const usage = await db.store.service.usageByDay(start - 1, clock.now(), 'u1');
    assert.deepEqual(
      usage.map((u) => [u.feature, u.tokens, u.uses]),
      [['social_post', 2, 1]],
    );
    assert.equal((await db.store.service.usageByDay(start - 1, clock.now())).length, 2);
  });
});
