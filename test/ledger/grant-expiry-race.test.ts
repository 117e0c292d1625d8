import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenmeterError } from '../../src/core/errors.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { catalog } from '../helpers/ledger.ts';

describe('a grant whose expiry passes while the request waits', () => {
  it('regression: is a 400 invalid_request naming expiresAt, not the database refusing a CHECK', async () => {
    // A clock that moves 10 ms at every read: the expiry is in the future when the input is
    // checked and past when the write reads the clock again.
    let t = Date.parse('2026-06-01T00:00:00Z');
    const clock = { now: () => (t += 10) };
    const store = new SqliteStore({ path: ':memory:' });
    await store.migrate();
    const ledger = new TokenLedger({ store, catalog, clock, groupCommit: false });
    try {
      await ledger.createAccount({ account: 'a' });
      await assert.rejects(
        ledger.grant({ account: 'a', tokens: 5, category: 'promotional', expiresAt: t + 15, reason: 'r', actor: 'o' }),
        (err: unknown) => err instanceof TokenmeterError && err.code === 'invalid_request' && err.field === 'expiresAt',
      );
      assert.equal((await ledger.getBalance('a')).promotional, 0);
    } finally {
      await ledger.close();
    }
  });
});
