// A spent sign-in token must be refused by every process: `nonceUsed` reads what `consumeNonce`
// wrote, on every backend, and concurrent spenders of one nonce have exactly one winner.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { conformance } from '../helpers/suite.ts';

conformance('spent one-time tokens', (get) => {
  it('nonceUsed is false until the nonce is consumed, then true', async () => {
    const s = get().db.store.service;
    assert.equal(await s.nonceUsed('spent-1'), false);
    assert.equal(await s.consumeNonce('spent-1', 100, 10), true);
    assert.equal(await s.nonceUsed('spent-1'), true);
    assert.equal(await s.nonceUsed('spent-2'), false);
  });

  it('eight concurrent consumers of one nonce: exactly one wins', async () => {
    const s = get().db.store.service;
    const wins = await Promise.all(Array.from({ length: 8 }, () => s.consumeNonce('raced', 100, 10)));
    assert.equal(wins.filter(Boolean).length, 1);
  });
});
