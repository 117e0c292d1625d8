// The incident's three tests end to end over HTTP, on a real port, with a server restart between deductions.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '../../src/http/serve.ts';
import { silentLogger } from '../../src/log/logger.ts';

const KEY = 'tm_app_seed_test_key_0123456789abcdefghij';
const ADMIN = 'tm_admin_seed_test_key_0123456789abcdefghij';
const ZERO = 'Insufficient tokens. Your balance is 0. Please purchase more tokens to continue using services.';

describe('the seed incident over HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-seed-http-'));
  const env = {
    DATABASE_URL: `sqlite:${join(dir, 'tokens.db')}`,
    TOKENMETER_API_KEY: KEY,
    TOKENMETER_ADMIN_KEY: ADMIN,
  };
  let server: RunningServer;
  const start = () => startServer({ port: 0, host: '127.0.0.1', demo: false, env, logger: silentLogger });
  const call = async (method: string, path: string, body?: unknown, key = KEY) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const deduct = () => call('POST', '/api/tokens/deduct', { account: '7', feature: 'outbound_call_single' });

  before(async () => {
    server = await start();
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('test 1: 100 -> 99, then after a server restart 99 -> 98, and the balance reads 98', async () => {
    const first = await deduct();
    assert.equal(first.status, 200);
    assert.equal(first.body.balance_before, 100);
    assert.equal(first.body.balance, 99);
    await server.close();
    server = await start();
    const second = await deduct();
    assert.equal(second.body.balance_before, 99);
    assert.equal(second.body.balance, 98);
    const read = await call('GET', '/api/tokens/balance?account=7');
    assert.equal(read.body.balance, 98);
    assert.equal(read.body.tokens_used_this_month, 2);
  });

  it('test 2: at 0 the deduction is 402 with the exact message and nothing changes', async () => {
    const set = await call('POST', '/api/admin/accounts/7/adjust', { balance: 0, reason: 'seed test 2' }, ADMIN);
    assert.equal(set.status, 200);
    const refused = await deduct();
    assert.equal(refused.status, 402);
    assert.equal(refused.body.error, ZERO);
    const read = await call('GET', '/api/tokens/balance?account=7');
    assert.equal(read.body.balance, 0);
    assert.equal(read.body.features_disabled, true);
  });

  it('test 3: set to 10, five calls -> 5, five more -> 0, one more 402', async () => {
    await call('POST', '/api/admin/accounts/7/adjust', { balance: 10, reason: 'seed test 3' }, ADMIN);
    for (let i = 0; i < 5; i++) assert.equal((await deduct()).status, 200);
    assert.equal((await call('GET', '/api/tokens/balance?account=7')).body.balance, 5);
    for (let i = 0; i < 5; i++) assert.equal((await deduct()).status, 200);
    assert.equal((await call('GET', '/api/tokens/balance?account=7')).body.balance, 0);
    assert.equal((await deduct()).status, 402);
    const reconcile = await call('GET', '/api/admin/reconcile', undefined, ADMIN);
    assert.deepEqual(reconcile.body.drift, []);
  });

  it('demo mode refuses a non-loopback host', async () => {
    await assert.rejects(
      startServer({ port: 0, host: '0.0.0.0', demo: true, env, logger: silentLogger }),
      /only listens on loopback/,
    );
  });
});
