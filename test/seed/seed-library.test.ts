// The three tests of the incident report (shared/seed/token-system-fix.md), through the library.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openLedger } from '../../src/ledger/open-ledger.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { accepted, refused } from '../helpers/ledger.ts';

const ZERO = 'Insufficient tokens. Your balance is 0. Please purchase more tokens to continue using services.';
const call = { account: '7', feature: 'outbound_call_single' };

describe('the seed incident, through the library', () => {
  let dir: string;
  let url: string;
  let ledger: TokenLedger;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-seed-'));
    url = `sqlite:${join(dir, 'tokens.db')}`;
    ledger = await openLedger({ databaseUrl: url, env: {} });
  });
  afterEach(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('test 1 (regression: NULL balance read as 100 and never saved): 100 -> 99 -> 98 persists for a new process', async () => {
    const first = accepted(await ledger.deduct(call));
    assert.equal(first.balanceBefore, 100);
    assert.equal(first.balance, 99);
    const second = accepted(await ledger.deduct(call));
    assert.equal(second.balanceBefore, 99);
    assert.equal(second.balance, 98);
    const read = JSON.parse(
      execFileSync(process.execPath, [join(import.meta.dirname, '../helpers/read-balance.ts'), url, '7'], {
        encoding: 'utf8',
      }),
    );
    assert.deepEqual(read, { balance: 98, usedThisCycle: 2, plan: 'free' });
  });

  it('test 2 (regression: zero balance blocked nothing): at 0 a deduction is refused and nothing changes', async () => {
    accepted(await ledger.adjust({ account: '7', setBalance: 0, reason: 'seed test 2', actor: 'test' }));
    const before = await ledger.history('7');
    const r = refused(await ledger.deduct(call));
    assert.equal(r.code, 'insufficient_tokens');
    assert.equal(r.message, ZERO);
    assert.deepEqual(await ledger.history('7'), before);
    assert.equal((await ledger.getBalance('7')).featuresDisabled, true);
  });

  it('test 3: set to 10, five calls -> 5, five more -> 0, one more refused', async () => {
    accepted(await ledger.adjust({ account: '7', setBalance: 10, reason: 'seed test 3', actor: 'test' }));
    for (let i = 0; i < 5; i++) accepted(await ledger.deduct(call));
    assert.equal((await ledger.getBalance('7')).balance, 5);
    for (let i = 0; i < 5; i++) accepted(await ledger.deduct(call));
    assert.equal((await ledger.getBalance('7')).balance, 0);
    assert.equal(refused(await ledger.deduct(call)).message, ZERO);
    assert.deepEqual(await ledger.reconcile(), { accountsChecked: 1, drift: [] });
  });
});
