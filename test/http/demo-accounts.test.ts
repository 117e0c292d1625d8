// Regression (issue 19): the demo's account picker offers "zero-balance", but signing in as it
// showed 100 tokens (every new account opens on the free plan). Now the demo's named accounts
// are in the state their names say on first sign-in, and a later sign-in never resets them.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestApp, testApp } from './http-helpers.ts';

describe('demo accounts', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp({ demo: true });
  });
  afterEach(() => t.close());

  const login = (account: string) => t.call({ as: 'none', method: 'GET', url: `/demo/login?account=${account}` });

  it('regression: signing in as zero-balance shows a balance of 0 with features disabled', async () => {
    assert.equal((await login('zero-balance')).statusCode, 303);
    const view = await t.ledger.getBalance('zero-balance');
    assert.equal(view.balance, 0);
    assert.equal(view.featuresDisabled, true);
    const [entry] = (await t.ledger.history('zero-balance', { limit: 1 })).entries;
    assert.equal(entry?.kind, 'adjustment');
    assert.equal(entry?.actor, 'demo');
  });

  it('a later sign-in leaves the account as it is (tokens bought are kept)', async () => {
    await login('zero-balance');
    await t.ledger.credit({ account: 'zero-balance', tokens: 100, source: 'test', reference: 'r1' });
    await login('zero-balance');
    assert.equal((await t.ledger.getBalance('zero-balance')).balance, 100);
  });

  it('other accounts open as any new account does (the free plan, 100 tokens), and sign-in writes nothing', async () => {
    await login('alice');
    assert.equal((await t.ledger.getBalance('alice')).exists, false);
    assert.equal((await t.ledger.getBalance('alice')).balance, 100);
  });
});
