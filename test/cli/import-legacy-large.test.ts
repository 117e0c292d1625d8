import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freshDb, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();
const ROWS = 200_000;

/** Writes a generated users CSV without holding it in memory; every 7th balance, 11th used, 13th plan is empty. */
async function generateCsv(
  file: string,
): Promise<{ nullBalances: number; nullUsed: number; nullPlans: number; tokens: number }> {
  const out = fs.createWriteStream(file);
  out.write('id,tokens_balance,tokens_used_this_month,token_package\n');
  const counts = { nullBalances: 0, nullUsed: 0, nullPlans: 0, tokens: 0 };
  let chunk = '';
  for (let i = 1; i <= ROWS; i++) {
    const nullBalance = i % 7 === 0;
    const plan = i % 13 === 0 ? '' : i % 2 === 0 ? 'free' : 'starter';
    const allocation = plan === 'starter' ? 1000 : 100;
    const balance = nullBalance ? allocation : i % 300;
    if (nullBalance) counts.nullBalances += 1;
    if (i % 11 === 0) counts.nullUsed += 1;
    if (plan === '') counts.nullPlans += 1;
    counts.tokens += balance;
    chunk += `${i},${nullBalance ? '' : balance},${i % 11 === 0 ? '' : 2},${plan}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return counts;
}

describe('import-legacy streams a large source', () => {
  it(`imports ${ROWS.toLocaleString('en')} CSV rows with exact counts, then skips them all`, async () => {
    const file = path.join(dir, 'large.csv');
    const expected = await generateCsv(file);
    const db = freshDb(dir);
    const report = runJson(['import-legacy', '--source', file], db);
    assert.equal(report.rows_read, ROWS);
    assert.equal(report.imported, ROWS);
    assert.equal(report.rejected_count, 0);
    assert.equal(report.null_balances_initialized, expected.nullBalances);
    assert.equal(report.null_used_initialized, expected.nullUsed);
    assert.equal(report.null_plans_defaulted, expected.nullPlans);
    assert.equal(report.tokens_imported, expected.tokens);
    assert.equal(runJson(['balance', String(ROWS)], db).balance, ROWS % 300);
    const again = runJson(['import-legacy', '--source', file], db);
    assert.equal(again.imported, 0);
    assert.equal(again.skipped, ROWS);
  });
});
