import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenmeterError } from '../../src/core/errors.ts';
import { openStore } from '../../src/store/open-store.ts';
import { openPgStore } from '../../src/store/postgres/open-pg-store.ts';
import type { PgClient, PgQueryable } from '../../src/store/postgres/pg-client.ts';
import { PgPoolClient } from '../../src/store/postgres/pg-pool-client.ts';
import { PgStore } from '../../src/store/postgres/pg-store.ts';
import { WriteConflictError } from '../../src/store/write-conflict.ts';
import { backends } from '../helpers/backends.ts';
import { accepted, ledgerOn } from '../helpers/ledger.ts';
import { createTestDatabase, PG_TEST_URL, pgSuiteSkip, requirePgServer } from '../helpers/pg-server.ts';

const isUnavailable = (err: unknown) => err instanceof TokenmeterError && err.code === 'unavailable';

/** A client whose transactions fail with the given errors, in turn, before succeeding. */
function failingClient(errors: unknown[]): PgClient & { attempts: number } {
  const none: PgQueryable = { query: async () => [], exec: async () => {} };
  return {
    attempts: 0,
    query: none.query,
    exec: none.exec,
    async transaction(_begin, fn) {
      this.attempts++;
      const err = errors.shift();
      if (err !== undefined) throw err;
      return fn(none);
    },
    close: async () => {},
  };
}

describe('PostgreSQL store: how a write fails', () => {
  it('runs the whole transaction again after a serialization failure, a deadlock or a duplicate', async () => {
    const client = failingClient([{ code: '40001' }, { code: '40P01' }, { code: '23505' }]);
    const store = new PgStore({ client, location: 'fake' });
    assert.equal(await store.write(async () => 'done'), 'done');
    assert.equal(client.attempts, 4);
  });

  it('gives up after a bounded number of attempts and surfaces the last error', async () => {
    const client = failingClient(
      Array.from({ length: 10 }, () => Object.assign(new Error('deadlock'), { code: '40P01' })),
    );
    const store = new PgStore({ client, location: 'fake', maxAttempts: 3 });
    await assert.rejects(
      store.write(async () => 'done'),
      /deadlock/,
    );
    assert.equal(client.attempts, 3);
  });

  it('never re-runs a write refused by the guard', async () => {
    const client = failingClient([new WriteConflictError('would overdraw')]);
    const store = new PgStore({ client, location: 'fake' });
    await assert.rejects(
      store.write(async () => 'done'),
      WriteConflictError,
    );
    assert.equal(client.attempts, 1);
  });

  it('reports a lost connection as unavailable, without re-running (it may have committed)', async () => {
    for (const err of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      new Error('Connection terminated unexpectedly'),
    ]) {
      const client = failingClient([err]);
      await assert.rejects(
        new PgStore({ client, location: 'fake' }).write(async () => 'done'),
        isUnavailable,
      );
      assert.equal(client.attempts, 1);
    }
  });

  it('refuses to back up, pointing to pg_dump', async () => {
    const store = new PgStore({ client: failingClient([]), location: 'fake' });
    await assert.rejects(
      store.backup('/tmp/x'),
      (err: unknown) => err instanceof TokenmeterError && err.code === 'invalid_request' && /pg_dump/.test(err.message),
    );
  });
});

describe('DATABASE_URL=postgres://', () => {
  it('opens a PostgreSQL store whose location carries no password', async () => {
    const store = openStore('postgresql://app:s3cret@db.internal:6543/billing?sslmode=require&password=s3cret', {});
    assert.equal(store.backend, 'postgres');
    assert.equal(store.location, 'postgresql://app@db.internal:6543/billing');
    await store.close();
  });

  it('refuses a pool size or statement timeout that is not a whole number in range', () => {
    for (const env of [
      { TOKENMETER_PG_POOL_SIZE: 'ten' },
      { TOKENMETER_PG_POOL_SIZE: '0' },
      { TOKENMETER_PG_STATEMENT_TIMEOUT_MS: '1.5' },
    ]) {
      assert.throws(
        () => openStore('postgres://localhost/x', env),
        (err: unknown) => err instanceof TokenmeterError && err.code === 'config_invalid',
      );
    }
  });

  it('an unreachable server is unavailable for reads and writes', async () => {
    const store = openPgStore({ url: 'postgres://postgres:pw@127.0.0.1:1/none' });
    try {
      await assert.rejects(store.getAccount('a'), isUnavailable);
      await assert.rejects(store.migrate(), isUnavailable);
      const { ledger } = ledgerOn(store);
      await assert.rejects(ledger.deduct({ account: 'a', feature: 'social_post' }), isUnavailable);
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL server settings', { skip: await pgSuiteSkip() }, () => {
  it('applies the statement timeout to every pooled connection', async () => {
    await requirePgServer();
    const client = new PgPoolClient({ url: PG_TEST_URL, poolSize: 1, statementTimeoutMs: 1234 });
    try {
      assert.deepEqual(await client.query('SHOW statement_timeout'), [{ statement_timeout: '1234ms' }]);
      await assert.rejects(client.query('SELECT pg_sleep(2)'), /statement timeout/);
    } finally {
      await client.close();
    }
  });

  it('several stores migrating one empty database at once apply each step once', async () => {
    const database = await createTestDatabase();
    const stores = Array.from({ length: 4 }, () => openPgStore({ url: database.url, poolSize: 1 }));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      const { ledger } = ledgerOn(stores[0] as PgStore);
      accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    } finally {
      for (const s of stores) await s.close();
      await database.drop();
    }
  });
});

// Races between two stores (two pools, as two processes would have) on one database.
for (const backend of backends().filter((b) => b.name !== 'sqlite-inline')) {
  describe(`PostgreSQL races [${backend.name}]`, () => {
    async function twoLedgers() {
      const db = await backend.open();
      const a = ledgerOn(db.store).ledger;
      const b = ledgerOn(await db.reopen()).ledger;
      return { db, a, b };
    }

    it('many first uses of one account at once provision it once and charge each', async () => {
      const { db, a, b } = await twoLedgers();
      try {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? b : a).deduct({ account: 'new', feature: 'social_post' })),
        );
        assert.equal(results.filter((r) => r.ok).length, 40);
        assert.equal((await a.getBalance('new')).balance, 60);
        const opening = (await a.history('new', { limit: 100 })).entries.filter((e) => e.kind === 'opening_balance');
        assert.equal(opening.length, 1);
        assert.deepEqual(await a.reconcile(), { accountsChecked: 1, drift: [] });
      } finally {
        await db.cleanup();
      }
    });

    it('one idempotency key sent many times at once charges once and replays the rest', async () => {
      const { db, a, b } = await twoLedgers();
      try {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? b : a).deduct({ account: 'k', feature: 'social_post', idempotencyKey: 'same' }),
          ),
        );
        const ok = results.map(accepted);
        assert.equal(ok.filter((r) => !r.replayed).length, 1);
        assert.equal(new Set(ok.map((r) => r.entryId)).size, 1);
        assert.equal((await a.getBalance('k')).balance, 99);
      } finally {
        await db.cleanup();
      }
    });

    it('one payment reference credited to two accounts at once is credited once', async () => {
      const { db, a, b } = await twoLedgers();
      try {
        const [x, y] = await Promise.all([
          a.credit({ account: 'x', tokens: 50, source: 'stripe', reference: 'pi_1' }),
          b.credit({ account: 'y', tokens: 50, source: 'stripe', reference: 'pi_1' }),
        ]);
        const outcomes = [x, y].map((r) => (r.ok ? 'credited' : r.code)).sort();
        assert.deepEqual(outcomes, ['credited', 'idempotency_conflict']);
        assert.equal((await a.getBalance('x')).balance + (await a.getBalance('y')).balance, 250);
        assert.deepEqual((await a.reconcile()).drift, []);
      } finally {
        await db.cleanup();
      }
    });

    it('one hold settled twice at once is settled once; the other is told it is not active', async () => {
      const { db, a, b } = await twoLedgers();
      try {
        const hold = accepted(await a.reserve({ account: 'h', amount: 10 }));
        const [x, y] = await Promise.all([a.commitHold(hold.holdId, 4), b.commitHold(hold.holdId, 4)]);
        const outcomes = [x, y].map((r) => (r.ok ? r.status : r.code)).sort();
        assert.deepEqual(outcomes, ['committed', 'hold_not_active']);
        const view = await a.getBalance('h');
        assert.equal(view.balance, 96);
        assert.equal(view.held, 0);
        assert.deepEqual((await a.reconcile()).drift, []);
      } finally {
        await db.cleanup();
      }
    });

    it('a 64-bit figure beyond 2^53 is refused when read, never rounded', async () => {
      const { db, a } = await twoLedgers();
      try {
        accepted(await a.deduct({ account: 'big', feature: 'social_post' }));
        await db.raw(`UPDATE accounts SET purchased = 9007199254740993 WHERE id = 'big'`);
        await assert.rejects(db.store.getAccount('big'), RangeError);
      } finally {
        await db.cleanup();
      }
    });
  });
}
