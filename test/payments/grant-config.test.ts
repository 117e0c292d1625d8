import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/default-config.ts';
import { parseConfig } from '../../src/config/index.ts';
import { accepted } from '../helpers/ledger.ts';
import { type PaymentApp, paymentApp } from './payment-helpers.ts';

const DAY = 86_400_000;

/** The default config with a sign-up bonus on the free plan and a top-up whose tokens expire. */
function grantCatalog() {
  const config = defaultConfig();
  const plans = config.plans.map((p) =>
    p.id === 'free' ? { ...p, signup_bonus: { tokens: 25, expires_in_days: 14 } } : p,
  );
  const packages = config.packages.map((p) => (p.id === 'tokens_100' ? { ...p, expires_in_days: 30 } : p));
  return parseConfig({ ...config, plans, packages }, 'grant-config test');
}

describe('grants from the config: a sign-up bonus and a package whose tokens expire', () => {
  let t: PaymentApp;
  before(async () => {
    t = await paymentApp({ catalog: grantCatalog() });
  });
  after(() => t.close());

  it('a new account opens with its plan allocation and the bonus, once; a read of an unknown account shows it', async () => {
    const start = t.clock.now();
    const unknown = await t.ledger.getBalance('nobody-yet');
    assert.deepEqual([unknown.balance, unknown.promotional], [125, 25]);
    accepted(await t.ledger.deduct({ account: 'u-bonus', feature: 'social_post' }));
    const view = await t.ledger.getBalance('u-bonus');
    // The bonus expires before the cycle ends, so it is spent first.
    assert.deepEqual([view.balance, view.promotional, view.allocation], [124, 24, 100]);
    assert.deepEqual(view.expiringNext, { at: start + 14 * DAY, tokens: 24 });
    const bonus = (await t.ledger.grants('u-bonus')).find((g) => g.source === 'signup');
    assert.equal(bonus?.reference, 'signup:u-bonus');
    // Moving to another plan and back grants no second bonus.
    await t.ledger.setPlan({ account: 'u-bonus', plan: 'starter', reason: 'up', actor: 'ops' });
    await t.ledger.setPlan({ account: 'u-bonus', plan: 'free', reason: 'down', actor: 'ops' });
    const signups = (await t.ledger.grants('u-bonus', { includeInactive: true })).filter((g) => g.source === 'signup');
    assert.equal(signups.length, 1);
  });

  it('an imported account gets no sign-up bonus', async () => {
    await t.ledger.importAccount({ account: 'legacy-1', plan: 'free', balance: 40 });
    assert.deepEqual([(await t.ledger.getBalance('legacy-1')).balance], [40]);
  });

  it('a package with expires_in_days is a paid grant that expires that many days after the purchase', async () => {
    const token = await t.userToken('u-pack');
    const start = t.clock.now();
    const r = await t.call({
      method: 'POST',
      url: '/api/payment/checkout',
      payload: { package: 'tokens_100' },
      as: { token },
    });
    const { checkout_id } = r.json() as { checkout_id: string };
    await t.call({ method: 'POST', url: `/pay/test/${checkout_id}/complete`, as: 'none' });
    const packages = (await t.call({ method: 'GET', url: '/api/payment/packages' })).json() as {
      packages: { id: string; expires_in_days: number | null }[];
    };
    assert.deepEqual(
      packages.packages.filter((p) => p.id.startsWith('tokens_')).map((p) => [p.id, p.expires_in_days]),
      [
        ['tokens_100', 30],
        ['tokens_500', null],
        ['tokens_2000', null],
      ],
    );
    const paid = (await t.ledger.grants('u-pack')).find((g) => g.category === 'paid');
    assert.equal(paid?.expiresAt, start + 30 * DAY);
    assert.equal((await t.ledger.getBalance('u-pack')).purchased, 100);
    t.clock.advance(30 * DAY);
    const later = await t.ledger.getBalance('u-pack');
    assert.equal(later.purchased, 0);
    assert.deepEqual((await t.ledger.reconcile()).drift, []);
  });
});
