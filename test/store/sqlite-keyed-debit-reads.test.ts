// A SQLite batch reads the keyed debits its deductions name in statements of 256, 64, 16, 4 or 1
// (account, key) pairs, the last padded with pairs of NULLs (sqlite-batch-writes.ts). Whatever
// the count, it must find exactly the stored debits named, once for each time a pair is named:
// none of another account, none for a padding row.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { findDeductions } from '../../src/store/sqlite/sqlite-batch-writes.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { DeductionRef } from '../../src/store/store.ts';
import { accepted, ledgerOn } from '../helpers/ledger.ts';
import { PlannedConnection } from '../helpers/planned-connection.ts';

const dir = mkdtempSync(join(tmpdir(), 'tm-keyed-reads-'));
const path = join(dir, 'ledger.db');
const ACCOUNTS = ['a', 'b', 'c'];
/** Keys 0..KEYS-1 are stored on every account but `c`, which has only the even ones. */
const KEYS = 300;
const stored = new Map<string, number>();

let conn: PlannedConnection;

before(async () => {
  const store = new SqliteStore({ path });
  await store.migrate();
  const { ledger } = ledgerOn(store);
  try {
    for (const account of ACCOUNTS) {
      await ledger.createAccount({ account, plan: 'pro' });
      await ledger.adjust({ account, amount: 10_000, reason: 'test credit', actor: 'test' });
    }
    const writes = ACCOUNTS.flatMap((account) =>
      Array.from({ length: KEYS }, (_, i) => ({ account, i })).filter(
        ({ account, i }) => account !== 'c' || i % 2 === 0,
      ),
    );
    const results = await Promise.all(
      writes.map(({ account, i }) =>
        ledger.deduct({ account, feature: 'outbound_call_single', idempotencyKey: `key-${i}` }),
      ),
    );
    results.forEach((r, n) => {
      const { account, i } = writes[n] as { account: string; i: number };
      stored.set(`${account}/key-${i}`, accepted(r).entryId);
    });
  } finally {
    await ledger.close();
  }
  conn = new PlannedConnection(path, 5000);
});

after(() => {
  conn.close();
  rmSync(dir, { recursive: true, force: true });
});

const ref = fc.record({
  account: fc.constantFrom(...ACCOUNTS, 'nobody'),
  // Past KEYS: keys no account has.
  key: fc.integer({ min: 0, max: KEYS + 20 }).map((i) => `key-${i}`),
});

describe('the keyed debits a SQLite batch reads', () => {
  it('are exactly the stored ones named, for any number of pairs (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(ref, { minLength: 1, maxLength: 600, selector: (r) => `${r.account}/${r.key}` }),
        (refs: DeductionRef[]) => {
          const found = findDeductions(conn, refs).map((d) => `${d.account}/${d.idempotencyKey}:${d.id}`);
          const expected = refs.flatMap((r) => {
            const id = stored.get(`${r.account}/${r.key}`);
            return id === undefined ? [] : [`${r.account}/${r.key}:${id}`];
          });
          assert.deepEqual(found.sort(), expected.sort());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads every size at a statement boundary and one past it, a pair named twice found twice', () => {
    for (const n of [1, 2, 4, 5, 16, 17, 64, 65, 255, 256, 257, 513]) {
      // Past KEYS, the keys start again: a batch whose deductions repeat a key names it twice.
      const refs = Array.from({ length: n }, (_, i) => ({ account: 'a', key: `key-${i % KEYS}` }));
      const found = findDeductions(conn, refs).map((d) => d.idempotencyKey);
      assert.deepEqual(found.sort(), refs.map((r) => r.key).sort(), `${n} pairs`);
    }
  });

  it("probe the keyed debits' unique index once a pair, never scan the ledger", () => {
    conn.take();
    for (const n of [1, 3, 10, 40, 200, 300]) {
      findDeductions(
        conn,
        Array.from({ length: n }, (_, i) => ({ account: 'b', key: `key-${i}` })),
      );
    }
    const plans = new Set(conn.take());
    assert.ok(plans.size >= 5, 'a statement of each size was planned');
    for (const plan of plans) {
      assert.match(plan, /SEARCH e USING INDEX ledger_entries_deduction_key \(idempotency_key=\? AND account_id=\?\)/);
      assert.doesNotMatch(plan, /SCAN e\b/);
    }
  });
});
