import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { paymentsFromEnv } from '../../src/payments/payments.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { catalog } from '../helpers/ledger.ts';

describe('payment providers from the environment', async () => {
  const ledger = new TokenLedger({ store: new SqliteStore({ path: ':memory:' }), catalog });
  after(() => ledger.close());

  it('Stripe only when both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set', async () => {
    assert.equal((await paymentsFromEnv({ STRIPE_SECRET_KEY: 'sk_test_1' }, ledger, false)).stripe, null);
    assert.equal((await paymentsFromEnv({ STRIPE_WEBHOOK_SECRET: 'whsec_1' }, ledger, false)).stripe, null);
    const both = await paymentsFromEnv(
      { STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_WEBHOOK_SECRET: 'whsec_1' },
      ledger,
      true,
    );
    assert.equal(both.stripe?.name, 'stripe');
    assert.equal(both.checkout?.name, 'stripe');
  });

  it('the test provider in demo mode or when turned on explicitly, never by default', async () => {
    assert.equal((await paymentsFromEnv({}, ledger, false)).testProvider, false);
    assert.equal((await paymentsFromEnv({}, ledger, false)).checkout, null);
    assert.equal((await paymentsFromEnv({}, ledger, true)).checkout?.name, 'test');
    assert.equal((await paymentsFromEnv({ TOKENMETER_TEST_PAYMENTS: 'true' }, ledger, false)).testProvider, true);
  });

  it('TOKENMETER_PUBLIC_URL loses its trailing slash', async () => {
    assert.equal(
      (await paymentsFromEnv({ TOKENMETER_PUBLIC_URL: 'https://x.example/' }, ledger, false)).publicUrl,
      'https://x.example',
    );
  });
});
