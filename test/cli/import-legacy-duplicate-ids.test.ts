import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freshDb, runCli, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();

// A legacy table without a primary key may hold a user twice with different balances. A first
// import counted the second row as "skipped, already imported" (which means an earlier run
// imported it): the conflict and the other row's 500 tokens were in no report.
describe('import-legacy: the same id twice in one source', () => {
  it('takes the first row, rejects the repeat naming it with both balances, on every run', () => {
    const csv = path.join(dir, 'dup.csv');
    fs.writeFileSync(
      csv,
      ['id,tokens_balance,tokens_used_this_month,token_package', '5,0,0,free', '5,500,0,free', '6,60,0,free', ''].join(
        '\n',
      ),
    );
    const db = freshDb(dir);
    const rejected = [
      {
        row: 2,
        line: 3,
        account: '5',
        reason:
          "duplicate id: row 1 (line 2) has it too and is the one taken (balance 0); this row's balance 500 is not imported",
      },
    ];
    const first = runJson(['import-legacy', '--source', csv], db);
    assert.deepEqual(
      [first.imported, first.tokens_imported, first.skipped, first.rejected, first.rejected_count],
      [2, 60, 0, rejected, 1],
    );
    const again = runCli(['import-legacy', '--source', csv], { databaseUrl: db });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /Imported 0 accounts .* \(3 rows read\)/);
    assert.match(again.stdout, /skipped, already imported: 2\n/);
    assert.match(
      again.stdout,
      /rejected: 1\n {4}row 2 \(line 3\), id 5: duplicate id: row 1 \(line 2\) .*balance 0.*500/,
    );
    assert.equal(runJson(['balance', '5'], db).balance, 0);
  });
});
