import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openImported, openingSplit } from '../../src/core/import-account.ts';
import { normalizeLegacyRow } from '../../src/core/legacy-row.ts';
import { legacyInt } from '../../src/core/legacy-values.ts';
import { catalog } from '../helpers/ledger.ts';

function accepted(row: { id: unknown; balance: unknown; used: unknown; plan: unknown }) {
  const r = normalizeLegacyRow(row, catalog);
  if (!r.ok) throw new Error(`rejected: ${r.reason}`);
  return r.value;
}

function rejected(row: { id: unknown; balance: unknown; used: unknown; plan: unknown }): string {
  const r = normalizeLegacyRow(row, catalog);
  if (r.ok) throw new Error(`accepted: ${JSON.stringify(r.value)}`);
  return r.reason;
}

describe('normalizeLegacyRow: the seed user 7 (all NULL)', () => {
  it('opens on free with 100 and 0 used, saying what it filled in', () => {
    assert.deepEqual(accepted({ id: 7, balance: null, used: null, plan: null }), {
      account: '7',
      plan: 'free',
      balance: 100,
      usedThisCycle: 0,
      balanceWasNull: true,
      usedWasNull: true,
      planDefaulted: 'null',
      unknownPlan: null,
    });
  });

  it('a NULL balance takes the allocation of the plan the row names', () => {
    assert.equal(accepted({ id: 8, balance: null, used: 0, plan: 'starter' }).balance, 1000);
  });

  it('an unknown plan becomes the default plan and is named', () => {
    const v = accepted({ id: 9, balance: 5, used: 1, plan: 'gold' });
    assert.equal(v.plan, 'free');
    assert.equal(v.planDefaulted, 'unknown');
    assert.equal(v.unknownPlan, 'gold');
  });

  it('a plan in other case or padded is the same plan', () => {
    assert.equal(accepted({ id: 9, balance: 5, used: 1, plan: ' Pro ' }).plan, 'pro');
  });
});

describe('normalizeLegacyRow: CSV texts and driver types', () => {
  it('reads texts of digits, bigints and whole decimals; empty, NULL and \\N are NULL', () => {
    assert.equal(accepted({ id: '12', balance: '42', used: '', plan: 'NULL' }).balance, 42);
    assert.equal(accepted({ id: 12n, balance: 42n, used: 3n, plan: 'free' }).account, '12');
    assert.equal(accepted({ id: 'u-1', balance: '100.00', used: '\\N', plan: '' }).balance, 100);
    assert.equal(accepted({ id: 'u-1', balance: '-5', used: '0', plan: 'free' }).balance, -5);
  });

  for (const [what, row, fragment] of [
    ['a NULL id', { id: null, balance: 1, used: 0, plan: 'free' }, 'NULL'],
    ['a padded id', { id: ' 7', balance: 1, used: 0, plan: 'free' }, 'white space'],
    ['an id with a control character', { id: 'a\u0001b', balance: 1, used: 0, plan: 'free' }, 'control'],
    ['an over-long id', { id: 'x'.repeat(129), balance: 1, used: 0, plan: 'free' }, 'at most 128'],
    ['a fractional id', { id: 7.5, balance: 1, used: 0, plan: 'free' }, 'not a valid account id'],
    ['a fractional balance', { id: 7, balance: 12.5, used: 0, plan: 'free' }, 'balance: 12.5 is not an integer'],
    ['a text balance', { id: 7, balance: '12abc', used: 0, plan: 'free' }, 'balance'],
    ['a huge balance', { id: 7, balance: 10n ** 15n, used: 0, plan: 'free' }, 'out of range'],
    ['a negative used count', { id: 7, balance: 1, used: -3, plan: 'free' }, 'used this month'],
    ['a binary balance', { id: 7, balance: new Uint8Array([1]), used: 0, plan: 'free' }, 'binary'],
  ] as const) {
    it(`rejects ${what} with the reason`, () => {
      const reason = rejected(row);
      assert.ok(reason.includes(fragment), `${reason} should mention ${fragment}`);
    });
  }

  it('legacyInt bounds', () => {
    assert.deepEqual(legacyInt('+7', 0, 10), { ok: true, value: 7 });
    assert.equal(legacyInt(11, 0, 10).ok, false);
  });
});

describe('openingSplit and openImported', () => {
  const free = catalog.plans.get('free');
  if (!free) throw new Error('no free plan');

  it('fills allocation up to the plan, the rest to purchased; a debt goes to purchased', () => {
    assert.deepEqual(openingSplit(42, free), { allocation: 42, purchased: 0 });
    assert.deepEqual(openingSplit(250, free), { allocation: 100, purchased: 150 });
    assert.deepEqual(openingSplit(-5, free), { allocation: 0, purchased: -5 });
    assert.deepEqual(openingSplit(0, free), { allocation: 0, purchased: 0 });
  });

  it('opens with an opening_balance entry: source import, reference the account id', () => {
    const now = Date.parse('2026-01-15T10:00:00Z');
    const posted = openImported(
      { account: '7', plan: free, balance: 250, usedThisCycle: 3, reason: 'imported', actor: 'test' },
      now,
    );
    assert.equal(posted.state.allocation + posted.state.purchased, 250);
    assert.equal(posted.state.usedThisCycle, 3);
    assert.equal(posted.entries.length, 1);
    const [entry] = posted.entries;
    assert.equal(entry?.kind, 'opening_balance');
    assert.equal(entry?.source, 'import');
    assert.equal(entry?.reference, '7');
    assert.equal(entry?.balanceAfter, 250);
  });
});
