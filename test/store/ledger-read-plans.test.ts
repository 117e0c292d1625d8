// One account's history, ledger page or usage must be found through its own entries, and usage
// over every account through the window's entries, never by reading the whole ledger: SQLite's
// query plan for each such read, on a real file, may search an index but not scan the table. (A
// condition like `(? IS NULL OR account_id = ?)` is decided only when the statement runs, so
// SQLite cannot use an index for it.) The answers are checked against the entries as `history`
// or the unfiltered ledger page gives them, so the plans do not change what is read.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LedgerEntry } from '../../src/core/entry.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { SqliteReads } from '../../src/store/sqlite/sqlite-reads.ts';
import { SqliteServiceQueries } from '../../src/store/sqlite/sqlite-service-queries.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { PlannedConnection } from '../helpers/planned-connection.ts';

const DAY = 86_400_000;

describe("reads find their entries through an index, never the whole ledger (SQLite's plans)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-read-plans-'));
  const path = join(dir, 'plans.db');
  let store: SqliteStore;
  let ledger: TokenLedger;
  let reader: PlannedConnection;
  let reads: SqliteReads;
  let service: SqliteServiceQueries;
  let mine: LedgerEntry[];

  before(async () => {
    store = new SqliteStore({ path });
    await store.migrate();
    const opened = ledgerOn(store, '2026-03-01T00:00:00Z', false);
    ledger = opened.ledger;
    // Three accounts over five days, a few deductions each a day.
    for (let day = 0; day < 5; day++) {
      for (const account of ['a', 'b', 'c']) {
        for (let n = 0; n < 3; n++) await ledger.deduct({ account, feature: 'outbound_call_single' });
      }
      opened.clock.advance(DAY);
    }
    mine = (await ledger.history('a', { limit: 1000 })).entries;
    reader = new PlannedConnection(path, 15_000);
    reads = new SqliteReads(reader);
    const refuse = () => Promise.reject(new Error('this test only reads'));
    service = new SqliteServiceQueries(reader, reader, refuse);
  });

  after(async () => {
    reader.close();
    await ledger.close();
  });

  const assertSearched = (plans: string[]) => {
    assert.ok(plans.length > 0, 'a statement ran');
    for (const plan of plans) assert.doesNotMatch(plan, /SCAN ledger_entries/, plan);
  };

  it("history's first page and a later one (by cursor) search the account's index", async () => {
    const first = await reads.history('a', { limit: 4, cursor: null });
    assertSearched(reader.take());
    assert.ok(first.nextCursor);
    const second = await reads.history('a', { limit: 4, cursor: first.nextCursor });
    const plans = reader.take();
    assertSearched(plans);
    // The cursor is part of the search, not a filter applied to the newer entries on the way,
    // and the index gives the order (by time, then id: migration 16) without a sort.
    assert.match(plans.join(), /USING INDEX ledger_entries_account_at \(account_id=\? AND at<\?\)/);
    for (const plan of plans) assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
    assert.deepEqual(
      [...first.entries, ...second.entries].map((e) => e.id),
      mine.slice(0, 8).map((e) => e.id),
    );
  });

  it("the operator's ledger page for one account, with or without a time range and cursor", async () => {
    const all = await service.queryLedger({ account: 'a', limit: 100, cursor: null });
    assertSearched(reader.take());
    assert.deepEqual(
      all.entries.map((e) => e.id),
      mine.map((e) => e.id),
    );
    const from = mine.at(-1)?.at ?? 0;
    const ranged = await service.queryLedger({
      account: 'a',
      from: from + DAY,
      to: from + 3 * DAY,
      limit: 2,
      cursor: null,
    });
    assertSearched(reader.take());
    const inRange = mine.filter((e) => e.at >= from + DAY && e.at <= from + 3 * DAY);
    assert.deepEqual(
      ranged.entries.map((e) => e.id),
      inRange.slice(0, 2).map((e) => e.id),
    );
    const next = await service.queryLedger({
      account: 'a',
      kind: 'debit',
      from: from + DAY,
      to: from + 3 * DAY,
      limit: 100,
      cursor: ranged.nextCursor,
    });
    assertSearched(reader.take());
    assert.deepEqual(
      next.entries.map((e) => e.id),
      inRange
        .filter((e) => e.kind === 'debit')
        .slice(2)
        .map((e) => e.id),
    );
  });

  it("every account's usage over a window, by day and by account, reads the window's entries by time", async () => {
    const from = mine.at(-1)?.at ?? 0;
    const byDay = await service.usageByDay(from + DAY, from + 2 * DAY);
    assertSearched(reader.take());
    // Days 1 and 2 of five: three accounts, three uses a day each.
    assert.deepEqual(
      byDay.map((r) => [r.tokens, r.uses]),
      [
        [9, 9],
        [9, 9],
      ],
    );
    const byAccount = await service.usageByAccount(from + DAY, from + 2 * DAY, 2);
    assertSearched(reader.take());
    assert.equal(byAccount.accounts, 3);
    assert.equal(
      byAccount.rows.reduce((sum, r) => sum + r.tokens, 0),
      18,
    );
  });

  it("the operator's ledger page across accounts with a time range searches the window by time from its cursor, never sorting it", async () => {
    const from = mine.at(-1)?.at ?? 0;
    const everyone = (await service.queryLedger({ limit: 1000, cursor: null })).entries;
    reader.take();
    const window = { from: from + DAY, to: from + 3 * DAY };
    const inRange = everyone.filter((e) => e.at >= window.from && e.at <= window.to);
    const first = await service.queryLedger({ ...window, limit: 4, cursor: null });
    const second = await service.queryLedger({ ...window, limit: 4, cursor: first.nextCursor });
    const plans = reader.take();
    assert.equal(plans.length, 2);
    for (const plan of plans) {
      assert.match(plan, /SEARCH e USING INDEX ledger_entries_at \(at>\? AND at<\?\)/, plan);
      assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
    }
    assert.deepEqual(
      [...first.entries, ...second.entries].map((e) => e.id),
      inRange.slice(0, 8).map((e) => e.id),
    );
  });

  it("one account's usage by day", async () => {
    const from = mine.at(-1)?.at ?? 0;
    const usage = await service.usageByDay(from, from + 10 * DAY, 'a');
    const plans = reader.take();
    assertSearched(plans);
    // Through the account's own entries, not every account's in the window.
    assert.match(plans.join(), /USING INDEX ledger_entries_account(_at)? \(account_id=\?/);
    assert.equal(usage.length, 5);
    for (const row of usage) assert.deepEqual({ tokens: row.tokens, uses: row.uses }, { tokens: 3, uses: 3 });
  });
});
