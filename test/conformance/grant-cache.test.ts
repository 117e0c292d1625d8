// Each store remembers the grants of accounts its group-commit batches wrote (src/store/grant-cache.ts).
// What it remembers must be what a read would give: the same grants (the JavaScript predicate
// equal to the SQL one), and nothing from a write that rolled back. (Another process's change
// since: group-commit.test.ts.)
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { GRANT_CATEGORIES, GRANT_STATUSES } from '../../src/core/grant.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { isLiveGrant, LIVE_GRANT } from '../../src/store/rows.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { accepted, catalog, ledgerOn } from '../helpers/ledger.ts';

describe('the live-grant rule', () => {
  it('in JavaScript selects exactly the grants the SQL selects', () => {
    const db = new DatabaseSync(':memory:');
    const live = db.prepare(`SELECT ${LIVE_GRANT} AS live FROM (SELECT ? AS status, ? AS remaining, ? AS category)`);
    fc.assert(
      fc.property(
        fc.constantFrom(...GRANT_STATUSES),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(...GRANT_CATEGORIES),
        (status, remaining, category) => {
          const row = live.get(status, remaining, category) as { live: number };
          assert.equal(isLiveGrant({ status, remaining, category }), row.live === 1);
        },
      ),
      { numRuns: 200 },
    );
    db.close();
  });
});

const ops = { reason: 'test', actor: 'ops' };

/** A trigger that fails any ledger entry of quantity 6, and what removes it, in the backend's SQL. */
function failingTrigger(backend: string): { create: string; drop: string } {
  if (backend.startsWith('sqlite')) {
    return {
      create: `CREATE TRIGGER fail_quantity_6 BEFORE INSERT ON ledger_entries WHEN NEW.quantity = 6
        BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
      drop: 'DROP TRIGGER fail_quantity_6',
    };
  }
  return {
    create: `CREATE FUNCTION fail_quantity_6() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.quantity = 6 THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER fail_quantity_6 BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION fail_quantity_6()`,
    drop: 'DROP TRIGGER fail_quantity_6 ON ledger_entries; DROP FUNCTION fail_quantity_6()',
  };
}

for (const backend of backends()) {
  describe(`remembered grants [${backend.name}]`, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    beforeEach(async () => {
      db = await backend.open();
      ledger = ledgerOn(db.store).ledger;
    });
    afterEach(async () => {
      await ledger.close();
      await db.cleanup();
    });

    it('a write that rolled back leaves nothing remembered: the next batch draws from the grants as stored', async () => {
      const other = new TokenLedger({ store: await db.reopen(), catalog });
      await ledger.createAccount({ account: 'r' });
      const promo = await ledger.grant({ account: 'r', tokens: 7, category: 'promotional', priority: 0, ...ops });
      accepted(await ledger.deduct({ account: 'r', feature: 'outbound_call_single', quantity: 1 }));
      // This process's next write uses up the promotion, then fails before its COMMIT.
      const trigger = failingTrigger(backend.name);
      await db.raw(trigger.create);
      await assert.rejects(ledger.deduct({ account: 'r', feature: 'outbound_call_single', quantity: 6 }), /injected/);
      await db.raw(trigger.drop);
      // Another process writes the account to the version the failed write would have left.
      accepted(await other.deduct({ account: 'r', feature: 'outbound_call_single', quantity: 2 }));
      // Had the failed write been remembered, the promotion would look used up and this would draw from the allocation.
      accepted(await ledger.deduct({ account: 'r', feature: 'outbound_call_single', quantity: 3 }));
      const grants = await ledger.grants('r', { includeInactive: true });
      assert.deepEqual(grants.find((g) => g.id === promo.id)?.remaining, 1);
      assert.deepEqual(grants.find((g) => g.category === 'included')?.remaining, 100);
      assert.deepEqual((await ledger.reconcile()).drift, []);
      await other.close();
    });
  });
}
