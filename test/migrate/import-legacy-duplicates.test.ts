import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import type { LegacyRow } from '../../src/core/legacy-row.ts';
import { importLegacy } from '../../src/migrate/import-legacy.ts';
import type { LegacySource } from '../../src/migrate/legacy/legacy-source.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ledgerOn } from '../helpers/ledger.ts';

// Written from the rule, not from the code: in one run, the first importable row with an id is
// the one taken; each later row with that id is rejected, naming that row and both balances,
// and is never "skipped, already imported" (which means an earlier run imported it).

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-import-dups-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A legacy table without a primary key, read in order. */
function tableOf(rows: readonly LegacyRow[]): LegacySource {
  return {
    description: 'test:users',
    total: rows.length,
    unit: 'rows',
    position: () => 0,
    async *items() {
      for (const [i, row] of rows.entries()) yield { kind: 'row', place: { row: i + 1, line: null }, row };
    },
    async close() {},
  };
}

const rowArb = fc.record({
  id: fc.constantFrom('5', '6', '7', 'x'),
  balance: fc.oneof(fc.constant(null), fc.integer({ min: -50, max: 900 })),
  used: fc.constant(0),
  plan: fc.constant(null),
});

/** The rule: which row each id takes (its balance; NULL opens with free's 100), and which rows are repeats. */
function oracle(rows: readonly LegacyRow[]) {
  const taken = new Map<string, { row: number; balance: number }>();
  const repeats: { row: number; account: string; first: number; balances: [number, number] }[] = [];
  rows.forEach((r, i) => {
    const id = String(r.id);
    const balance = typeof r.balance === 'number' ? r.balance : 100;
    const first = taken.get(id);
    if (first) repeats.push({ row: i + 1, account: id, first: first.row, balances: [first.balance, balance] });
    else taken.set(id, { row: i + 1, balance });
  });
  return { taken, repeats };
}

describe('import-legacy: an id the source holds more than once', () => {
  it('imports the first row with it, rejects each repeat with both balances, and a re-run imports nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 4 }),
        async (rows, batchSize) => {
          files += 1;
          const store = new SqliteStore({ path: path.join(dir, `ledger-${files}.db`) });
          await store.migrate();
          const { ledger } = ledgerOn(store);
          try {
            const { taken, repeats } = oracle(rows);
            const run = (dryRun: boolean) => importLegacy(ledger, tableOf(rows), { dryRun, actor: 'test', batchSize });

            const preview = await run(true);
            const first = await run(false);
            const again = await run(false);

            for (const [report, imported, skipped] of [
              [preview, taken.size, 0],
              [first, taken.size, 0],
              [again, 0, taken.size],
            ] as const) {
              assert.deepEqual([report.imported, report.skipped, report.alreadyActiveCount], [imported, skipped, 0]);
              assert.equal(report.rejectedCount, repeats.length);
              assert.deepEqual(
                report.rejected.map((r) => [r.row, r.account]),
                repeats.map((r) => [r.row, r.account]),
              );
              report.rejected.forEach((r, i) => {
                const repeat = repeats[i];
                assert.ok(repeat);
                assert.ok(r.reason.startsWith(`duplicate id: row ${repeat.first} `), r.reason);
                assert.ok(r.reason.includes(`(balance ${repeat.balances[0]})`), r.reason);
                assert.ok(r.reason.includes(`this row's balance ${repeat.balances[1]} is not imported`), r.reason);
              });
            }
            for (const [account, { balance }] of taken) {
              assert.equal((await ledger.getBalance(account)).balance, balance, `account ${account}`);
              assert.equal((await ledger.history(account)).entries.length, 1, `account ${account}: one opening`);
            }
          } finally {
            await ledger.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
