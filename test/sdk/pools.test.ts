import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MembershipJson, TokenMeterApiError, TokenMeterConnectionError } from '../../src/sdk/index.ts';
import { ADMIN_KEY, type LiveService, liveService } from './sdk-helpers.ts';

const START = '2026-03-10T12:00:00.000Z';

/** Rejects with a TokenMeterApiError of this status and code whose message is about `about`. */
function apiError(status: number, code: string, about: string) {
  return (err: unknown) =>
    err instanceof TokenMeterApiError && err.status === status && err.code === code && err.message.includes(about);
}

/** A fetch whose answers are all lost after the service handled the request: counts the sends. */
function losingFetch(): { fetch: typeof fetch; sends: () => number } {
  let sends = 0;
  return {
    fetch: async (input, init) => {
      sends += 1;
      await (await fetch(input, init)).text();
      throw new TypeError('fetch failed: the answer was lost');
    },
    sends: () => sends,
  };
}

describe('TokenMeterClient shared pools against the real service', () => {
  let s: LiveService;
  before(async () => {
    s = await liveService();
  });
  after(() => s.close());

  it('joinPool answers the membership; balance, deduct and history carry the pool, as typed', async () => {
    await s.t.ledger.createAccount({ account: 'org-1' });
    const joined = await s.admin.joinPool('seat-1', { pool: 'org-1', limit_per_cycle: 10 });
    const expected: MembershipJson = {
      pool: 'org-1',
      member: 'seat-1',
      limit_per_cycle: 10,
      used_this_cycle: 0,
      held: 0,
      remaining_this_cycle: 10,
      cycle_start: START,
      joined_at: START,
    };
    assert.deepEqual(joined, { success: true, membership: expected });

    const before = await s.app.getBalance('seat-1');
    assert.deepEqual(before.pool, {
      id: 'org-1',
      available: 100,
      limit_per_cycle: 10,
      used_this_cycle: 0,
      remaining_this_cycle: 10,
    });
    assert.equal(before.available, 10);

    const charged = await s.app.deduct({ account: 'seat-1', feature: 'business_collector' });
    assert.ok(charged.ok, JSON.stringify(charged));
    assert.equal(charged.pooled, 5);
    assert.equal(charged.available, 5);
    const solo = await s.app.deduct({ account: 'solo-1', feature: 'business_collector' });
    assert.ok(solo.ok);
    assert.equal(solo.pooled, undefined, 'an account in no pool gets no pooled figure');

    const [mine] = (await s.app.history({ account: 'seat-1' })).entries;
    assert.deepEqual([mine?.pool, mine?.pooled, mine?.member, mine?.amount], ['org-1', 5, null, 0]);
    const [pools] = (await s.app.history({ account: 'org-1' })).entries;
    assert.deepEqual([pools?.pool, pools?.pooled, pools?.member, pools?.amount], [null, 0, 'seat-1', -5]);

    const members = await s.admin.poolMembers('org-1');
    assert.deepEqual(members.members, [{ ...expected, used_this_cycle: 5, remaining_this_cycle: 5 }]);
    const usage = await s.admin.memberUsage('org-1', 'seat-1', { days: 7 });
    assert.deepEqual(usage, {
      success: true,
      pool: 'org-1',
      member: 'seat-1',
      from: '2026-03-03T12:00:00.000Z',
      to: START,
      days: [{ day: '2026-03-10', tokens: 5 }],
    });
  });

  it('listAccounts({pool: true}) lists only members, each row naming its pool', async () => {
    await s.t.ledger.createAccount({ account: 'org-2' });
    await s.t.ledger.createAccount({ account: 'bystander-2' });
    await s.admin.joinPool('seat-2', { pool: 'org-2', limit_per_cycle: null });
    const page = await s.admin.listAccounts({ pool: true, query: '-2' });
    assert.deepEqual(
      page.accounts.map((a) => [a.account, a.pool]),
      [['seat-2', 'org-2']],
    );
    const all = await s.admin.listAccounts({ query: '-2' });
    assert.deepEqual(
      all.accounts.map((a) => [a.account, a.pool]),
      [
        ['bystander-2', null],
        ['org-2', null],
        ['seat-2', 'org-2'],
      ],
    );
  });

  it('leavePool sends DELETE and answers the pool left; leaving again is 404 not_found', async () => {
    await s.t.ledger.createAccount({ account: 'org-3' });
    await s.admin.joinPool('seat-3', { pool: 'org-3', limit_per_cycle: null });
    assert.deepEqual(await s.admin.leavePool('seat-3'), {
      success: true,
      membership: { pool: 'org-3', member: 'seat-3' },
    });
    assert.equal((await s.app.getBalance('seat-3')).pool, null);
    assert.deepEqual((await s.admin.poolMembers('org-3')).members, []);
    await assert.rejects(() => s.admin.leavePool('seat-3'), apiError(404, 'not_found', 'seat-3'));
  });

  it('bad input and missing pools are TokenMeterApiError naming the field; an app key is 403', async () => {
    await s.t.ledger.createAccount({ account: 'org-4' });
    for (const limit of [-1, 1.5]) {
      await assert.rejects(
        () => s.admin.joinPool('seat-4', { pool: 'org-4', limit_per_cycle: limit }),
        apiError(400, 'invalid_request', 'limit_per_cycle'),
      );
    }
    await assert.rejects(
      () => s.admin.joinPool('org-4', { pool: 'org-4', limit_per_cycle: null }),
      apiError(400, 'invalid_request', 'pool'),
    );
    await assert.rejects(
      () => s.admin.joinPool('seat-4', { pool: 'no-such-org', limit_per_cycle: null }),
      apiError(404, 'not_found', 'no-such-org'),
    );
    await assert.rejects(() => s.admin.poolMembers('no-such-org'), apiError(404, 'not_found', 'no-such-org'));
    await assert.rejects(
      () => s.app.joinPool('seat-4', { pool: 'org-4', limit_per_cycle: null }),
      (err: unknown) => err instanceof TokenMeterApiError && err.status === 403,
    );
    assert.equal((await s.t.ledger.getBalance('seat-4')).exists, false);
  });

  it('a lost answer: joinPool is sent again (the same PUT changes nothing), leavePool is not', async () => {
    await s.t.ledger.createAccount({ account: 'org-5' });
    const joining = losingFetch();
    const joiner = s.client({ apiKey: ADMIN_KEY, fetch: joining.fetch, retries: 2 });
    await assert.rejects(
      () => joiner.joinPool('seat-5', { pool: 'org-5', limit_per_cycle: 7 }),
      TokenMeterConnectionError,
    );
    assert.equal(joining.sends(), 3);
    const [member] = (await s.admin.poolMembers('org-5')).members;
    assert.deepEqual([member?.member, member?.limit_per_cycle, member?.joined_at], ['seat-5', 7, START]);

    const leaving = losingFetch();
    const leaver = s.client({ apiKey: ADMIN_KEY, fetch: leaving.fetch, retries: 2 });
    await assert.rejects(() => leaver.leavePool('seat-5'), TokenMeterConnectionError);
    assert.equal(leaving.sends(), 1, 'a DELETE whose answer was lost is not sent again');
    assert.equal((await s.app.getBalance('seat-5')).pool, null, 'the one send took effect');
  });
});
