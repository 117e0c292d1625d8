import assert from 'node:assert/strict';
import { it } from 'node:test';
import { WriteConflictError } from '../../src/store/write-conflict.ts';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

conformance('invariants the database enforces', (get) => {
  it('a NULL balance is impossible: the database refuses it', async () => {
    const { db } = get();
    await assert.rejects(
      db.raw(
        `INSERT INTO accounts (id, plan, allocation, purchased, cycle_anchor, cycle_start, created_at, updated_at)
         VALUES ('n', 'free', NULL, 0, 0, 0, 0, 0)`,
      ),
    );
    accepted(await get().ledger.deduct({ account: 'x', feature: 'social_post' }));
    await assert.rejects(db.raw(`UPDATE accounts SET purchased = NULL WHERE id = 'x'`));
    // A non-integer is refused by the column type itself (SQLite STRICT, PostgreSQL bigint).
    await assert.rejects(db.raw(`UPDATE accounts SET allocation = '1.5' WHERE id = 'x'`));
  });

  it('ledger entries are append-only', async () => {
    const { ledger, db } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    await assert.rejects(db.raw('UPDATE ledger_entries SET amount = 0'), /append-only/);
    await assert.rejects(db.raw('DELETE FROM ledger_entries'), /append-only/);
  });

  it('accounts are permanent, and every ledger entry names one', async () => {
    const { ledger, db } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    await ledger.createAccount({ account: 'unused' });
    // Neither an account with entries nor one without can go, or change its id.
    await assert.rejects(db.raw(`DELETE FROM accounts WHERE id = 'unused'`), /permanent/);
    await assert.rejects(db.raw(`UPDATE accounts SET id = 'b' WHERE id = 'a'`), /permanent/);
    // The rows a statement inserts are checked together: one entry of an unknown account fails all.
    const entry = (id: number, account: string) => `(${id}, '${account}', 'credit', 1, 0, 1, 100, 1, 0)`;
    await assert.rejects(
      db.raw(
        `INSERT INTO ledger_entries (id, account_id, kind, amount, allocation_delta, purchased_delta, balance_after, at, held_after)
         VALUES ${entry(1_000_001, 'a')}, ${entry(1_000_002, 'ghost')}`,
      ),
    );
    assert.equal((await ledger.getBalance('a')).balance, 99);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('the guarded update refuses an overdraft even when the caller asks for one', async () => {
    const { ledger, db } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    await assert.rejects(
      db.store.write(async (tx) => {
        const before = await tx.lockAccount('a');
        if (!before) throw new Error('missing');
        await tx.updateAccount(before, { ...before, allocation: 0, purchased: -1 }, 'no_overdraft');
      }),
      WriteConflictError,
    );
    assert.equal((await ledger.getBalance('a')).balance, 99);
  });

  it('the guarded update refuses a write decided against a stale version', async () => {
    const { ledger, db } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    await assert.rejects(
      db.store.write(async (tx) => {
        const before = await tx.lockAccount('a');
        if (!before) throw new Error('missing');
        await tx.updateAccount({ ...before, version: before.version - 1 }, { ...before, allocation: 50 }, 'exempt');
      }),
      WriteConflictError,
    );
  });

  it('a transaction that fails midway leaves nothing behind', async () => {
    const { ledger, db } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    await assert.rejects(
      db.store.write(async (tx) => {
        const before = await tx.lockAccount('a');
        if (!before) throw new Error('missing');
        await tx.updateAccount(before, { ...before, allocation: before.allocation - 10 }, 'no_overdraft');
        throw new Error('crash after the update');
      }),
      /crash after the update/,
    );
    assert.equal((await ledger.getBalance('a')).balance, 99);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('one opening balance per account and one renewal per cycle (UNIQUE references)', async () => {
    const { ledger, db, clock } = get();
    // At the account's latest time, so that only the reference can refuse it (an entry earlier
    // than one its account has is refused too: test/store/ledger-in-time.test.ts).
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    await assert.rejects(
      db.raw(
        `INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, source, reference, at)
         VALUES ('a', 'opening_balance', 100, 100, 0, 199, 'provision', 'a', ${clock.now()})`,
      ),
      /unique/i,
    );
  });

  it('reconcile is clean after a mix of operations and reports each drift after tampering', async () => {
    const { ledger, db } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    accepted(await ledger.credit({ account: 'b', tokens: 5, source: 's', reference: 'r' }));
    accepted(await ledger.reserve({ account: 'b', amount: 3 }));
    assert.deepEqual(await ledger.reconcile(), { accountsChecked: 2, drift: [] });
    await db.raw(`UPDATE accounts SET purchased = purchased + 100 WHERE id = 'a'`);
    await db.raw(`UPDATE accounts SET held = 0 WHERE id = 'b'`);
    const report = await ledger.reconcile();
    assert.deepEqual(
      report.drift.map((d) => [d.account, d.check, d.expected, d.actual]),
      [
        ['a', 'balance', 99, 199],
        ['a', 'purchased', 0, 100],
        // The paid grants hold none of those 100 tokens.
        ['a', 'grants', 0, 100],
        ['b', 'held', 3, 0],
      ],
    );
  });

  it('history pages newest first with a cursor, and balanceAt reads the past', async () => {
    const { ledger, clock } = get();
    const t0 = clock.now();
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    }
    const p1 = await ledger.history('a', { limit: 4 });
    assert.deepEqual(
      p1.entries.map((e) => e.balanceAfter),
      [95, 96, 97, 98],
    );
    const p2 = await ledger.history('a', { limit: 4, cursor: p1.nextCursor });
    assert.deepEqual(
      p2.entries.map((e) => e.balanceAfter),
      [99, 100],
    );
    assert.equal(p2.nextCursor, null);
    assert.equal(await ledger.balanceAt('a', t0), 0);
    assert.equal(await ledger.balanceAt('a', t0 + 1000), 99);
    assert.equal(await ledger.balanceAt('a', t0 + 2500), 98);
  });
});
