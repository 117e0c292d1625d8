import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { BALANCE_SERIES_POINTS } from '../../src/ledger/operator-queries.ts';
import type { AccountSort } from '../../src/store/service-store.ts';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const RUNS = Number(process.env.TOKENMETER_PROPERTY_RUNS ?? 12);
const DAY = 86_400_000;

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
  it('balance series: every entry when they fit, else the last entry of each time bucket', async () => {
    const { ledger, db, clock } = get();
    const from = clock.now();
    // Uneven gaps, several entries at one instant, so buckets hold 0, 1 or many entries.
    for (let i = 0; i < 40; i += 1) {
      await ledger.deduct({ account: 'series', feature: 'social_post' });
      if (i % 3 !== 0) clock.advance(((i * 7919) % 13) * 3_600_000);
    }
    const to = clock.now();
    const entries = (await ledger.history('series', { limit: 100 })).entries.reverse();
    const all = entries.map((e) => ({ at: e.at, balance: e.balanceAfter }));
    assert.deepEqual(await db.store.service.balanceSeries('series', from, to, entries.length), all);
    const points = 7;
    const width = Math.ceil((to - from + 1) / points);
    const lastPerBucket = new Map<number, { at: number; balance: number }>();
    for (const e of all) lastPerBucket.set(Math.floor((e.at - from) / width), e);
    const series = await db.store.service.balanceSeries('series', from, to, points);
    assert.deepEqual(series, [...lastPerBucket.values()]);
    assert.ok(series.length <= points);
    assert.deepEqual(series.at(-1), all.at(-1));
  });

  it(`regression (the balance chart kept a busy account's oldest entries): past ${BALANCE_SERIES_POINTS} entries the series still ends at the current balance`, async () => {
    const { ledger, clock } = get();
    await ledger.adjust({ account: 'busy', amount: 10_000, reason: 'setup', actor: 't' });
    const rounds = 12;
    const perRound = Math.ceil((BALANCE_SERIES_POINTS + 100) / rounds);
    for (let round = 0; round < rounds; round += 1) {
      clock.advance(5 * DAY);
      const results = await Promise.all(
        Array.from({ length: perRound }, () => ledger.deduct({ account: 'busy', feature: 'social_post' })),
      );
      for (const r of results) accepted(r);
    }
    const now = clock.now();
    const current = (await ledger.getBalance('busy')).balance;
    const whole = await ledger.operator.balanceSeries('busy', {});
    assert.ok(whole.points.length <= BALANCE_SERIES_POINTS + 1, `${whole.points.length} points`);
    assert.deepEqual(whole.points.at(-1), { at: now, balance: current });
    assert.ok(whole.points.every((p) => p.at >= whole.from && p.at <= whole.to));
    // A window that starts after the first entry opens with the balance at its start.
    const from = now - 30 * DAY;
    const recent = await ledger.operator.balanceSeries('busy', { from });
    assert.deepEqual(recent.points[0], { at: from, balance: await ledger.balanceAt('busy', from - 1) });
    assert.ok(recent.points.every((p) => p.at >= from));
    assert.deepEqual(recent.points.at(-1), { at: now, balance: current });
    assert.ok(recent.points.length <= BALANCE_SERIES_POINTS + 1);
  });
});
