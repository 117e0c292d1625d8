// Secrets never leak: API keys are not stored in plaintext and never logged or echoed after
// creation; the session secret and the Stripe keys never reach a log line.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { KeyService } from '../../src/auth/key-service.ts';
import { startServer } from '../../src/http/serve.ts';

const SECRETS = {
  TOKENMETER_API_KEY: 'tm_app_secret_bootstrap_0123456789abcdef',
  TOKENMETER_ADMIN_KEY: 'tm_admin_secret_bootstrap_0123456789abcd',
  TOKENMETER_SESSION_SECRET: 'session-secret-never-logged-0123456789',
  STRIPE_SECRET_KEY: 'sk_test_neverlogged0123456789abcdefABCDEF',
  STRIPE_WEBHOOK_SECRET: 'whsec_test_neverlogged0123456789abcdefABCD',
};

describe('secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-secrets-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('never appear in logs, responses or the database, across a session of ordinary and failing requests', async () => {
    let logs = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs += String(chunk);
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const env = { DATABASE_URL: `sqlite:${join(dir, 'tokens.db')}`, ...SECRETS };
    const server = await startServer({ port: 0, host: '127.0.0.1', demo: false, env, logger });
    let created = '';
    let responses = '';
    try {
      const keys = new KeyService({ store: server.ledger.store.service });
      created = (await keys.create('backend', 'app', Date.now())).key;
      const call = async (path: string, init: RequestInit = {}) => {
        const res = await fetch(`${server.url}${path}`, init);
        responses += `${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}\n`;
        return res;
      };
      const bearer = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
      await call('/api/tokens/deduct', {
        method: 'POST',
        headers: bearer(created),
        body: JSON.stringify({ account: '7', feature: 'outbound_call_single' }),
      });
      await call('/api/tokens/deduct', {
        method: 'POST',
        headers: bearer(SECRETS.TOKENMETER_API_KEY),
        body: '{"account":',
      });
      await call('/api/tokens/balance?account=7', { headers: { authorization: `Bearer ${created}x` } });
      await call('/api/admin/reconcile', { headers: bearer(SECRETS.TOKENMETER_ADMIN_KEY) });
      const session = await call('/api/sessions', {
        method: 'POST',
        headers: bearer(SECRETS.TOKENMETER_API_KEY),
        body: JSON.stringify({ account: '7' }),
      });
      assert.equal(session.status, 200);
      await call('/api/payment/webhook/stripe', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=forged' },
        body: '{"id":"evt_1"}',
      });
      await call('/api/payment/checkout', {
        method: 'POST',
        headers: bearer(created),
        body: JSON.stringify({ account: '7', package: 'tokens_100' }),
      });
    } finally {
      await server.close();
    }
    assert.ok(logs.length > 0, 'the server logged something');
    for (const [name, secret] of Object.entries({ ...SECRETS, created })) {
      assert.equal(logs.includes(secret), false, `${name} appears in the logs`);
      assert.equal(responses.includes(secret), false, `${name} appears in a response`);
    }
    for (const file of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, file)).toString('latin1');
      assert.equal(bytes.includes(created), false, `the created key is stored in plaintext in ${file}`);
      assert.equal(bytes.includes(SECRETS.TOKENMETER_SESSION_SECRET), false, `the session secret is stored in ${file}`);
    }
  });
});
