import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pendingMigrations } from '../../src/store/pending-migrations.ts';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.ts';

describe('schema migrations', () => {
  it('both dialects describe the same steps, in strictly ascending versions', () => {
    const steps = (ms: readonly { version: number; name: string }[]) => ms.map((m) => `${m.version}:${m.name}`);
    assert.deepEqual(steps(SQLITE_MIGRATIONS), steps(PG_MIGRATIONS));
    for (let i = 1; i < SQLITE_MIGRATIONS.length; i++) {
      assert.ok((SQLITE_MIGRATIONS[i]?.version ?? 0) > (SQLITE_MIGRATIONS[i - 1]?.version ?? 0));
    }
  });

  it('the released steps keep the versions and names databases recorded for them', () => {
    const released = ['1:ledger', '2:service', '3:payments', '4:payment_facts', '5:recovered_lines', '6:keyed_debits'];
    assert.deepEqual(
      SQLITE_MIGRATIONS.slice(0, released.length).map((m) => `${m.version}:${m.name}`),
      released,
    );
  });

  it('a step missing below the highest applied one is still applied, oldest first', () => {
    const all = [5, 1, 3, 4, 2].map((version) => ({ version, name: `m${version}` }));
    assert.deepEqual(
      pendingMigrations(all, [1, 2, 5]).map((m) => m.version),
      [3, 4],
    );
    assert.deepEqual(
      pendingMigrations(all, []).map((m) => m.version),
      [1, 2, 3, 4, 5],
    );
  });
});
