import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LedgerEntry } from '../../src/core/entry.ts';
import { ENTRY_CSV_COLUMNS, entryCsvHeader, entryCsvLine } from '../../src/migrate/entry-csv.ts';
import { entriesOldestFirst } from '../../src/migrate/ledger-export.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { accepted, ledgerOn } from '../helpers/ledger.ts';

describe('entriesOldestFirst', () => {
  it('yields every entry of a ledger longer than a history page, oldest first', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.migrate();
    const { ledger } = ledgerOn(store);
    try {
      accepted(await ledger.credit({ account: '7', tokens: 5000, source: 'test', reference: 'seed' }));
      for (let i = 0; i < 2100; i++) accepted(await ledger.deduct({ account: '7', feature: 'outbound_call_single' }));
      const ids: number[] = [];
      for await (const e of entriesOldestFirst(ledger, '7')) ids.push(e.id);
      assert.equal(ids.length, 2102);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
      assert.equal(new Set(ids).size, ids.length);
    } finally {
      await ledger.close();
    }
  });
});

describe('entry CSV', () => {
  const entry: LedgerEntry = {
    id: 3,
    account: '7',
    kind: 'adjustment',
    amount: -58,
    allocationDelta: -58,
    purchasedDelta: 0,
    promotionalDelta: 0,
    debtDelta: 0,
    grantMoves: [],
    balanceAfter: 42,
    feature: null,
    quantity: null,
    idempotencyKey: null,
    source: 'recover',
    reference: 'logs-sha256:ab',
    reason: 'seed, "58 calls"\nnot charged',
    actor: '=cmd()',
    at: Date.parse('2025-11-05T10:00:00Z'),
  };

  it('has one column per entry field, in the JSON names', () => {
    assert.equal(entryCsvHeader(), `${ENTRY_CSV_COLUMNS.join(',')}\r\n`);
    assert.ok(ENTRY_CSV_COLUMNS.includes('balance_after'));
  });

  it('quotes commas, quotes and newlines; defuses spreadsheet formulas in text; keeps negative amounts', () => {
    assert.equal(
      entryCsvLine(entry),
      '3,2025-11-05T10:00:00.000Z,7,adjustment,-58,-58,0,42,,,,recover,logs-sha256:ab,' +
        `"seed, ""58 calls""\nnot charged",'=cmd(),0,0,,,0,\r\n`,
    );
  });
});
