import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TokenmeterError } from '../../src/core/errors.ts';
import { openLedger } from '../../src/ledger/open-ledger.ts';
import { accepted } from '../helpers/ledger.ts';

describe('openLedger', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-open-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a config that drops a plan or feature the database still uses, naming the file', async () => {
    const url = `sqlite:${join(dir, 'a.db')}`;
    const ledger = await openLedger({ databaseUrl: url, env: {} });
    await ledger.setPlan({ account: 'a', plan: 'pro', reason: 'r', actor: 't' });
    accepted(await ledger.deduct({ account: 'a', feature: 'crm_ai_agent' }));
    await ledger.close();

    const file = join(dir, 'narrow.json');
    writeFileSync(file, JSON.stringify({ features: [{ id: 'social_post', name: 'Post', cost: 1 }] }));
    await assert.rejects(openLedger({ databaseUrl: url, configPath: file, env: {} }), (err: unknown) => {
      assert.ok(err instanceof TokenmeterError);
      assert.equal(err.code, 'config_invalid');
      assert.match(err.message, /narrow\.json/);
      assert.match(err.message, /crm_ai_agent/);
      return true;
    });
  });

  it('reads DATABASE_URL and TOKENMETER_CONFIG from the environment it is given', async () => {
    const file = join(dir, 'cheap.json');
    writeFileSync(file, JSON.stringify({ features: [{ id: 'ping', name: 'Ping', cost: 3 }] }));
    const ledger = await openLedger({ env: { DATABASE_URL: `sqlite:${join(dir, 'b.db')}`, TOKENMETER_CONFIG: file } });
    const r = accepted(await ledger.deduct({ account: 'a', feature: 'ping' }));
    assert.equal(r.cost, 3);
    assert.equal(ledger.store.location, `sqlite:${join(dir, 'b.db')}`);
    await ledger.close();
  });

  it('rejects a DATABASE_URL it cannot serve with a clear message', async () => {
    await assert.rejects(openLedger({ databaseUrl: 'mysql://x', env: {} }), /DATABASE_URL must start with sqlite:/);
  });
});
