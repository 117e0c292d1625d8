// BatchTx.insertEntries mirrors the database's unique index on keyed debits, and hands each
// entry an id. It takes both from what `open` read when it can (no await), and from the store
// otherwise: a key the plan did not name, ids past those reserved. Whichever way, a key is
// refused exactly when it was already stored or already inserted in the batch, and every id is
// new and above the ids before it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { EntryDraft } from '../../src/core/entry.ts';
import { BatchTx } from '../../src/ledger/batch/batch-tx.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { WriteConflictError } from '../../src/store/write-conflict.ts';
import { accepted, ledgerOn } from '../helpers/ledger.ts';

const ACCOUNT = 'acct-batch';
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
/** Keys with a debit stored before any batch runs. */
const STORED = ['k0', 'k1'];

function debit(key: string): EntryDraft {
  return {
    account: ACCOUNT,
    kind: 'debit',
    amount: -1,
    allocationDelta: 0,
    purchasedDelta: -1,
    promotionalDelta: 0,
    debtDelta: 0,
    grantMoves: [],
    balanceAfter: 0,
    feature: 'outbound_call_single',
    quantity: 1,
    idempotencyKey: key,
    source: null,
    reference: null,
    reason: null,
    actor: null,
    at: 0,
    heldAfter: 0,
  };
}

/** Rolls a batch's transaction back once the test has looked at it. */
class Abandon extends Error {}

describe('BatchTx.insertEntries', () => {
  let dir: string;
  let store: SqliteStore;
  let lastStoredId: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-batch-entries-'));
    store = new SqliteStore({ path: join(dir, 'ledger.db') });
    await store.migrate();
    const { ledger } = ledgerOn(store, undefined, false);
    await ledger.adjust({ account: ACCOUNT, setBalance: 100, reason: 'test', actor: 'test' });
    lastStoredId = 0;
    for (const key of STORED) {
      const charged = accepted(
        await ledger.deduct({ account: ACCOUNT, feature: 'outbound_call_single', idempotencyKey: key }),
      );
      lastStoredId = Math.max(lastStoredId, charged.entryId);
    }
  });

  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a key exactly when it is stored or already in the batch, and gives fresh ascending ids (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(KEYS),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        async (named, operations, calls) => {
          const seen = new Set(STORED);
          const ids: number[] = [];
          await assert.rejects(
            store.write(async (tx) => {
              const batch = await BatchTx.open(tx, {
                accounts: [ACCOUNT],
                keys: [],
                deductions: named.map((key) => ({ account: ACCOUNT, key })),
                operations,
                now: Date.now(),
              });
              for (const keys of calls) {
                const repeated = keys.findIndex((k, i) => seen.has(k) || keys.indexOf(k) < i);
                const call = batch.insertEntries(keys.map(debit));
                if (repeated >= 0) {
                  await assert.rejects(call, WriteConflictError);
                  break;
                }
                ids.push(...(await call));
                for (const k of keys) seen.add(k);
              }
              throw new Abandon();
            }),
            Abandon,
          );
          assert.equal(new Set(ids).size, ids.length, `ids handed out twice: ${ids}`);
          ids.forEach((id, i) => {
            assert.ok(id > (i === 0 ? lastStoredId : (ids[i - 1] as number)), `ids ${ids} after ${lastStoredId}`);
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});
