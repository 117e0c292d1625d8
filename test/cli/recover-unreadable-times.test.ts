import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshDb, runJson, tempDir } from './cli-helpers.ts';
import { legacySqlite, SEED_USER_7, seedIncidentLines, writeLog } from './legacy-helpers.ts';

const dir = tempDir();
type Row = Record<string, unknown>;

const deduction = (before: number) =>
  `[TOKENS] Deducted 1 tokens from user 7 (outbound_call_single). Balance: ${before} → ${before - 1}`;

// A line without a time counts whatever the window, after the import too. A JSON record whose
// time could not be read was such a line, and a date like 2099-02-30 with an offset was moved to
// another day: calls made after the switch, which tokenmeter had already charged, were charged
// again. Both are unreadable lines now, reported with file, line and reason.
describe('recover: times it cannot read', () => {
  it('are reported, never counted: the calls tokenmeter charged after the import are not charged again', () => {
    const db = freshDb(dir);
    const legacy = legacySqlite(dir, [SEED_USER_7]);
    assert.equal(runJson(['import-legacy', '--source', `sqlite:${legacy}`], db).imported, 1);
    // Three calls after the switch, charged by tokenmeter itself.
    for (let i = 0; i < 3; i++) runJson(['deduct', '7', 'outbound_call_single'], db);
    // The app's log of those calls: RFC 1123 times (Date#toUTCString) and an impossible date.
    const after = [
      JSON.stringify({ level: 30, time: 'Thu, 01 Jan 2099 00:00:00 GMT', msg: deduction(100) }),
      JSON.stringify({ level: 30, time: 'Thu, 01 Jan 2099 00:00:01 GMT', msg: deduction(99) }),
      `2099-02-30T10:00:00+01:00 [INFO] ${deduction(98)}`,
    ];
    const log = writeLog(dir, [...seedIncidentLines(58), ...after]);
    const report = runJson(['recover', '--logs', log, '--apply', '--reason', 'seed incident'], db);
    const seven = (report.accounts as Row[]).find((a) => a.account === '7');
    assert.deepEqual([seven?.spent, seven?.untimed_deductions, seven?.correction], [58, 0, -58]);
    const logs = report.logs as Row;
    assert.deepEqual(
      (logs.unreadable as Row[]).map((u) => [u.line, u.reason]),
      [
        [117, 'invalid timestamp (time: "Thu, 01 Jan 2099 00:00:00 GMT")'],
        [118, 'invalid timestamp (time: "Thu, 01 Jan 2099 00:00:01 GMT")'],
        [119, 'invalid timestamp "2099-02-30T10:00:00+01:00"'],
      ],
    );
    // Only the 58 uncharged incident calls are recovered: 100 − 3 (charged) − 58 = 39.
    assert.equal(runJson(['balance', '7'], db).balance, 39);
  });
});
