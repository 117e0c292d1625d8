import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { accepted, refused } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const DAY = 24 * 3600 * 1000;
const ops = { reason: 'test', actor: 'ops' };

/**
 * The outbox's events of one account, oldest first, as written. Not through the feed: on
 * PostgreSQL it withholds an event while any older transaction in the cluster runs (another test
 * file's, say); that rule has its own test (test/store/events-feed-pg.test.ts).
 */
async function eventsOf(ledger: TokenLedger, account: string) {
  return (await ledger.store.service.accountEvents(account, { before: null, limit: 1000 })).reverse();
}

const summary = (events: Awaited<ReturnType<typeof eventsOf>>) =>
  events.map((e) => [e.sequence, e.type, (e.data as { available?: number }).available ?? null]);

conformance('events (the outbox)', (get) => {
  it('crossing the plan’s low-balance threshold and zero writes balance.low then balance.depleted, once each; a refusal writes none', async () => {
    const { ledger } = get();
    await ledger.createAccount({ account: 'a' }); // free: 100, threshold 10
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 85 }));
    assert.deepEqual(summary(await eventsOf(ledger, 'a')), []);
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 6 })); // 9
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 4 })); // 5: still low, no new event
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 5 })); // 0
    refused(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const events = await eventsOf(ledger, 'a');
    assert.deepEqual(summary(events), [
      [1, 'balance.low', 9],
      [2, 'balance.depleted', 0],
    ]);
    assert.deepEqual(events[0]?.data, { account: 'a', available: 9, threshold: 10 });
    assert.match(events[0]?.id ?? '', /^evt_[0-9a-f]{32}$/);
  });

  it('balance.recovered when tokens come back, and balance.low re-arms only once available is at or above the threshold again', async () => {
    const { ledger } = get();
    await ledger.createAccount({ account: 'r' });
    await ledger.adjust({ account: 'r', amount: -100, ...ops }); // 0: depleted (from 100: not low)
    await ledger.adjust({ account: 'r', amount: 5, ...ops }); // 5: recovered, not low (it came from below)
    await ledger.adjust({ account: 'r', amount: -2, ...ops }); // 3: nothing
    await ledger.adjust({ account: 'r', amount: 20, ...ops }); // 23: re-armed
    await ledger.adjust({ account: 'r', amount: -15, ...ops }); // 8: low again
    assert.deepEqual(summary(await eventsOf(ledger, 'r')), [
      [1, 'balance.depleted', 0],
      [2, 'balance.recovered', 5],
      [3, 'balance.low', 8],
    ]);
  });

  it('an account’s own threshold replaces its plan’s; null goes back to the plan’s', async () => {
    const { ledger } = get();
    await ledger.createAccount({ account: 't' });
    assert.equal(await ledger.store.service.setLowBalanceThreshold('t', 50), true);
    accepted(await ledger.deduct({ account: 't', feature: 'social_post', quantity: 51 })); // 49 < 50
    assert.equal(await ledger.store.service.setLowBalanceThreshold('t', null), true);
    await ledger.adjust({ account: 't', amount: 1, ...ops }); // 50
    accepted(await ledger.deduct({ account: 't', feature: 'social_post', quantity: 41 })); // 9 < 10
    assert.deepEqual(
      (await eventsOf(ledger, 't')).map((e) => e.data),
      [
        { account: 't', available: 49, threshold: 50 },
        { account: 't', available: 9, threshold: 10 },
      ],
    );
    assert.equal(await ledger.store.service.setLowBalanceThreshold('nobody', 5), false);
  });

  it('many concurrent deductions across the threshold and to zero write exactly one balance.low and one balance.depleted', async () => {
    const { ledger } = get();
    await ledger.createAccount({ account: 'c' });
    const results = await Promise.all(
      Array.from({ length: 200 }, () => ledger.deduct({ account: 'c', feature: 'outbound_call_single' })),
    );
    assert.equal(results.filter((r) => r.ok).length, 100);
    const events = await eventsOf(ledger, 'c');
    assert.deepEqual(
      events.map((e) => [e.sequence, e.type]),
      [
        [1, 'balance.low'],
        [2, 'balance.depleted'],
      ],
    );
  });

  it('a renewal is cycle.renewed at its boundary, and a refill it brings is balance.recovered stamped at the boundary', async () => {
    const { ledger, clock } = get();
    await ledger.createAccount({ account: 'n', plan: 'starter' }); // 1,000 a month, rollover up to 500
    accepted(await ledger.deduct({ account: 'n', feature: 'social_post', quantity: 1000 }));
    const boundary = (await ledger.getBalance('n')).nextReset;
    assert.ok(boundary);
    clock.set(boundary + DAY);
    accepted(await ledger.deduct({ account: 'n', feature: 'social_post', quantity: 1 }));
    const events = await eventsOf(ledger, 'n');
    assert.deepEqual(
      events.map((e) => [e.type, e.timestamp]),
      [
        ['balance.depleted', events[0]?.timestamp],
        ['cycle.renewed', new Date(boundary).toISOString()],
        ['balance.recovered', new Date(boundary).toISOString()],
      ],
    );
    assert.deepEqual(events[1]?.data, { account: 'n', granted: 1000, rolled_over: 0, expired: 0 });
    // In the feed's order (position) an account's events run in sequence, those of one write included.
    assert.deepEqual(
      events.map((e) => e.sequence),
      [1, 2, 3],
    );
  });

  it('a promotional grant’s expiry is grant.expired with what it lost; a plan change is plan.changed', async () => {
    const { ledger, clock } = get();
    await ledger.createAccount({ account: 'g' });
    const bonus = await ledger.grant({
      account: 'g',
      tokens: 30,
      category: 'promotional',
      expiresAt: clock.now() + 2 * DAY,
      ...ops,
    });
    clock.advance(3 * DAY);
    await ledger.setPlan({ account: 'g', plan: 'starter', ...ops });
    const events = await eventsOf(ledger, 'g');
    assert.deepEqual(
      events.map((e) => e.sequence),
      events.map((_, i) => i + 1),
    );
    const expired = events.find((e) => e.type === 'grant.expired');
    assert.deepEqual(expired?.data, { account: 'g', grant_id: bonus.id, tokens: 30 });
    assert.equal(expired?.timestamp, new Date(bonus.expiresAt ?? 0).toISOString());
    assert.deepEqual(events.find((e) => e.type === 'plan.changed')?.data, {
      account: 'g',
      from: 'free',
      to: 'starter',
    });
  });
});
