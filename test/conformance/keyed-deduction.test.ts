import assert from 'node:assert/strict';
import { it } from 'node:test';
import { KeyService } from '../../src/auth/key-service.ts';
import { SessionService } from '../../src/auth/session-service.ts';
import type { ManualClock } from '../../src/core/clock.ts';
import { buildApp } from '../../src/http/build-app.ts';
import { DEFAULT_HTTP_OPTIONS } from '../../src/http/options.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import type { Store } from '../../src/store/store.ts';
import type { TestStore } from '../helpers/backends.ts';
import { accepted, catalog, refused } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

// A keyed deduction is one row: its debit, which carries the key (unique per account in the
// database) and held after it, so that its replay is rebuilt from the entry, field for field.

const APP_KEY = 'tm_app_test_bootstrap_key_0123456789abcdef';

/** Every field of the first answer, as a replay must give it back (only `replayed` differs). */
function asReplay<T extends { replayed: boolean }>(first: T): T {
  return { ...first, replayed: true };
}

/** The idempotency_keys record of a deduction key, read in a write transaction. */
async function storedAnswer(store: Store, account: string, key: string) {
  return store.write((tx) => tx.findIdempotency(account, 'deduct', key));
}

conformance('one row per keyed deduction', (get) => {
  it('a keyed deduction writes its debit and no idempotency record; the debit carries the key and held after it', async () => {
    const { ledger, db } = get();
    accepted(await ledger.reserve({ account: 'a', amount: 7 }));
    const first = accepted(await ledger.deduct({ account: 'a', feature: 'crm_ai_agent', idempotencyKey: 'k1' }));
    assert.equal(await storedAnswer(db.store, 'a', 'k1'), undefined);
    const debit = await db.store.write((tx) => tx.findDeduction('a', 'k1'));
    assert.ok(debit);
    assert.equal(debit.id, first.entryId);
    assert.equal(debit.heldAfter, 7);
    assert.equal(debit.balanceAfter - (debit.heldAfter ?? Number.NaN), first.available);
  });

  it('a replay equals the original answer field for field: with a hold, after a renewal, after other use', async () => {
    const { ledger, clock } = get();
    await ledger.createAccount({ account: 'a', plan: 'starter' });
    accepted(await ledger.credit({ account: 'a', tokens: 50, source: 'test', reference: 'p1' }));
    accepted(await ledger.reserve({ account: 'a', amount: 30 }));
    // The allocation (1000) pays first, then 20 of the 50 purchased; 30 stay held.
    const first = accepted(
      await ledger.deduct({ account: 'a', feature: 'crm_ai_agent', quantity: 510, idempotencyKey: 'big' }),
    );
    assert.deepEqual([first.cost, first.balanceBefore, first.balance, first.available], [1020, 1050, 30, 0]);
    assert.deepEqual(
      await ledger.deduct({ account: 'a', feature: 'crm_ai_agent', quantity: 510, idempotencyKey: 'big' }),
      asReplay(first),
    );
    // A renewal written by the same transaction as a keyed deduction comes before its debit.
    clock.advance(40 * 24 * 3600 * 1000);
    const renewed = accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'after' }));
    accepted(await ledger.deduct({ account: 'a', feature: 'business_collector' }));
    assert.deepEqual(
      await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'after' }),
      asReplay(renewed),
    );
    assert.deepEqual(
      await ledger.deduct({ account: 'a', feature: 'crm_ai_agent', quantity: 510, idempotencyKey: 'big' }),
      asReplay(first),
    );
  });

  it('repeats of a key inside one batch charge once and each replays the first answer', async () => {
    const { ledger } = get();
    accepted(await ledger.reserve({ account: 'a', amount: 5 }));
    const results = (
      await Promise.all(
        Array.from({ length: 8 }, () =>
          ledger.deduct({ account: 'a', feature: 'crm_ai_agent', quantity: 3, idempotencyKey: 'same' }),
        ),
      )
    ).map(accepted);
    const charged = results.filter((r) => !r.replayed);
    assert.equal(charged.length, 1);
    const [first] = charged;
    assert.ok(first);
    for (const r of results.filter((x) => x.replayed)) assert.deepEqual(r, asReplay(first));
    assert.equal((await ledger.getBalance('a')).balance, 94);
  });

  it('a replay after a restart equals the original answer', async () => {
    const { ledger, db, clock } = get();
    accepted(await ledger.reserve({ account: 'a', amount: 12 }));
    const first = accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'k' }));
    // Another process: nothing of the first ledger's memory, only what the database holds.
    const reopened = new TokenLedger({ store: await db.reopen(), catalog, clock });
    try {
      assert.deepEqual(
        await reopened.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'k' }),
        asReplay(first),
      );
      const conflict = refused(
        await reopened.deduct({ account: 'a', feature: 'social_post', quantity: 2, idempotencyKey: 'k' }),
      );
      assert.equal(conflict.code, 'idempotency_conflict');
    } finally {
      await reopened.close();
    }
  });

  it('the HTTP answer of a replay equals the first one field for field', async () => {
    const { ledger, db, clock } = get();
    await withApp(db, ledger, clock, async (post) => {
      await ledger.reserve({ account: 'h', amount: 4 });
      const body = { account: 'h', feature: 'crm_ai_agent', quantity: 2, idempotency_key: 'http-1' };
      const first = await post(body);
      assert.equal(first.status, 200);
      const again = await post(body);
      assert.equal(again.status, 200);
      const firstBody = first.json() as Record<string, unknown>;
      assert.equal(firstBody.replayed, false);
      assert.deepEqual(again.json(), { ...firstBody, replayed: true });
      assert.equal(firstBody.available, 92);
      const conflict = await post({ ...body, quantity: 1 });
      assert.equal(conflict.status, 409);
      assert.equal((conflict.json() as { code: string }).code, 'idempotency_conflict');
    });
  });

  it('the database refuses a second debit with the same account and key, and a keyed debit without held_after', async () => {
    const { ledger, db, clock } = get();
    const first = accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'once' }));
    // At the account's latest time: an earlier entry is refused for that alone (migration 16).
    const columns = 'account_id, kind, amount, allocation_delta, purchased_delta, balance_after, feature, quantity';
    const debit = (key: string, held: string) =>
      `INSERT INTO ledger_entries (${columns}, idempotency_key, at${held === '' ? '' : ', held_after'})
       VALUES ('a', 'debit', -1, -1, 0, 98, 'social_post', 1, '${key}', ${clock.now()}${held === '' ? '' : `, ${held}`})`;
    await assert.rejects(db.raw(debit('once', '0')), /unique/i);
    await assert.rejects(db.raw(debit('no-figure', '')), /keyed_debit_held/);
    await assert.rejects(db.raw(debit('no-figure', '-1')), /keyed_debit_held/);
    // The key is unique among debits only: another account, or another kind, may carry it.
    await db.raw(
      `INSERT INTO ledger_entries (${columns}, idempotency_key, at, source, reference)
       VALUES ('a', 'hold_commit', -1, -1, 0, 98, 'social_post', 1, 'once', ${clock.now()}, 'hold', 'h-1')`,
    );
    accepted(await ledger.deduct({ account: 'b', feature: 'social_post', idempotencyKey: 'once' }));
    assert.deepEqual(
      await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'once' }),
      asReplay(first),
    );
  });

  it('a deduction recorded the old way (debit and idempotency_keys row) replays exactly as before', async () => {
    const { ledger, db, clock } = get();
    accepted(await ledger.reserve({ account: 'old', amount: 10 }));
    // PostgreSQL: the database as it was before migration 6, and a keyed deduction as that
    // version wrote it. SQLite: the same deduction as migration 13 copies it (it cannot drop a
    // column its CHECK names; test/store/keyed-debit-check.test.ts runs migration 13 over one).
    const pg = db.store.backend === 'postgres';
    if (pg) {
      await db.raw(`DROP INDEX ledger_entries_deduction_key;
        ALTER TABLE ledger_entries DROP COLUMN held_after;
        DELETE FROM schema_migrations WHERE version = 6;`);
    }
    const answer = {
      ok: true,
      account: 'old',
      feature: 'crm_ai_agent',
      quantity: 1,
      cost: 2,
      balanceBefore: 100,
      balance: 98,
      available: 88,
      entryId: 1000,
      replayed: false,
    };
    await db.raw(`
      UPDATE accounts SET allocation = allocation - 2, used_this_cycle = used_this_cycle + 2, version = version + 1
        WHERE id = 'old';
      UPDATE grants SET remaining = remaining - 2 WHERE account_id = 'old' AND category = 'included';
      INSERT INTO ledger_entries (id, account_id, kind, amount, allocation_delta, purchased_delta, balance_after,
        feature, quantity, idempotency_key, at, grant_moves${pg ? ') OVERRIDING SYSTEM VALUE' : ', held_after, keyed_before_v6)'}
        SELECT 1000, 'old', 'debit', -2, -2, 0, 98, 'crm_ai_agent', 1, 'old-key', ${clock.now()},
          '[[' || ${pg ? 'id::text' : 'id'} || ',-2]]'${pg ? '' : ', -1, 1'}
        FROM grants WHERE account_id = 'old' AND category = 'included';
      INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at)
        VALUES ('old', 'deduct', 'old-key', 'crm_ai_agentx1', '${JSON.stringify(answer)}', ${clock.now()});
      ${pg ? "SELECT setval(pg_get_serial_sequence('ledger_entries', 'id'), 1000);" : ''}`);

    // Reopening applies migration 6 over the old rows (PostgreSQL).
    const reopened = new TokenLedger({ store: await db.reopen(), catalog, clock });
    try {
      const debit = await reopened.store.write((tx) => tx.findDeduction('old', 'old-key'));
      assert.equal(debit?.heldAfter, null);
      assert.deepEqual(
        await reopened.deduct({ account: 'old', feature: 'crm_ai_agent', idempotencyKey: 'old-key' }),
        asReplay(answer),
      );
      assert.equal(
        refused(await reopened.deduct({ account: 'old', feature: 'social_post', idempotencyKey: 'old-key' })).code,
        'idempotency_conflict',
      );
      // The database now refuses a second debit under the old key too.
      await assert.rejects(
        db.raw(`INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after,
          feature, quantity, idempotency_key, at, held_after)
          VALUES ('old', 'debit', -2, -2, 0, 96, 'crm_ai_agent', 1, 'old-key', ${clock.now()}, 10)`),
        /unique/i,
      );
      const fresh = accepted(await reopened.deduct({ account: 'old', feature: 'crm_ai_agent', idempotencyKey: 'new' }));
      assert.deepEqual([fresh.balance, fresh.available], [96, 86]);
      assert.deepEqual((await reopened.getBalance('old')).balance, 96);
      assert.deepEqual((await reopened.reconcile()).drift, []);
    } finally {
      await reopened.close();
    }
  });
});

/** The HTTP service over the suite's ledger; `post` sends a deduction with the app key. */
async function withApp(
  db: TestStore,
  ledger: TokenLedger,
  clock: ManualClock,
  body: (post: (json: object) => Promise<{ status: number; json(): unknown }>) => Promise<void>,
): Promise<void> {
  const keys = new KeyService({ store: db.store.service, bootstrap: { app: APP_KEY } });
  const sessions = new SessionService({ store: db.store.service, clock });
  const app = await buildApp({ ledger, keys, sessions, clock, logger: silentLogger, options: DEFAULT_HTTP_OPTIONS });
  try {
    await body(async (json) => {
      const r = await app.inject({
        method: 'POST',
        url: '/api/tokens/deduct',
        headers: { authorization: `Bearer ${APP_KEY}` },
        payload: json,
      });
      return { status: r.statusCode, json: () => r.json() };
    });
  } finally {
    await app.close();
  }
}
