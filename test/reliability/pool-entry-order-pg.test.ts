// Regression for a bug the two-process pool test found (pool-processes.test.ts, seed 992781):
// reconcile reported a broken balance-after chain on the pool. A group-commit batch reserves
// its ledger ids when it opens, after locking its own accounts but before it locks a member's
// pool; a writer that already holds the pool lock draws its ids later but commits first. The
// pool's entries then carry ids out of commit order, so by id the balance-after of the batch's
// entry does not follow from the one before it, and a history read newest-first (by id) shows
// the pool's balance going the wrong way. Made deterministic here with a third connection that
// holds the pool's grant rows until both writers are waiting. Fixed: a batch locks its members'
// pools before it draws ids, and draws fresh ids after any lock it takes later.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { openLedger } from '../../src/ledger/open-ledger.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { createTestDatabase, pgSuiteSkip, type TestDatabase } from '../helpers/pg-server.ts';

const ops = { reason: 'test', actor: 'ops' };

/** Resolves once `n` sessions of the database wait for a lock (polled: no event says so). */
async function waitingForLocks(client: pg.Client, n: number): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (Number(rows[0]?.n) >= n) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('a pool written by a batch and a single write at once (PostgreSQL)', { skip: await pgSuiteSkip() }, () => {
  const dbs: TestDatabase[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
    for (const db of dbs) await db.drop();
  });

  // Cold: the batch's process has not seen the members yet and locks the pool on demand. Warm:
  // it knows their pool and locks it in the batch's lock step, before drawing its ids.
  for (const warm of [false, true]) {
    it(`keeps the pool's entries in commit order, each balance_after following the one before by id (${warm ? 'warm' : 'cold'})`, async () => {
      const db = await createTestDatabase();
      dbs.push(db);
      const open = async (groupCommit: false | undefined): Promise<TokenLedger> => {
        const ledger = await openLedger({
          databaseUrl: db.url,
          logger: silentLogger,
          ...(groupCommit === false ? { groupCommit } : {}),
        });
        closers.push(() => ledger.close());
        return ledger;
      };
      const single = await open(false);
      const batched = await open(undefined);
      await single.createAccount({ account: 'agency' });
      for (const member of ['m1', 'm2', 'm3']) {
        await single.joinPool({ member, pool: 'agency', limitPerCycle: null });
      }
      assert.equal((await single.adjust({ account: 'agency', amount: 50, ...ops })).ok, true);
      if (warm) {
        for (const member of ['m1', 'm3']) {
          assert.equal((await batched.deduct({ account: member, feature: 'outbound_call_single' })).ok, true);
        }
      }

      const blocker = new pg.Client({ connectionString: db.url });
      await blocker.connect();
      closers.push(() => blocker.end());
      await blocker.query('BEGIN');
      await blocker.query("SELECT id FROM grants WHERE account_id = 'agency' FOR UPDATE");

      // The single write locks m2 and the pool, then waits for the pool's grants.
      const first = single.deduct({ account: 'm2', feature: 'business_collector' });
      await waitingForLocks(blocker, 1);
      // The batch (two operations, so its ids are reserved up front) locks m1 and m3, takes its
      // ids, then waits for the pool.
      const second = Promise.all([
        batched.deduct({ account: 'm1', feature: 'outbound_call_single' }),
        batched.deduct({ account: 'm3', feature: 'crm_ai_agent' }),
      ]);
      await waitingForLocks(blocker, 2);
      await blocker.query('ROLLBACK');
      assert.equal((await first).ok, true);
      assert.deepEqual(
        (await second).map((r) => r.ok),
        [true, true],
      );

      const entries = (await single.history('agency')).entries.reverse();
      const breaks = entries.flatMap((e, i) => {
        const before = entries[i - 1];
        return before && before.balanceAfter + e.amount !== e.balanceAfter
          ? [`entry ${e.id}: ${before.balanceAfter} + ${e.amount} ≠ ${e.balanceAfter}`]
          : [];
      });
      assert.deepEqual(breaks, []);
      assert.deepEqual((await single.reconcile()).drift, []);
    });
  }

  // Regression (the two-process pool test, slow on CI): a batch that names the pool itself (its
  // own spending) beside a member, before its process knows the pool is one, locked its accounts
  // in id order: the pool ('agency') before the member. A member's single write locks the member
  // and then the pool, so each such pair deadlocked, and the pool's row stalled for the server's
  // deadlock_timeout while PostgreSQL found it. Here a connection holds the member as a single
  // write would, and then asks for the pool without waiting: the batch must not hold it.
  it("a batch naming the pool and a member takes the pool's lock after the member's (cold)", async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const single = await openLedger({ databaseUrl: db.url, logger: silentLogger, groupCommit: false });
    closers.push(() => single.close());
    await single.createAccount({ account: 'agency' });
    await single.joinPool({ member: 'm1', pool: 'agency', limitPerCycle: null });
    assert.equal((await single.adjust({ account: 'agency', amount: 50, ...ops })).ok, true);
    const batched = await openLedger({ databaseUrl: db.url, logger: silentLogger });
    closers.push(() => batched.close());

    const member = new pg.Client({ connectionString: db.url });
    await member.connect();
    closers.push(() => member.end());
    await member.query('BEGIN');
    await member.query("SELECT id FROM accounts WHERE id = 'm1' FOR UPDATE");
    // One batch: the pool's own spending and the member's, queued in the same turn.
    const batch = Promise.all([
      batched.deduct({ account: 'agency', feature: 'outbound_call_single' }),
      batched.deduct({ account: 'm1', feature: 'crm_ai_agent' }),
    ]);
    await waitingForLocks(member, 1);
    // NOWAIT: refused at once (55P03) if the waiting batch already holds the pool.
    const pool = await member.query("SELECT id FROM accounts WHERE id = 'agency' FOR UPDATE NOWAIT").then(
      (r) => r.rows.map((row: { id: string }) => row.id),
      (err: { code?: string }) => `refused: ${err.code}`,
    );
    await member.query('COMMIT');
    assert.deepEqual(pool, ['agency'], 'the member could take its pool after the member, as every writer does');
    assert.deepEqual(
      (await batch).map((r) => r.ok),
      [true, true],
    );
    assert.equal(batched.groupCommitStats().largestBatch, 2, 'both deductions were one batch');
    assert.deepEqual((await single.reconcile()).drift, []);
  });
});
