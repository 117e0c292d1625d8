import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freshDb, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();

// README: "A row that cannot be an account (..., an unparseable CSV record) is *rejected* with its
// row (and CSV line) and the reason; the other rows are imported." csv-parse read a stray quote
// as a field running to the end of the file and skipped it all as one record: users 3 to 5 were
// neither imported nor listed, and the report blamed line 6.
describe('import-legacy: a CSV record with a stray, unclosed quote', () => {
  it('is rejected alone, by its own line; every other row is imported, again and again', () => {
    const csv = path.join(dir, 'users.csv');
    fs.writeFileSync(
      csv,
      [
        'id,tokens_balance,tokens_used_this_month,token_package',
        '1,10,0,free',
        '2,"20,0,free',
        '3,30,0,free',
        '4,40,0,free',
        '5,500,0,free',
        '',
      ].join('\n'),
    );
    const db = freshDb(dir);
    const rejected = [
      {
        row: 2,
        line: 3,
        account: null,
        reason: 'Quote Not Closed: a stray quote in field 2 (the line is a whole record without it)',
      },
    ];
    const report = runJson(['import-legacy', '--source', csv], db);
    assert.deepEqual(
      [
        report.rows_read,
        report.imported,
        report.tokens_imported,
        report.skipped,
        report.rejected,
        report.rejected_count,
      ],
      [5, 4, 580, 0, rejected, 1],
    );
    const again = runJson(['import-legacy', '--source', csv], db);
    assert.deepEqual(
      [again.rows_read, again.imported, again.skipped, again.rejected, again.rejected_count],
      [5, 0, 4, rejected, 1],
    );
    assert.deepEqual([runJson(['balance', '5'], db).balance, runJson(['balance', '2'], db).exists], [500, false]);
  });
});
