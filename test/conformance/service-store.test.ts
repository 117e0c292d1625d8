import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TokenmeterError } from '../../src/core/errors.ts';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const HASH = (c: string) => c.repeat(64);

conformance('service store', (get) => {
  it('stores API keys by hash, finds them, lists them, and revokes by prefix', async () => {
    const { db } = get();
    const s = db.store.service;
    const k = await s.insertApiKey({
      name: 'backend',
      scope: 'app',
      hash: HASH('a'),
      prefix: 'tm_app_abcd',
      createdAt: 1,
    });
    await s.insertApiKey({ name: 'ops', scope: 'admin', hash: HASH('b'), prefix: 'tm_admin_xy', createdAt: 2 });
    assert.equal((await s.findApiKeyByHash(HASH('a')))?.id, k.id);
    assert.equal(await s.findApiKeyByHash(HASH('c')), undefined);
    assert.deepEqual(
      (await s.listApiKeys()).map((x) => x.scope),
      ['app', 'admin'],
    );
    assert.equal(await s.revokeApiKey('tm_app_abcd', 5), 1);
    assert.equal(await s.revokeApiKey('tm_app_abcd', 6), 0);
    assert.equal((await s.findApiKeyByHash(HASH('a')))?.revokedAt, 5);
    await assert.rejects(s.insertApiKey({ name: 'dup', scope: 'app', hash: HASH('a'), prefix: 'x', createdAt: 3 }));
  });

  it('a setting is initialised once: the first value wins', async () => {
    const { db } = get();
    assert.equal(await db.store.service.settingOrInit('secret', 'first'), 'first');
    assert.equal(await db.store.service.settingOrInit('secret', 'second'), 'first');
  });

  it('a nonce is consumed once', async () => {
    const { db } = get();
    assert.equal(await db.store.service.consumeNonce('n1', 100, 10), true);
    assert.equal(await db.store.service.consumeNonce('n1', 100, 20), false);
  });

  it('lists accounts by substring in id order with a cursor, escaping LIKE wildcards', async () => {
    const { ledger, db } = get();
    for (const id of ['acme-2', 'acme-1', 'beta', 'ac%me', 'acme-3']) {
      accepted(await ledger.deduct({ account: id, feature: 'social_post' }));
    }
    const p1 = await db.store.service.listAccounts({ query: 'acme', limit: 2, cursor: null });
    assert.deepEqual(
      p1.accounts.map((a) => a.id),
      ['acme-1', 'acme-2'],
    );
    const p2 = await db.store.service.listAccounts({ query: 'acme', limit: 2, cursor: p1.nextCursor });
    assert.deepEqual(
      p2.accounts.map((a) => a.id),
      ['acme-3'],
    );
    assert.equal(p2.nextCursor, null);
    const wild = await db.store.service.listAccounts({ query: '%', limit: 10, cursor: null });
    assert.deepEqual(
      wild.accounts.map((a) => a.id),
      ['ac%me'],
    );
    await assert.rejects(
      db.store.service.listAccounts({ query: null, limit: 2, cursor: 'bogus' }),
      (err: unknown) => err instanceof TokenmeterError && err.code === 'invalid_request',
    );
  });

  it('queries the ledger by account, kind and time, newest first', async () => {
    const { ledger, db, clock } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    clock.advance(1000);
    const t1 = clock.now();
    accepted(await ledger.deduct({ account: 'b', feature: 'crm_ai_agent' }));
    accepted(await ledger.deduct({ account: 'a', feature: 'business_collector' }));
    const debits = await db.store.service.queryLedger({ kind: 'debit', limit: 10, cursor: null });
    assert.deepEqual(
      debits.entries.map((e) => e.amount),
      [-5, -2, -1],
    );
    const aSince = await db.store.service.queryLedger({ account: 'a', from: t1, limit: 10, cursor: null });
    assert.deepEqual(
      aSince.entries.map((e) => e.kind),
      ['debit'],
    );
    const paged = await db.store.service.queryLedger({ limit: 2, cursor: null });
    const rest = await db.store.service.queryLedger({ limit: 10, cursor: paged.nextCursor });
    assert.equal(paged.entries.length + rest.entries.length, 5);
  });

  it('sums usage per feature per UTC day and lists a balance series', async () => {
    const { ledger, db, clock } = get();
    clock.set('2026-05-01T23:59:59Z');
    accepted(await ledger.deduct({ account: 'a', feature: 'crm_ai_agent', quantity: 3 }));
    clock.set('2026-05-02T00:00:01Z');
    accepted(await ledger.deduct({ account: 'a', feature: 'crm_ai_agent' }));
    const h = accepted(await ledger.reserve({ account: 'a', feature: 'crm_ai_agent' }));
    accepted(await ledger.commitHold(h.holdId, 2));
    const usage = await db.store.service.usageByDay(
      Date.parse('2026-05-01T00:00:00Z'),
      Date.parse('2026-05-03T00:00:00Z'),
    );
    assert.deepEqual(usage, [
      { day: '2026-05-01', feature: 'crm_ai_agent', tokens: 6, uses: 1 },
      { day: '2026-05-02', feature: 'crm_ai_agent', tokens: 4, uses: 2 },
    ]);
    const series = await db.store.service.balanceSeries('a', 0, Date.parse('2026-06-01T00:00:00Z'), 100);
    assert.deepEqual(
      series.map((p) => p.balance),
      [100, 94, 92, 90],
    );
  });
});
