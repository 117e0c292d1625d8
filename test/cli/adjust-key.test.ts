import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshDb, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();

describe('adjust --idempotency-key', () => {
  it('applies once per account and key; the same key with another amount is refused with idempotency_conflict', () => {
    const db = freshDb(dir);
    const args = ['adjust', '7', '--amount', '-10', '--reason', 'fix', '--idempotency-key', 'fix-1'];
    assert.equal(runJson(args, db).replayed, false);
    const again = runJson(args, db);
    assert.equal(again.replayed, true);
    assert.equal(again.balance, 90);
    const other = runJson(['adjust', '7', '--amount', '-20', '--reason', 'fix', '--idempotency-key', 'fix-1'], db, 1);
    assert.equal(other.code, 'idempotency_conflict');
    const elsewhere = runJson(['adjust', '8', '--amount', '-10', '--reason', 'fix', '--idempotency-key', 'fix-1'], db);
    assert.equal(elsewhere.replayed, false);
  });
});
