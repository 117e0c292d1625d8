import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TokenmeterError } from '../../src/core/errors.ts';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const isInvalid = (field: string) => (err: unknown) => {
  assert.ok(err instanceof TokenmeterError, `expected a TokenmeterError, got ${String(err)}`);
  assert.equal(err.code, 'invalid_request');
  assert.equal(err.field, field);
  return true;
};

/** Texts that are not exactly one well-formed string: lone surrogates, NUL, C0, DEL and C1 controls. */
const MALFORMED = [
  ['a lone high surrogate', 'X\uD800'],
  ['a lone low surrogate', 'X\uDC00'],
  ['reversed surrogates', 'X\uDC00\uD800'],
  ['NUL', 'X\u0000'],
  ['a line break', 'X\nY'],
  ['ESC (C0)', 'X\u001b'],
  ['DEL', 'X\u007f'],
  ['NEL (C1)', 'X\u0085'],
  ['CSI (C1)', 'X\u009b'],
] as const;

conformance('well-formed text', (get) => {
  it('regression (lone surrogates): an account id that is not well-formed is refused at every entry point', async () => {
    const { ledger, db } = get();
    for (const [what, account] of MALFORMED) {
      const attempts: [string, () => Promise<unknown>][] = [
        ['deduct', () => ledger.deduct({ account, feature: 'social_post' })],
        ['check', () => ledger.check({ account, feature: 'social_post' })],
        ['reserve', () => ledger.reserve({ account, amount: 1 })],
        ['credit', () => ledger.credit({ account, tokens: 5, source: 't', reference: `r-${what}` })],
        ['adjust', () => ledger.adjust({ account, amount: 5, reason: 'r', actor: 't' })],
        ['setPlan', () => ledger.setPlan({ account, plan: 'free', reason: 'r', actor: 't' })],
        ['createAccount', () => ledger.createAccount({ account })],
        ['getBalance', () => ledger.getBalance(account)],
        ['history', () => ledger.history(account)],
        ['balanceAt', () => ledger.balanceAt(account, 0)],
        ['activeHolds', () => ledger.activeHolds(account)],
      ];
      for (const [name, attempt] of attempts) {
        await assert.rejects(attempt(), isInvalid('account'), `${name} with ${what}`);
      }
    }
    assert.deepEqual((await db.store.service.listAccounts({ query: null, limit: 10, cursor: null })).accounts, []);
  });

  it('regression (lone surrogates): X\\uD800 can neither read nor spend the tokens of X\\uFFFD', async () => {
    const { ledger } = get();
    accepted(await ledger.credit({ account: 'X\uFFFD', tokens: 50, source: 't', reference: 'fffd' }));
    accepted(await ledger.deduct({ account: 'X\uFFFD', feature: 'social_post' }));
    const entries = (await ledger.history('X\uFFFD')).entries.length;
    await assert.rejects(ledger.getBalance('X\uD800'), isInvalid('account'));
    await assert.rejects(ledger.history('X\uD800'), isInvalid('account'));
    await assert.rejects(ledger.deduct({ account: 'X\uD800', feature: 'business_collector' }), isInvalid('account'));
    await assert.rejects(ledger.reserve({ account: 'X\uD800', amount: 10 }), isInvalid('account'));
    const own = await ledger.getBalance('X\uFFFD');
    assert.equal(own.balance, 149);
    assert.equal(own.held, 0);
    assert.equal((await ledger.history('X\uFFFD')).entries.length, entries);
  });

  it('regression (lone surrogates): a malformed idempotency key is refused before anything is written', async () => {
    const { ledger } = get();
    for (const [what, key] of MALFORMED) {
      await assert.rejects(
        ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: key }),
        isInvalid('idempotencyKey'),
        `deduct with ${what}`,
      );
      await assert.rejects(
        ledger.reserve({ account: 'a', amount: 1, idempotencyKey: key }),
        isInvalid('idempotencyKey'),
        `reserve with ${what}`,
      );
      await assert.rejects(
        ledger.adjust({ account: 'a', amount: 1, reason: 'r', actor: 't', idempotencyKey: key }),
        isInvalid('idempotencyKey'),
        `adjust with ${what}`,
      );
      await assert.rejects(
        ledger.recallResponse({ account: 'a', operation: 'run', key, fingerprint: 'f' }),
        isInvalid('idempotencyKey'),
        `recallResponse with ${what}`,
      );
    }
    const view = await ledger.getBalance('a');
    assert.equal(view.exists, false);
    assert.equal(view.balance, 100);
  });

  it('regression (lone surrogates): malformed references, sources, reasons and actors are refused, naming the field', async () => {
    const { ledger } = get();
    for (const [what, text] of MALFORMED) {
      const cases: [string, () => Promise<unknown>][] = [
        ['reference', () => ledger.credit({ account: 'a', tokens: 5, source: 't', reference: text })],
        ['source', () => ledger.credit({ account: 'a', tokens: 5, source: text, reference: 'r' })],
        ['reason', () => ledger.credit({ account: 'a', tokens: 5, source: 't', reference: 'r', reason: text })],
        ['actor', () => ledger.credit({ account: 'a', tokens: 5, source: 't', reference: 'r', actor: text })],
        ['reason', () => ledger.adjust({ account: 'a', amount: 5, reason: text, actor: 't' })],
        ['actor', () => ledger.adjust({ account: 'a', amount: 5, reason: 'r', actor: text })],
        [
          'reference',
          () => ledger.adjust({ account: 'a', amount: 5, reason: 'r', actor: 't', source: 's', reference: text }),
        ],
        ['reason', () => ledger.setPlan({ account: 'a', plan: 'free', reason: text, actor: 't' })],
        ['actor', () => ledger.setPlan({ account: 'a', plan: 'free', reason: 'r', actor: text })],
      ];
      for (const [field, attempt] of cases) await assert.rejects(attempt(), isInvalid(field), `${field} with ${what}`);
    }
    assert.equal((await ledger.getBalance('a')).exists, false);
  });

  it('well-formed text outside the Basic Multilingual Plane is accepted', async () => {
    const { ledger } = get();
    const account = 'émoji-😀-账户';
    accepted(await ledger.deduct({ account, feature: 'social_post', idempotencyKey: 'key-😀' }));
    const again = accepted(await ledger.deduct({ account, feature: 'social_post', idempotencyKey: 'key-😀' }));
    assert.equal(again.replayed, true);
    accepted(await ledger.adjust({ account, amount: 1, reason: 'ça va — 👍', actor: 'ops 😀' }));
    assert.equal((await ledger.getBalance(account)).balance, 100);
  });

  it('the maximum key length is 255 characters (as the database counts them), astral ones included', async () => {
    const { ledger } = get();
    const ascii = 'k'.repeat(255);
    const astral = '😀'.repeat(255);
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: ascii }));
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: astral }));
    accepted(await ledger.reserve({ account: 'a', amount: 1, idempotencyKey: astral }));
    accepted(await ledger.adjust({ account: 'a', amount: 1, reason: 'r', actor: 't', idempotencyKey: astral }));
    const replay = accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: astral }));
    assert.equal(replay.replayed, true);
    for (const tooLong of ['k'.repeat(256), '😀'.repeat(256)]) {
      await assert.rejects(
        ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: tooLong }),
        isInvalid('idempotencyKey'),
      );
    }
  });

  it('regression (poisoned batches): a malformed key never joins a group-commit batch; every other caller commits', async () => {
    const { ledger } = get();
    const before = ledger.groupCommitStats();
    const calls = Array.from({ length: 40 }, (_, i) => {
      const key = i % 4 === 0 ? `bad-${i}-\uD800` : `good-${i}`;
      return ledger.deduct({ account: `acct-${i % 8}`, feature: 'social_post', idempotencyKey: key });
    });
    const settled = await Promise.allSettled(calls);
    settled.forEach((s, i) => {
      if (i % 4 === 0) {
        assert.equal(s.status, 'rejected', `call ${i} with a malformed key was not refused`);
        if (s.status === 'rejected') isInvalid('idempotencyKey')(s.reason);
      } else {
        assert.equal(s.status, 'fulfilled', `call ${i} failed: ${s.status === 'rejected' ? String(s.reason) : ''}`);
        if (s.status === 'fulfilled') accepted(s.value);
      }
    });
    assert.equal(ledger.groupCommitStats().splits, before.splits);
    for (let a = 0; a < 8; a++) {
      const uses = settled.filter((_, i) => i % 8 === a && i % 4 !== 0).length;
      assert.equal((await ledger.getBalance(`acct-${a}`)).balance, 100 - uses);
    }
  });
});
