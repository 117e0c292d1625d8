import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { AccountState } from '../../src/core/account-state.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { isTokenmeterError } from '../../src/core/errors.ts';
import { GroupCommitter } from '../../src/ledger/batch/group-committer.ts';
import { commitEach, type LedgerContext } from '../../src/ledger/context.ts';
import { deduct } from '../../src/ledger/ops/deduct.ts';
import { PoolHints } from '../../src/ledger/pool/pool-hints.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { accepted, catalog, refused } from '../helpers/ledger.ts';

const options = { maxBatch: 1024, maxWaitMs: 0, maxQueue: 10_000 };

// Every call below is started in the same turn of the event loop, so they queue together and
// are decided in one batch (the stats prove it): each must still get its own exact answer.
for (const backend of backends()) {
  describe(`group commit [${backend.name}]`, () => {
    let db: TestStore;
    let clock: ManualClock;
    let ledger: TokenLedger;
    beforeEach(async () => {
      db = await backend.open();
      clock = new ManualClock('2026-01-15T10:00:00Z');
      ledger = new TokenLedger({ store: db.store, catalog, clock, groupCommit: options });
    });
    afterEach(async () => {
      await ledger.close();
      await db.cleanup();
    });

    it('decides a batch in order against the running balance: 100 tokens, 150 callers → exactly 100 charged', async () => {
      await ledger.createAccount({ account: 'hot' });
      const results = await Promise.all(
        Array.from({ length: 150 }, () => ledger.deduct({ account: 'hot', feature: 'outbound_call_single' })),
      );
      const ok = results.filter((r) => r.ok);
      assert.equal(ok.length, 100);
      for (const r of results.filter((x) => !x.ok)) assert.equal(refused(r).code, 'insufficient_tokens');
      // Each accepted caller saw its own step of the running balance, once.
      assert.deepEqual(
        ok.map((r) => accepted(r).balance).sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, i) => i),
      );
      assert.equal(new Set(ok.map((r) => accepted(r).entryId)).size, 100);
      const stats = ledger.groupCommitStats();
      assert.ok(stats.largestBatch >= 100, `largest batch ${stats.largestBatch}`);
      assert.ok(stats.batches < 150, `${stats.batches} batches for 150 operations`);
      assert.equal((await ledger.getBalance('hot')).balance, 0);
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });

    it('deductMany: items are decided in their order, each answered alone: 150 items on 100 tokens → the first 100 charged', async () => {
      await ledger.createAccount({ account: 'many' });
      const items = Array.from({ length: 150 }, (_, i) => ({
        account: 'many',
        feature: 'outbound_call_single',
        // Every tenth item repeats the key of the item before it: it replays that charge (a
        // refusal wrote nothing, so its repeat is refused again, with the same answer).
        idempotencyKey: `m-${i % 10 === 9 ? i - 1 : i}`,
      }));
      const settled = await ledger.deductMany(items);
      const answers = settled.map((s) => {
        assert.equal(s.status, 'fulfilled');
        return s.status === 'fulfilled' ? s.value : null;
      });
      let balance = 100;
      answers.forEach((r, i) => {
        if (i % 10 === 9) {
          const first = answers[i - 1];
          assert.deepEqual(r, first?.ok ? { ...first, replayed: true } : first, `item ${i} repeats item ${i - 1}`);
        } else if (balance > 0) {
          balance--;
          assert.equal(accepted(r as NonNullable<typeof r>).balance, balance, `item ${i} charged in order`);
        } else {
          assert.equal(refused(r as NonNullable<typeof r>).code, 'insufficient_tokens', `item ${i} refused`);
        }
      });
      assert.equal((await ledger.getBalance('many')).balance, 0);
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });

    it('a repeated key in one batch charges once and replays; the same key with other parameters conflicts', async () => {
      const same = Array.from({ length: 10 }, () =>
        ledger.deduct({ account: 'a', feature: 'crm_ai_agent', idempotencyKey: 'k1' }),
      );
      const other = ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'k1' });
      const bystander = ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'k2' });
      const results = (await Promise.all(same)).map(accepted);
      assert.equal(results.filter((r) => !r.replayed).length, 1);
      assert.equal(new Set(results.map((r) => r.entryId)).size, 1);
      assert.equal(refused(await other).code, 'idempotency_conflict');
      assert.equal(accepted(await bystander).balance, 97);
      assert.equal((await ledger.getBalance('a')).balance, 97);
      const debits = (await ledger.history('a')).entries.filter((e) => e.kind === 'debit');
      assert.equal(debits.length, 2);
    });

    it('provisions a new account once and renews a due cycle once for a whole batch', async () => {
      const first = await Promise.all(
        Array.from({ length: 20 }, () => ledger.deduct({ account: 'fresh', feature: 'outbound_call_single' })),
      );
      assert.equal(first.filter((r) => r.ok).length, 20);
      clock.advance(40 * 24 * 3600 * 1000);
      const second = await Promise.all(
        Array.from({ length: 20 }, () => ledger.deduct({ account: 'fresh', feature: 'outbound_call_single' })),
      );
      assert.equal(second.filter((r) => r.ok).length, 20);
      const kinds = (await ledger.history('fresh', { limit: 100 })).entries.map((e) => e.kind);
      assert.equal(kinds.filter((k) => k === 'opening_balance').length, 1);
      assert.equal(kinds.filter((k) => k === 'cycle_grant').length, 1);
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });

    it('holds in a batch: reservations refused past available, expired holds freed once', async () => {
      const holds = await Promise.all(Array.from({ length: 5 }, () => ledger.reserve({ account: 'h', amount: 30 })));
      assert.equal(holds.filter((r) => r.ok).length, 3);
      assert.equal((await ledger.getBalance('h')).held, 90);
      clock.advance(301_000);
      const after = await Promise.all(
        Array.from({ length: 5 }, () => ledger.deduct({ account: 'h', feature: 'business_collector' })),
      );
      assert.equal(after.filter((r) => r.ok).length, 5);
      const view = await ledger.getBalance('h');
      assert.equal(view.held, 0);
      assert.equal(view.balance, 75);
      assert.equal((await ledger.activeHolds('h')).length, 0);
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });

    it('one operation the database refuses fails alone; the rest of its batch commits', async () => {
      const committer = new GroupCommitter(db.store, clock, options);
      const ctx: LedgerContext = {
        store: db.store,
        catalog,
        clock,
        logger: silentLogger,
        topupRetryMs: 0,
        commit: (job) => committer.submit(job),
        commitAll: commitEach((job) => committer.submit(job)),
        write: (job) => db.store.write(job.run),
        poolHints: new PoolHints(),
      };
      await ledger.createAccount({ account: 'b' });
      // A ledger row for an account that does not exist: only the foreign key, at the batch's
      // one INSERT, refuses it.
      const bad = committer.submit({
        account: 'ghost',
        key: null,
        run: (tx) =>
          tx.insertEntries([
            {
              account: 'ghost',
              kind: 'credit',
              amount: 5,
              allocationDelta: 0,
              purchasedDelta: 5,
              promotionalDelta: 0,
              debtDelta: 0,
              grantMoves: [],
              balanceAfter: 5,
              feature: null,
              quantity: null,
              idempotencyKey: null,
              source: null,
              reference: null,
              reason: null,
              actor: null,
              at: clock.now(),
              heldAfter: 0,
            },
          ]),
      });
      const good = Array.from({ length: 5 }, () => deduct(ctx, { account: 'b', feature: 'crm_ai_agent' }));
      await assert.rejects(bad);
      const results = (await Promise.all(good)).map(accepted);
      assert.deepEqual(
        results.map((r) => r.balance).sort((x, y) => x - y),
        [90, 92, 94, 96, 98],
      );
      assert.equal(committer.stats().splits, 1);
      assert.equal((await ledger.getBalance('b')).balance, 90);
      assert.equal((await ledger.history('ghost')).entries.length, 0);
    });

    type Change = (stored: AccountState) => { before: AccountState; after: AccountState };
    /** One account's change written as a batch writes it, with the batch's own statements and guards. */
    const batchWrite = (account: string, change: Change) =>
      db.store.write(async (tx) => {
        const [stored] = (
          await tx.openBatch({
            accounts: [account],
            pools: [],
            keys: [],
            deductions: [],
            holdsUntil: clock.now(),
            entryIds: 0,
          })
        ).accounts;
        assert.ok(stored);
        await tx.writeBatch({
          created: [],
          changes: [{ ...change(stored), guard: 'no_overdraft', catchUp: 0 }],
          closures: [],
          holds: [],
          entries: [],
          keys: [],
          events: [],
          memberships: [],
        });
      });

    it('the database itself refuses a batch write that would overdraw or that was decided on a stale version', async () => {
      await ledger.createAccount({ account: 'g' });
      const attempt = (change: Change) => batchWrite('g', change);
      // Whatever the JavaScript decided, the guarded UPDATE is the last word.
      await assert.rejects(attempt((stored) => ({ before: stored, after: { ...stored, held: stored.held + 101 } })));
      await assert.rejects(
        attempt((stored) => ({
          before: { ...stored, version: stored.version - 1 },
          after: { ...stored, allocation: 1 },
        })),
      );
      const view = await ledger.getBalance('g');
      assert.deepEqual([view.balance, view.held, view.available], [100, 0, 100]);
      // The same write, in bounds and on the current version, goes through.
      await attempt((stored) => ({ before: stored, after: { ...stored, held: stored.held + 100 } }));
      assert.equal((await db.store.getAccount('g'))?.held, 100);
    });

    it('the database itself refuses a batch write whose grant draw was decided on a stale grant', async () => {
      await ledger.createAccount({ account: 'gg' });
      const attempt = (change: Change) => batchWrite('gg', change);
      const withGrant = (s: AccountState, grant: Partial<AccountState['grants'][number]>): AccountState => {
        const [first, ...rest] = s.grants;
        assert.ok(first);
        return { ...s, grants: [{ ...first, ...grant }, ...rest] };
      };
      // The account row alone would accept each of these; the grant's own guard refuses them.
      // Decided on a status the grant no longer has:
      await assert.rejects(
        attempt((stored) => ({
          before: withGrant(stored, { status: 'scheduled' }),
          after: withGrant({ ...stored, allocation: stored.allocation - 10 }, { remaining: 90 }),
        })),
      );
      // Decided on a remaining the grant no longer has: the delta would take it past its tokens.
      await assert.rejects(
        attempt((stored) => ({
          before: withGrant(stored, { remaining: 0 }),
          after: withGrant({ ...stored, allocation: stored.allocation - 10 }, { remaining: 90 }),
        })),
      );
      const view = await ledger.getBalance('gg');
      assert.deepEqual([view.balance, view.grants.map((g) => g.remaining)], [100, [100]]);
      // The same draw decided on the grant as stored goes through.
      await attempt((stored) => ({
        before: stored,
        after: withGrant({ ...stored, allocation: stored.allocation - 10 }, { remaining: 90 }),
      }));
      assert.deepEqual(
        (await db.store.getAccount('gg'))?.grants.map((g) => g.remaining),
        [90],
      );
    });

    it('past its bound the queue answers unavailable and charges nothing', async () => {
      const small = new TokenLedger({ store: db.store, catalog, clock, groupCommit: { ...options, maxQueue: 10 } });
      const results = await Promise.allSettled(
        Array.from({ length: 25 }, () => small.deduct({ account: 'q', feature: 'outbound_call_single' })),
      );
      const refusedAll = results.filter((r) => r.status === 'rejected');
      assert.equal(refusedAll.length, 15);
      for (const r of refusedAll) assert.ok(isTokenmeterError(r.reason) && r.reason.code === 'unavailable');
      assert.equal((await small.getBalance('q')).balance, 90);
      assert.equal(small.groupCommitStats().rejected, 15);
    });

    it('two ledgers (as two processes) batching overlapping accounts in opposite orders: no deadlock, exact totals', async () => {
      const other = new TokenLedger({ store: await db.reopen(), catalog, clock, groupCommit: options });
      const ids = Array.from({ length: 20 }, (_, i) => `acct-${String(i).padStart(2, '0')}`);
      for (const id of ids) await ledger.createAccount({ account: id });
      const rounds = 5;
      const calls: Promise<{ ok: boolean }>[] = [];
      for (let round = 0; round < rounds; round++) {
        for (const id of ids) calls.push(ledger.deduct({ account: id, feature: 'business_collector' }));
        for (const id of [...ids].reverse()) calls.push(other.deduct({ account: id, feature: 'business_collector' }));
      }
      const results = await Promise.all(calls);
      assert.equal(results.filter((r) => r.ok).length, ids.length * rounds * 2);
      for (const id of ids) assert.equal((await ledger.getBalance(id)).balance, 100 - 5 * rounds * 2);
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });

    it('a batch draws from the grants as stored, after another process changed them since this one last wrote the account', async () => {
      const other = new TokenLedger({ store: await db.reopen(), catalog, clock, groupCommit: options });
      const ops = { reason: 'test', actor: 'ops' };
      await ledger.createAccount({ account: 'g' });
      // This process writes the account (on SQLite it then remembers the account's grants).
      accepted(await ledger.deduct({ account: 'g', feature: 'outbound_call_single' }));
      // Another process adds a grant spent before the allocation, and this one spends from it.
      const bonus = await other.grant({ account: 'g', tokens: 50, category: 'promotional', priority: 0, ...ops });
      const first = await Promise.all(
        Array.from({ length: 10 }, () => ledger.deduct({ account: 'g', feature: 'outbound_call_single' })),
      );
      assert.deepEqual(
        first.map((r) => accepted(r).balance),
        Array.from({ length: 10 }, (_, i) => 148 - i),
      );
      // The other process spends from it too, then voids what is left: this one falls back to the allocation.
      accepted(await other.deduct({ account: 'g', feature: 'outbound_call_single', quantity: 5 }));
      await other.voidGrant({ id: bonus.id, ...ops });
      accepted(await ledger.deduct({ account: 'g', feature: 'outbound_call_single', quantity: 3 }));
      const grants = await ledger.grants('g', { includeInactive: true });
      const byCategory = (category: string) => grants.filter((g) => g.category === category);
      assert.deepEqual(
        byCategory('promotional').map((g) => [g.id, g.status, g.remaining]),
        [[bonus.id, 'voided', 0]],
      );
      assert.deepEqual(
        byCategory('included').map((g) => g.remaining),
        [96],
      );
      const view = await ledger.getBalance('g');
      assert.deepEqual([view.balance, view.promotional, view.allocation], [96, 0, 96]);
      assert.deepEqual((await ledger.reconcile()).drift, []);
      await other.close();
    });
  });
}
