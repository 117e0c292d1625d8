import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { type AccountUsageReport, BALANCE_SERIES_POINTS } from '../../src/ledger/operator-queries.ts';
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

interface Use {
  account: string;
  at: number;
  tokens: number;
}

const byteWise = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);

/** The reference for usage per account: totals over the window, the top by tokens then id byte-wise, per day. */
function referenceAccountUsage(
  uses: Use[],
  from: number,
  to: number,
  top: number,
): Omit<AccountUsageReport, 'from' | 'to'> {
  const inWindow = uses.filter((u) => u.at >= from && u.at <= to);
  const totals = new Map<string, { account: string; tokens: number; uses: number }>();
  for (const u of inWindow) {
    const t = totals.get(u.account) ?? { account: u.account, tokens: 0, uses: 0 };
    t.tokens += u.tokens;
    t.uses += 1;
    totals.set(u.account, t);
  }
  const ranked = [...totals.values()].sort((a, b) => b.tokens - a.tokens || byteWise(a.account, b.account));
  const accounts = ranked.slice(0, top);
  const rest = ranked.slice(top);
  const perDay = (who: (u: Use) => boolean, account: string | null) => {
    const days = new Map<string, { day: string; account: string | null; tokens: number; uses: number }>();
    for (const u of inWindow.filter(who)) {
      const d = days.get(dayOf(u.at)) ?? { day: dayOf(u.at), account, tokens: 0, uses: 0 };
      d.tokens += u.tokens;
      d.uses += 1;
      days.set(d.day, d);
    }
    return [...days.values()].sort((a, b) => (a.day < b.day ? -1 : 1));
  };
  const named = new Set(accounts.map((a) => a.account));
  return {
    accounts,
    others:
      rest.length === 0
        ? null
        : {
            accounts: rest.length,
            tokens: rest.reduce((n, a) => n + a.tokens, 0),
            uses: rest.reduce((n, a) => n + a.uses, 0),
          },
    days: [
      ...accounts.flatMap((a) => perDay((u) => u.account === a.account, a.account)),
      ...perDay((u) => !named.has(u.account), null),
    ],
  };
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
  it('usage per account: the top accounts by tokens in the window (ties by id byte-wise), per day, the rest as others', async () => {
    const { ledger, db, clock } = get();
    // Before the window: the most tokens of all, which must not count.
    accepted(await ledger.deduct({ account: 'early', feature: 'business_collector', quantity: 10 }));
    clock.set('2026-02-01T10:00:00Z');
    accepted(await ledger.deduct({ account: 'b', feature: 'crm_ai_agent' }));
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 5 }));
    accepted(await ledger.deduct({ account: 'c', feature: 'social_post', quantity: 3 }));
    // Not use: an adjustment, and a hold released without a commit.
    await ledger.adjust({ account: 'f', amount: -10, reason: 'correction', actor: 't' });
    const released = accepted(await ledger.reserve({ account: 'f', feature: 'business_collector' }));
    accepted(await ledger.releaseHold(released.holdId));
    clock.set('2026-02-02T10:00:00Z');
    const hold = accepted(await ledger.reserve({ account: 'b', feature: 'business_collector' }));
    accepted(await ledger.commitHold(hold.holdId, 5));
    accepted(await ledger.deduct({ account: 'Z', feature: 'social_post', quantity: 3 }));
    accepted(await ledger.deduct({ account: 'd', feature: 'social_post' }));
    // After the window.
    clock.set('2026-02-03T10:00:00Z');
    accepted(await ledger.deduct({ account: 'a', feature: 'business_collector', quantity: 4 }));
    const from = Date.parse('2026-02-01T00:00:00Z');
    const to = Date.parse('2026-02-02T23:59:59.999Z');

    // 'Z' and 'c' tie on 3: byte-wise 'Z' comes first (a locale order would put 'c' first).
    const report = await ledger.operator.usageByAccount({ from, to, top: 3 });
    assert.deepEqual(report, {
      from,
      to,
      accounts: [
        { account: 'b', tokens: 7, uses: 2 },
        { account: 'a', tokens: 5, uses: 1 },
        { account: 'Z', tokens: 3, uses: 1 },
      ],
      others: { accounts: 2, tokens: 4, uses: 2 },
      days: [
        { day: '2026-02-01', account: 'b', tokens: 2, uses: 1 },
        { day: '2026-02-02', account: 'b', tokens: 5, uses: 1 },
        { day: '2026-02-01', account: 'a', tokens: 5, uses: 1 },
        { day: '2026-02-02', account: 'Z', tokens: 3, uses: 1 },
        { day: '2026-02-01', account: null, tokens: 3, uses: 1 },
        { day: '2026-02-02', account: null, tokens: 1, uses: 1 },
      ],
    });
    // Every account fits: no others.
    const all = await ledger.operator.usageByAccount({ from, to });
    assert.deepEqual(
      all.accounts.map((a) => a.account),
      ['b', 'a', 'Z', 'c', 'd'],
    );
    assert.equal(all.others, null);
    assert.equal((await db.store.service.usageByAccount(from, to, 10)).accounts, 5);
    // The window moves the ranking: up to now, 'a' used the most.
    const upToNow = await ledger.operator.usageByAccount({ from, top: 1 });
    assert.deepEqual(upToNow.accounts, [{ account: 'a', tokens: 25, uses: 2 }]);
    assert.deepEqual(upToNow.others, { accounts: 4, tokens: 14, uses: 5 });
    // The per-feature chart and the per-account one count the same use.
    const perFeature = await ledger.operator.usageByDay({ from, to });
    assert.equal(
      perFeature.reduce((n, u) => n + u.tokens, 0),
      report.days.reduce((n, u) => n + u.tokens, 0),
    );
    // A window without use.
    const none = await ledger.operator.usageByAccount({ from: to + 86_400_000 * 5, to: to + 86_400_000 * 6 });
    assert.deepEqual([none.accounts, none.others, none.days], [[], null, []]);
    await assert.rejects(ledger.operator.usageByAccount({ from, to, top: 0 }), { code: 'invalid_request' });
    await assert.rejects(ledger.operator.usageByAccount({ from: to, to: from }), { code: 'invalid_request' });
  });

  it('property: usage per account matches a reference over any uses, window and number of top accounts', async () => {
    const { ledger, clock } = get();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            who: fc.constantFrom('a', 'B', 'b', 'a-1', 'Ω'),
            day: fc.integer({ min: 0, max: 4 }),
            quantity: fc.integer({ min: 1, max: 3 }),
          }),
          { maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        async (planned, top, d1, d2) => {
          // Each run on days of its own, with accounts of its own, so runs cannot see each other.
          run += 1;
          const base = Date.parse('2026-02-01T00:00:00Z') + run * 8 * DAY;
          const uses: Use[] = [];
          for (const p of [...planned].sort((x, y) => x.day - y.day)) {
            clock.set(base + p.day * DAY + 6 * 3_600_000);
            const account = `r${run}-${p.who}`;
            accepted(await ledger.deduct({ account, feature: 'social_post', quantity: p.quantity }));
            uses.push({ account, at: clock.now(), tokens: p.quantity });
          }
          // Both ends fall exactly on a use's time: the window includes them.
          const from = base + Math.min(d1, d2) * DAY + 6 * 3_600_000;
          const to = base + Math.max(d1, d2) * DAY + 6 * 3_600_000;
          const report = await ledger.operator.usageByAccount({ from, to, top });
          assert.deepEqual(report, { from, to, ...referenceAccountUsage(uses, from, to, top) });
        },
      ),
      { numRuns: RUNS },
    );
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
