import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenMeterApiError } from '../../src/sdk/index.ts';
import { saveCard } from '../helpers/saved-card.ts';
import { type LiveService, liveService } from './sdk-helpers.ts';

const ENABLE = { enabled: true, threshold: 50, package: 'tokens_500', monthly_limit: 5 };

describe('TokenMeterClient auto top-up against the real service', () => {
  let s: LiveService;
  before(async () => {
    s = await liveService();
  });
  after(() => s.close());

  it('getAutoTopup reads the defaults; setAutoTopup without a card throws 409 payment_method_required', async () => {
    const read = await s.app.getAutoTopup('sdk-1');
    assert.equal(read.success, true);
    assert.equal(read.auto_topup.status, 'off');
    assert.equal(read.auto_topup.payment_method, null);
    await assert.rejects(
      () => s.app.setAutoTopup({ account: 'sdk-1', ...ENABLE }),
      (err: unknown) =>
        err instanceof TokenMeterApiError && err.status === 409 && err.code === 'payment_method_required',
    );
    assert.equal((await s.app.getAutoTopup('sdk-1')).auto_topup.enabled, false);
  });

  it('with a saved card a user token enables its own account, sending the wire names', async () => {
    await s.t.ledger.createAccount({ account: 'sdk-2' });
    await saveCard(s.t.ledger, 'sdk-2');
    const { token } = await s.app.createSession('sdk-2');
    const user = s.client({ apiKey: undefined, token });
    const saved = await user.setAutoTopup(ENABLE);
    assert.deepEqual(saved.auto_topup, {
      enabled: true,
      threshold: 50,
      package: 'tokens_500',
      monthly_limit: 5,
      used_this_month: 0,
      status: 'active',
      payment_method: { brand: 'visa', last4: '4242' },
      last_error: null,
    });
    assert.deepEqual((await user.getAutoTopup()).auto_topup, saved.auto_topup);
    const view = await s.t.ledger.autoTopup.get('sdk-2');
    assert.equal(view.monthlyLimit, 5);
    assert.equal(view.packageId, 'tokens_500');
  });
});
