// The "bank" workload on PostgreSQL: two server processes on one database, 16 concurrent
// clients (BANK_CLIENTS, up to 64) sending random deductions, replays, holds, commits, releases,
// purchases, operator adjustments, promotional grants that expire during the run and reads to
// either server for a few seconds (BANK_SECONDS=60 in the long run), while half of the accounts
// top up automatically from a card saved at a test checkout, and two shared pools pay for six
// members that spend, hold, leave, rejoin and have their limits changed while an operator moves
// tokens in and out of the pools. Every read must lie within what the acknowledged answers allow,
// plus on those accounts the top-ups that may have happened (and never show available below zero
// unless an operator or an expiry took it there), and a member's within its own figures, its
// pool's and its usage, by the pool rules; afterwards each account's balance, pools and members
// included, is exactly its opening plus its acknowledged effects and its top-ups less what
// expired, no membership is past its limit, the ledger's credits, charges, adjustments, grants
// and expiries are exactly those (a member's pooled use moves tokens from its pool, creating and
// destroying none), every top-up is one succeeded intent, one charge and one credit, and
// reconcile is clean.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { ExpiredTokens } from '../helpers/bank-grants.ts';
import type { AccountBounds } from '../helpers/bank-model.ts';
import { BankPools } from '../helpers/bank-pools.ts';
import { BankTopups } from '../helpers/bank-topups.ts';
import { runBank } from '../helpers/bank-workload.ts';
import { createTestDatabase, pgSuiteSkip, type TestDatabase } from '../helpers/pg-server.ts';
import { call } from '../helpers/server-call.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

const SECONDS = Number(process.env.BANK_SECONDS ?? 3);
const CLIENTS = Number(process.env.BANK_CLIENTS ?? 16);
const SEED = Number(process.env.BANK_SEED ?? Math.floor(Math.random() * 1e6));
const ACCOUNTS = Array.from({ length: 8 }, (_, i) => `bank-${i}`);
const OPENING = 60;
// Operators never take tokens from the odd-indexed accounts: those top up automatically.
const TOPUP_ACCOUNTS = ACCOUNTS.filter((_, i) => i % 2 === 1);
const TOPUP = { threshold: 30, monthlyLimit: 3 };
// Two pools, three members each: with and without a limit, with and without tokens of their own.
const POOLS = ['bank-pool-a', 'bank-pool-b'];
const POOL_OPENING = 120;
const MEMBERS = POOLS.flatMap((pool, p) =>
  [
    { limit: 25, own: 0 },
    { limit: null, own: 10 },
    { limit: 8 + 30 * p, own: 5 },
  ].map((m, i) => ({ id: `${pool}-m${i}`, pool, ...m })),
);
// Opened at 0 after the run: the events are checked once the feed shows it (feed-settled.ts).
const FEED_MARKER = 'bank-feed-marker';

describe('bank workload across 2 servers (PostgreSQL)', { skip: await pgSuiteSkip() }, () => {
  let db: TestDatabase | undefined;
  // The test's own connections to the database, for what no answer says.
  const oracles: pg.Client[] = [];
  const oracle = async (url: string) => {
    const client = new pg.Client({ connectionString: url });
    oracles.push(client);
    await client.connect();
    return client;
  };
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const c of oracles) await c.end();
    for (const s of servers) await s.kill();
    await db?.drop();
  });

  it(`${CLIENTS} clients for ${SECONDS} s: every read consistent, every token accounted for`, async (t) => {
    t.diagnostic(`seed ${SEED} (repeat with BANK_SEED=${SEED})`);
    db = await createTestDatabase();
    const env = { TOKENMETER_TEST_PAYMENTS: 'true', TOKENMETER_TOPUP_RETRY_S: '0' };
    // One after the other: the first applies the migrations.
    for (let i = 0; i < 2; i++) servers.push(await startServerProcess({ databaseUrl: db.url, env }));
    const urls = servers.map((s) => s.url);
    const [first] = urls as [string];

    const costs: Record<string, number> = {};
    const features = (await call(first, 'GET', '/api/tokens/balance?account=probe')).body.features as Record<
      string,
      { cost: number }
    >;
    for (const id of ['outbound_call_single', 'crm_ai_agent', 'business_collector']) {
      costs[id] = features[id]?.cost ?? Number.NaN;
    }
    const packages = (await call(first, 'GET', '/api/payment/packages')).body.packages as {
      id: string;
      tokens: number;
    }[];
    const creditPackage = packages.find((p) => p.id === 'tokens_100');
    assert.ok(creditPackage, 'the default catalog sells tokens_100');
    for (const account of ACCOUNTS) {
      const r = await call(first, 'POST', `/api/admin/accounts/${account}/adjust`, {
        as: 'admin',
        body: { balance: OPENING, reason: 'bank opening' },
      });
      assert.equal(r.body.balance, OPENING, JSON.stringify(r.body));
    }

    const ask = await oracle(db.url);
    const topups = new BankTopups({
      oracle: await oracle(db.url),
      accounts: TOPUP_ACCOUNTS,
      package: creditPackage,
      ...TOPUP,
    });
    const pools = new BankPools({
      oracle: await oracle(db.url),
      pools: POOLS,
      opening: POOL_OPENING,
      members: MEMBERS,
    });
    const report = await runBank({
      servers: urls,
      accounts: ACCOUNTS,
      opening: OPENING,
      clients: CLIENTS,
      seconds: SECONDS,
      seed: SEED,
      costs,
      creditPackage,
      expiredTokens: expiredTokensIn(ask),
      topups,
      pools,
      feedMarker: FEED_MARKER,
    });
    const counts = Object.entries(report.counts)
      .sort()
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    t.diagnostic(counts);
    if (report.failures.length > 0) {
      for (const s of servers) t.diagnostic(`${s.url} log:\n${s.logTail(60)}`);
    }
    assert.deepEqual(report.failures, [], 'every request answered with an acknowledgement or an expected refusal');
    const tally = report.topups;
    assert.ok(tally, 'the top-ups were counted');
    t.diagnostic(`top-ups: ${JSON.stringify(Object.fromEntries(tally.perAccount))}`);
    assert.deepEqual(tally.problems, [], 'every intent settled; intents, charges, credits and used_this_month agree');
    assert.deepEqual(report.violations, [], 'every read and answer within the invariants');
    assert.ok(report.pools, 'the pools were audited');
    t.diagnostic(`pools paid ${report.pools.pooled} for their members`);
    assert.deepEqual(report.pools.problems, [], 'memberships, their entries and events as acknowledged');
    for (const what of ['read', 'deduct:charged', 'deduct:replayed', 'reserve:held', 'hold:committed']) {
      assert.ok((report.counts[what] ?? 0) > 0, `the run did some ${what} (${counts})`);
    }
    for (const what of ['hold:released', 'credit:purchased', 'adjust:applied', 'grant:granted']) {
      assert.ok((report.counts[what] ?? 0) > 0, `the run did some ${what} (${counts})`);
    }
    const some = (prefix: string) => Object.keys(report.counts).some((what) => what.startsWith(prefix));
    for (const what of ['pool:deduct:pooled', 'pool:reserve:', 'pool:hold:', 'pool:adjust:', 'pool:left']) {
      assert.ok(some(what), `the run did some ${what} (${counts})`);
    }
    for (const what of ['pool:read-member', 'pool:read-members', 'pool:read-pool']) {
      assert.ok(some(what), `the run did some ${what} (${counts})`);
    }
    assert.ok(some('pool:limit-changed') || some('pool:rejoined'), `the run set some limit (${counts})`);

    // Every charge the provider made is one top-up that succeeded (never two for one intent), and
    // is counted once in used_this_month; each was credited once (tally.problems, per account).
    const countOf = async (sql: string) => Number((await ask.query<{ n: string }>(sql)).rows[0]?.n);
    const charges = await countOf('SELECT count(*) AS n FROM test_charges');
    const succeeded = await countOf("SELECT count(*) AS n FROM topup_intents WHERE status = 'succeeded'");
    t.diagnostic(`top-ups: ${tally.topups} (${charges} charges, ${succeeded} intents succeeded)`);
    assert.equal(charges, succeeded, 'one charge per top-up that succeeded, none declined');
    assert.equal(succeeded, tally.topups, 'top-ups that succeeded = Σ used_this_month');
    assert.ok(tally.topups > 0, `the run topped up automatically (${counts})`);
    assert.equal(tally.tokens, tally.topups * creditPackage.tokens, 'each top-up credited its package once');

    // Each account, pools and members too, on both servers: exactly its opening plus its
    // acknowledged effects and its top-ups.
    let sumOfBalances = 0;
    for (const account of [...ACCOUNTS, ...pools.accounts]) {
      const expected = (report.bounds.get(account) as AccountBounds).final();
      for (const url of urls) {
        const { body } = await call(url, 'GET', `/api/tokens/balance?account=${account}`);
        assert.deepEqual({ balance: body.balance, held: body.held }, expected, `${account} on ${url}`);
      }
      const view = await call(first, 'GET', `/api/admin/accounts/${account}`, { as: 'admin' });
      const holds = (view.body.holds as { hold_id: number; amount: number }[]).map((h) => [h.hold_id, h.amount]);
      const open = [...report.openHolds].filter(([, h]) => h.account === account).map(([id, h]) => [id, h.amount]);
      assert.deepEqual(holds.sort(), open.sort(), `${account}: the active holds are the ones never settled`);
      sumOfBalances += expected.balance;
    }
    const { credited, deducted, committed, adjusted, granted, expired, opened } = report.totals;
    t.diagnostic(`granted ${granted}, expired ${expired}`);
    assert.ok((report.counts['grant:expired'] ?? 0) + (report.counts['grant:expired-used-up'] ?? 0) > 0, counts);
    const opening = ACCOUNTS.length * OPENING + opened;
    const toppedUp = tally.topups * creditPackage.tokens;
    assert.equal(sumOfBalances, opening + credited + toppedUp - deducted - committed + adjusted + granted - expired);

    // The ledger holds exactly the acknowledged credits, charges and corrections.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ kind: string; total: string }>(
        'SELECT kind, sum(amount) AS total FROM ledger_entries GROUP BY kind',
      );
      const byKind = new Map(rows.map((r) => [r.kind, Number(r.total)]));
      const total = [...byKind.values()].reduce((a, b) => a + b, 0);
      t.diagnostic(`ledger sums by kind: ${JSON.stringify(Object.fromEntries(byKind))}`);
      assert.equal(byKind.get('purchase') ?? 0, credited + toppedUp, 'purchases = acknowledged credits + top-ups');
      // `0 - x`, not `-x`: strict equality tells -0 from 0, and a run where nothing expired (or
      // nothing was charged) sums to 0 (CI failed on seed 942964 with expired 0).
      assert.equal(byKind.get('debit') ?? 0, 0 - deducted, 'debits = acknowledged deductions');
      assert.equal(byKind.get('hold_commit') ?? 0, 0 - committed, 'hold commits = acknowledged commits');
      assert.equal(byKind.get('grant') ?? 0, granted, 'grants = acknowledged grants');
      assert.equal(byKind.get('grant_expiry') ?? 0, 0 - expired, 'grant expiries = what expired');
      assert.equal(
        total - credited - toppedUp + deducted + committed - granted + expired,
        opening + adjusted,
        'the rest: openings and corrections',
      );
      assert.equal(total, sumOfBalances, 'total credited minus total charged = sum of balances');
    } finally {
      await client.end();
    }
    const reconcile = await call(urls[1] ?? first, 'GET', '/api/admin/reconcile', { as: 'admin' });
    assert.deepEqual(reconcile.body.drift, []);
    assert.equal(reconcile.body.accounts_checked, ACCOUNTS.length + pools.accounts.length + 1, 'and the marker');
  });
});

/**
 * What a grant lost when it expired, from the database: no answer says it. Settled once the
 * expiry is on record (the `grant_expiry` entry of the first write after it), or once nothing is
 * left on the grant: nothing in this workload gives tokens back to a grant, so it stays empty.
 */
function expiredTokensIn(client: pg.Client): ExpiredTokens {
  return async ({ id, account }) => {
    const { rows } = await client.query<{ status: string; remaining: string; moved: string }>(
      `SELECT g.status, g.remaining,
              (SELECT coalesce(sum((m->>1)::bigint), 0)
                 FROM ledger_entries e, json_array_elements(e.grant_moves::json) m
                WHERE e.account_id = g.account_id AND e.kind = 'grant_expiry' AND (m->>0)::bigint = g.id) AS moved
         FROM grants g WHERE g.id = $1 AND g.account_id = $2`,
      [id, account],
    );
    const [row] = rows;
    if (!row) throw new Error(`grant ${id} of ${account} is not in the database`);
    if (row.status === 'expired') return -Number(row.moved);
    return Number(row.remaining) === 0 ? 0 : null;
  };
}
