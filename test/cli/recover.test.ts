import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { assertFails, freshDb, parseJson, runCli, runJson, tempDir } from './cli-helpers.ts';
import { legacySqlite, SEED_USER_7, seedIncidentLines, seedLogLine, writeLog } from './legacy-helpers.ts';

const dir = tempDir();
const REASON = 'seed incident: 58 outbound calls were never charged';

type Row = Record<string, unknown>;

/** A database where the seed's user 7 was imported (NULL balance → 100). */
function importedSeed(extra: { id: number; balance?: number }[] = []): string {
  const db = freshDb(dir);
  const legacy = legacySqlite(dir, [SEED_USER_7, ...extra]);
  assert.equal(runJson(['import-legacy', '--source', `sqlite:${legacy}`], db).imported, 1 + extra.length);
  return db;
}

function account(report: Row, id: string): Row {
  const found = (report.accounts as Row[]).find((a) => a.account === id);
  assert.ok(found, `account ${id} in ${JSON.stringify(report.accounts)}`);
  return found;
}

function adjustments(db: string, id: string): Row[] {
  return (runJson(['history', id], db).entries as Row[]).filter((e) => e.kind === 'adjustment');
}

describe('recover: the seed case end to end', () => {
  it('58 × "Balance: 100 → 99": expected 42, correction −58, red flag; --apply → 42; again → nothing', () => {
    const db = importedSeed();
    const log = writeLog(dir, seedIncidentLines(58));

    const preview = runJson(['recover', '--logs', log], db);
    assert.equal(preview.applied, false);
    assert.equal(preview.logs && (preview.logs as Row).deduction_lines, 58);
    const seven = account(preview, '7');
    assert.equal(seven.status, 'correction_pending');
    assert.equal(seven.spent, 58);
    assert.equal(seven.opening, 100);
    assert.equal(seven.expected_balance, 42);
    assert.equal(seven.opened_with, 100);
    assert.equal(seven.opened_by, 'import');
    assert.equal(seven.balance, 100);
    assert.equal(seven.correction, -58);
    assert.equal(seven.balance_after, 42);
    assert.equal(seven.red_flag, true);
    assert.deepEqual(seven.repeated_balances, [{ balance_before: 100, balance_after: 99, times: 58 }]);
    assert.match(String(seven.reference), /^logs-sha256:[0-9a-f]{64}$/);
    assert.equal(preview.corrections_pending, 1);
    assert.equal(runJson(['balance', '7'], db).balance, 100, 'a preview writes nothing');

    const human = runCli(['recover', '--logs', log], { databaseUrl: db });
    assert.equal(human.status, 0, 'a preview with a correction pending still exits 0');
    assert.match(human.stdout, /expected 100 − 58 = 42/);
    assert.match(human.stdout, /RED FLAG: "Balance: 100 → 99" logged 58 times/);
    assert.match(human.stdout, /correction -58 → balance 42 \(pending\)/);
    assert.match(human.stdout, /Preview only: 1 correction pending/);

    const applied = runJson(['recover', '--logs', log, '--apply', '--reason', REASON], db);
    const done = account(applied, '7');
    assert.equal(done.status, 'applied');
    assert.equal(done.balance_after, 42);
    assert.equal(applied.corrections_applied, 1);
    assert.equal(applied.tokens_corrected, -58);
    assert.equal(runJson(['balance', '7'], db).balance, 42);
    const [entry] = adjustments(db, '7');
    assert.equal(entry?.amount, -58);
    assert.equal(entry?.source, 'recover');
    assert.equal(entry?.reference, seven.reference);
    assert.equal(entry?.reason, REASON);

    const again = runJson(['recover', '--logs', log, '--apply', '--reason', REASON], db);
    assert.equal(account(again, '7').status, 'already_applied');
    assert.equal(again.corrections_applied, 0);
    assert.equal(runJson(['balance', '7'], db).balance, 42);
    assert.equal(adjustments(db, '7').length, 1);
    assert.equal(runCli(['reconcile'], { databaseUrl: db }).status, 0);
  });

  it('spending tokenmeter recorded after the import is neither counted nor undone', () => {
    const db = importedSeed();
    for (let i = 0; i < 3; i++) runJson(['deduct', '7', 'outbound_call_single'], db);
    // The app's log after the switch: tokenmeter's own lines, dated after the import.
    const after = [0, 1, 2].map((i) =>
      seedLogLine(new Date(Date.parse('2099-01-01T00:00:00Z') + i), '7', 100 - i, 99 - i),
    );
    const log = writeLog(dir, [...seedIncidentLines(58), ...after]);
    const r = account(runJson(['recover', '--logs', log, '--apply', '--reason', REASON], db), '7');
    assert.equal(r.spent, 58);
    assert.equal(r.outside_window, 3);
    assert.equal(r.correction, -58);
    assert.equal(r.balance, 97);
    assert.equal(runJson(['balance', '7'], db).balance, 39);
  });
});

describe('recover: reading the logs', () => {
  it('reads gzip logs, and a line met in two overlapping files counts once', () => {
    const db = importedSeed();
    const lines = seedIncidentLines(58);
    const first = writeLog(dir, lines.slice(0, 80));
    const second = writeLog(dir, lines.slice(40), { gzip: true });
    const report = runJson(['recover', '--logs', first, '--logs', second], db);
    const logs = report.logs as Row;
    assert.deepEqual(
      (logs.files as Row[]).map((f) => [f.gzip, f.deduction_lines]),
      [
        [false, 40],
        [true, 38],
      ],
    );
    assert.equal(logs.duplicate_lines, 20);
    assert.equal(account(report, '7').spent, 58);
    assert.equal(account(report, '7').correction, -58);
  });

  it('counts and reports the lines it cannot read, and still exits 0', () => {
    const db = importedSeed();
    const log = writeLog(dir, [
      ...seedIncidentLines(3),
      '2025-11-04T12:00:00Z [INFO] [TOKENS] Deducted many tokens from user 7 (outbound_call_single). Balance: 100 → 99',
      '2025-11-04T12:01:00Z [INFO] [TOKENS] Deducted 1 tokens from user 7 (outbound_call_sin',
      'some other line',
    ]);
    const run = runCli(['recover', '--logs', log, '--json'], { databaseUrl: db });
    assert.equal(run.status, 0);
    const report = parseJson(run);
    const logs = report.logs as Row;
    assert.equal(logs.unreadable_lines, 2);
    assert.deepEqual(
      (logs.unreadable as Row[]).map((u) => [u.file, u.line]),
      [
        [log, 7],
        [log, 8],
      ],
    );
    assert.equal(logs.other_lines, 4, 'three NULL warnings and one other line');
    assert.equal(account(report, '7').spent, 3);
    const human = runCli(['recover', '--logs', log], { databaseUrl: db });
    assert.match(human.stdout, /2 unreadable/);
    assert.match(
      human.stdout,
      new RegExp(`unreadable ${log.replaceAll('.', '\\.')}:7: the token count is not a whole number`),
    );
  });

  it('--since and --until narrow the window by each line time; --opening replaces the allocation', () => {
    const db = importedSeed();
    const log = writeLog(dir, seedIncidentLines(58));
    const r = account(
      runJson(
        [
          'recover',
          '--logs',
          log,
          '--since',
          '2025-11-04T09:10:00Z',
          '--until',
          '2025-11-04T09:20:00Z',
          '--opening',
          '90',
        ],
        db,
      ),
      '7',
    );
    assert.equal(r.spent, 10);
    assert.equal(r.outside_window, 48);
    assert.equal(r.expected_balance, 80);
    assert.equal(r.correction, -20);
    assert.equal(r.opening_mismatch, true, 'the logs start at 100, not 90');
  });

  it('--account reports one account; an account tokenmeter never saw is reported, not written', () => {
    const db = importedSeed([{ id: 8, balance: 49 }]);
    const log = writeLog(dir, [
      ...seedIncidentLines(2),
      seedLogLine(new Date('2025-11-04T10:00:00Z'), '8', 50, 49),
      seedLogLine(new Date('2025-11-04T10:00:00Z'), '99', 100, 99),
    ]);
    const all = runJson(['recover', '--logs', log, '--apply', '--reason', REASON], db);
    assert.deepEqual(
      (all.accounts as Row[]).map((a) => [a.account, a.status]),
      [
        ['7', 'applied'],
        ['8', 'needs_review'],
        ['99', 'not_in_tokenmeter'],
      ],
    );
    assert.equal(runJson(['balance', '7'], db).balance, 98);
    assert.deepEqual(runJson(['history', '99'], db).entries, []);

    const one = runJson(['recover', '--logs', log, '--account', '8', '--opening', '50'], db);
    assert.deepEqual(
      (one.accounts as Row[]).map((a) => [a.account, a.status, a.expected_balance, a.correction]),
      [['8', 'no_correction', 49, 0]],
    );
    assert.equal((one.logs as Row).other_account_lines, 3);
    const none = runJson(['recover', '--logs', log, '--account', '12'], db);
    assert.equal(account(none, '12').status, 'not_in_tokenmeter');
  });

  it('holds back a correction when the logs start from another balance than the default opening', () => {
    // Account 8's legacy balance was saved correctly (49 after 50 → 49), but the default
    // opening is the plan's 100: writing +50 would be wrong, so it waits for the operator.
    const db = importedSeed([{ id: 8, balance: 49 }]);
    const log = writeLog(dir, [seedLogLine(new Date('2025-11-04T10:00:00Z'), '8', 50, 49)]);
    const report = runJson(['recover', '--logs', log, '--apply', '--reason', REASON], db);
    const eight = account(report, '8');
    assert.deepEqual([eight.status, eight.correction, eight.first_logged_balance], ['needs_review', 50, 50]);
    assert.equal(runJson(['balance', '8'], db).balance, 49);
    const human = runCli(['recover', '--logs', log], { databaseUrl: db });
    assert.match(human.stdout, /needs review, not written: the logs start at balance 50/);
  });
});

describe('recover: what it cannot do exits 1', () => {
  const db = freshDb(dir);
  const log = writeLog(dir, seedIncidentLines(1));
  const corrupt = path.join(dir, 'corrupt.log.gz');
  fs.writeFileSync(corrupt, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5]));

  for (const [what, args, fragment] of [
    ['a missing log file', ['--logs', path.join(dir, 'missing.log')], 'cannot read'],
    ['a damaged gzip file', ['--logs', corrupt], 'cannot read'],
    ['--apply without --reason', ['--logs', log, '--apply'], 'reason: is required with --apply'],
    ['a --since that is not a time', ['--logs', log, '--since', 'last tuesday'], 'since: must be an ISO-8601 time'],
    ['--until before --since', ['--logs', log, '--since', '2025-11-05', '--until', '2025-11-04'], 'until'],
    ['a negative --opening', ['--logs', log, '--opening', '-1'], 'opening'],
    ['no --logs', [], '--logs'],
  ] as const) {
    it(what, () => {
      const run = runCli(['recover', ...args], { databaseUrl: db });
      if (what === 'no --logs') {
        assert.equal(run.status, 1);
        assert.match(run.stderr, /--logs/);
        return;
      }
      assertFails(run, fragment);
    });
  }
});

describe('item 15: a narrower recover run never undoes an earlier one', () => {
  const LATER = '2025-11-04T09:30:00Z';

  it('full (−58 → 42), then --since later --account 7 --apply writes nothing new, then full again: already applied at 42', () => {
    const db = importedSeed();
    const log = writeLog(dir, seedIncidentLines(58));
    const full = account(runJson(['recover', '--logs', log, '--apply', '--reason', REASON], db), '7');
    assert.deepEqual([full.status, full.correction, full.balance_after], ['applied', -58, 42]);
    assert.deepEqual(full.counted_before, { deductions: 0, spent: 0 });
    assert.deepEqual(full.already_counted, { deductions: 0, spent: 0 });
    assert.deepEqual([full.new_deductions, full.new_spent], [58, 58]);

    const narrowRun = runJson(
      ['recover', '--logs', log, '--since', LATER, '--account', '7', '--apply', '--reason', REASON],
      db,
    );
    const narrow = account(narrowRun, '7');
    assert.equal(narrow.status, 'already_applied', 'its 28 lines were counted by the full run');
    assert.equal(narrow.spent, 28);
    assert.deepEqual(narrow.already_counted, { deductions: 28, spent: 28 });
    assert.deepEqual(narrow.counted_before, { deductions: 58, spent: 58 });
    assert.deepEqual([narrow.new_deductions, narrow.new_spent, narrow.correction], [0, 0, 0]);
    assert.equal(narrow.expected_balance, 42, 'what all the evidence counted so far says');
    assert.equal(narrowRun.corrections_applied, 0);
    assert.equal(runJson(['balance', '7'], db).balance, 42);

    const again = account(runJson(['recover', '--logs', log, '--apply', '--reason', REASON], db), '7');
    assert.deepEqual([again.status, again.balance, again.balance_after], ['already_applied', 42, 42]);
    assert.equal(runJson(['balance', '7'], db).balance, 42);
    assert.equal(adjustments(db, '7').length, 1);
    const human = runCli(['recover', '--logs', log, '--since', LATER], { databaseUrl: db });
    assert.match(human.stdout, /earlier recoveries counted 58 deductions \(58 tokens\)/);
    assert.equal(runCli(['reconcile'], { databaseUrl: db }).status, 0);
  });

  it('narrow first, then full: the full run adds only the rest, ending at 42', () => {
    const db = importedSeed();
    const log = writeLog(dir, seedIncidentLines(58));
    const narrow = account(
      runJson(['recover', '--logs', log, '--since', LATER, '--account', '7', '--apply', '--reason', REASON], db),
      '7',
    );
    assert.deepEqual([narrow.status, narrow.correction, narrow.balance_after], ['applied', -28, 72]);
    const full = account(runJson(['recover', '--logs', log, '--apply', '--reason', REASON], db), '7');
    assert.deepEqual([full.status, full.correction, full.balance_after], ['applied', -30, 42]);
    assert.deepEqual(full.already_counted, { deductions: 28, spent: 28 });
    assert.deepEqual(full.counted_before, { deductions: 28, spent: 28 });
    const again = account(runJson(['recover', '--logs', log, '--apply', '--reason', REASON], db), '7');
    assert.deepEqual([again.status, again.balance_after], ['already_applied', 42]);
    assert.equal(runJson(['balance', '7'], db).balance, 42);
    assert.deepEqual(
      adjustments(db, '7').map((e) => e.amount),
      [-30, -28],
    );
  });

  it('an --opening other than the one an earlier recovery settled is held for review, not applied', () => {
    const db = importedSeed();
    const log = writeLog(dir, [...seedIncidentLines(58), seedLogLine(new Date('2025-11-04T11:00:00Z'))]);
    const first = writeLog(dir, seedIncidentLines(58));
    assert.equal(
      account(runJson(['recover', '--logs', first, '--apply', '--reason', REASON], db), '7').status,
      'applied',
    );
    const other = account(
      runJson(['recover', '--logs', log, '--opening', '90', '--apply', '--reason', REASON], db),
      '7',
    );
    assert.deepEqual(
      [other.status, other.review_reason, other.settled_opening],
      ['needs_review', 'opening_settled', 100],
    );
    assert.equal(runJson(['balance', '7'], db).balance, 42);
    const same = account(runJson(['recover', '--logs', log, '--apply', '--reason', REASON], db), '7');
    assert.deepEqual([same.status, same.correction, same.new_deductions, same.balance_after], ['applied', -1, 1, 41]);
  });
});
