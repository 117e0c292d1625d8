import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { type TestApp, testApp } from './http-helpers.ts';

describe('the token gate: POST /api/features/:feature/run', () => {
  let t: TestApp | undefined;
  afterEach(() => t?.close());

  it('runs the (simulated) handler and charges the feature cost once', async () => {
    t = await testApp();
    const res = await t.call({
      method: 'POST',
      url: '/api/features/business_collector/run',
      payload: { account: 'a', input: { q: 'dentists' } },
    });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.cost, 5);
    assert.equal(body.balance_before, 100);
    assert.equal(body.balance, 95);
    assert.equal(body.result.simulated, true);
    assert.equal((await t.ledger.getBalance('a')).held, 0);
  });

  it('a failing handler charges nothing and releases the hold', async () => {
    t = await testApp(
      {},
      {
        social_post: async () => {
          throw new Error('the network is down');
        },
      },
    );
    const res = await t.call({ method: 'POST', url: '/api/features/social_post/run', payload: { account: 'a' } });
    assert.equal(res.statusCode, 502);
    assert.equal(res.json().code, 'feature_failed');
    const view = await t.ledger.getBalance('a');
    assert.equal(view.balance, 100);
    assert.equal(view.held, 0);
  });

  it('a handler that never finishes leaves a hold that expires, not a charge', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    t = await testApp(
      {},
      {
        social_post: () => {
          started();
          return new Promise(() => {});
        },
      },
    );
    void t.call({ method: 'POST', url: '/api/features/social_post/run', payload: { account: 'a' } });
    await running;
    assert.equal((await t.ledger.getBalance('a')).available, 99);
    t.clock.advance(121_000);
    const view = await t.ledger.getBalance('a');
    assert.equal(view.available, 100);
    assert.equal(view.balance, 100);
  });

  it('refuses at zero with 402 and the exact message, without running the handler', async () => {
    let ran = 0;
    t = await testApp(
      {},
      {
        outbound_call_single: async () => {
          ran++;
          return {};
        },
      },
    );
    await t.ledger.adjust({ account: '7', setBalance: 0, reason: 'r', actor: 't' });
    const token = await t.userToken('7');
    const res = await t.call({
      as: { token },
      method: 'POST',
      url: '/api/features/outbound_call_single/run',
      payload: {},
    });
    assert.equal(res.statusCode, 402);
    assert.equal(
      res.json().error,
      'Insufficient tokens. Your balance is 0. Please purchase more tokens to continue using services.',
    );
    assert.equal(ran, 0);
  });

  it('a user token runs features on its own account only', async () => {
    t = await testApp();
    const token = await t.userToken('alice');
    const own = await t.call({ as: { token }, method: 'POST', url: '/api/features/social_post/run', payload: {} });
    assert.equal(own.statusCode, 200);
    const other = await t.call({
      as: { token },
      method: 'POST',
      url: '/api/features/social_post/run',
      payload: { account: 'bob' },
    });
    assert.equal(other.statusCode, 403);
    assert.equal((await t.ledger.getBalance('bob')).exists, false);
  });

  it('an idempotency key makes a retried run charge once and replay the original answer', async () => {
    t = await testApp();
    const run = (feature = 'crm_ai_agent') =>
      t?.call({
        method: 'POST',
        url: `/api/features/${feature}/run`,
        payload: { account: 'a', idempotency_key: 'run-1' },
      });
    const first = await run();
    assert.equal(first?.statusCode, 200);
    assert.equal(first?.json().replayed, false);
    const again = await run();
    assert.equal(again?.statusCode, 200);
    assert.deepEqual(again?.json(), { ...first?.json(), replayed: true });
    assert.equal((await t.ledger.getBalance('a')).balance, 98);
    const other = await run('social_post');
    assert.equal(other?.statusCode, 409);
    assert.equal(other?.json().code, 'idempotency_conflict');
  });

  it('a retry while the first run with that key is still going is a 409, and the work runs once', async () => {
    let runs = 0;
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    t = await testApp(
      {},
      {
        social_post: async () => {
          runs++;
          started();
          await gate;
          return { done: true };
        },
      },
    );
    const req = {
      method: 'POST' as const,
      url: '/api/features/social_post/run',
      payload: { account: 'a', idempotency_key: 'k' },
    };
    const first = t.call(req);
    await running;
    const second = await t.call(req);
    assert.equal(second.statusCode, 409);
    assert.match(second.json().error, /in progress/);
    finish();
    assert.equal((await first).statusCode, 200);
    assert.equal(runs, 1);
    assert.equal((await t.ledger.getBalance('a')).balance, 99);
  });

  it('an unknown feature is 404', async () => {
    t = await testApp();
    const res = await t.call({ method: 'POST', url: '/api/features/teleport/run', payload: { account: 'a' } });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'unknown_feature');
  });
});
