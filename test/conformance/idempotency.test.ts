import assert from 'node:assert/strict';
import { it } from 'node:test';
import { accepted, refused } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

conformance('idempotency', (get) => {
  it('a repeated key replays the first result and charges once', async () => {
    const { ledger } = get();
    const first = accepted(await ledger.deduct({ account: 'a', feature: 'crm_ai_agent', idempotencyKey: 'k1' }));
    const again = accepted(await ledger.deduct({ account: 'a', feature: 'crm_ai_agent', idempotencyKey: 'k1' }));
    assert.equal(again.replayed, true);
    assert.equal(again.entryId, first.entryId);
    assert.equal(again.balance, first.balance);
    assert.equal((await ledger.getBalance('a')).balance, 98);
  });

  it('the same key with different parameters is refused with idempotency_conflict', async () => {
    const { ledger } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'crm_ai_agent', idempotencyKey: 'k1' }));
    const r = refused(
      await ledger.deduct({ account: 'a', feature: 'crm_ai_agent', quantity: 2, idempotencyKey: 'k1' }),
    );
    assert.equal(r.code, 'idempotency_conflict');
    const r2 = refused(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'k1' }));
    assert.equal(r2.code, 'idempotency_conflict');
    assert.equal((await ledger.getBalance('a')).balance, 98);
  });

  it('keys are scoped to an account: the same key on another account charges that account', async () => {
    const { ledger } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'shared' }));
    const b = accepted(await ledger.deduct({ account: 'b', feature: 'social_post', idempotencyKey: 'shared' }));
    assert.equal(b.replayed, false);
    assert.equal(b.balance, 99);
  });

  it('keys are scoped to an operation: a reserve may reuse a deduction key', async () => {
    const { ledger } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'op' }));
    const hold = accepted(await ledger.reserve({ account: 'a', amount: 10, idempotencyKey: 'op' }));
    assert.equal(hold.replayed, false);
  });

  it('a refused attempt is not recorded: the key works after a top-up', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'a', setBalance: 0, reason: 'r', actor: 't' }));
    refused(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'retry-me' }));
    accepted(await ledger.credit({ account: 'a', tokens: 5, source: 'test', reference: 'topup-1' }));
    const r = accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'retry-me' }));
    assert.equal(r.replayed, false);
    assert.equal(r.balance, 4);
  });

  it('a replay is served even when the balance has since reached zero', async () => {
    const { ledger } = get();
    const first = accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'k' }));
    accepted(await ledger.adjust({ account: 'a', setBalance: 0, reason: 'r', actor: 't' }));
    const again = accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'k' }));
    assert.equal(again.entryId, first.entryId);
  });

  it('a reserve key replays the same hold', async () => {
    const { ledger } = get();
    const h1 = accepted(await ledger.reserve({ account: 'a', amount: 10, idempotencyKey: 'h' }));
    const h2 = accepted(await ledger.reserve({ account: 'a', amount: 10, idempotencyKey: 'h' }));
    assert.equal(h2.holdId, h1.holdId);
    assert.equal((await ledger.getBalance('a')).held, 10);
  });

  it('a credit reference credits once and replays; a different amount for it is a conflict', async () => {
    const { ledger } = get();
    const c1 = accepted(await ledger.credit({ account: 'a', tokens: 500, source: 'stripe', reference: 'pi_1' }));
    const c2 = accepted(await ledger.credit({ account: 'a', tokens: 500, source: 'stripe', reference: 'pi_1' }));
    assert.equal(c2.replayed, true);
    assert.equal(c2.entryId, c1.entryId);
    assert.equal((await ledger.getBalance('a')).balance, 600);
    assert.equal(
      refused(await ledger.credit({ account: 'a', tokens: 100, source: 'stripe', reference: 'pi_1' })).code,
      'idempotency_conflict',
    );
    assert.equal(
      refused(await ledger.credit({ account: 'b', tokens: 500, source: 'stripe', reference: 'pi_1' })).code,
      'idempotency_conflict',
    );
  });

  it('an adjustment linked to evidence happens once', async () => {
    const { ledger } = get();
    const link = { source: 'recover', reference: 'logs:7:2025-11' };
    accepted(await ledger.adjust({ account: '7', amount: -58, reason: 'recovered', actor: 'ops', ...link }));
    const again = accepted(
      await ledger.adjust({ account: '7', amount: -58, reason: 'recovered', actor: 'ops', ...link }),
    );
    assert.equal(again.replayed, true);
    assert.equal((await ledger.getBalance('7')).balance, 42);
  });
});
