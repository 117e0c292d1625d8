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

  it('group commit is on by default and TOKENMETER_GROUP_COMMIT=off turns it off', async () => {
    const on = await openLedger({ databaseUrl: `sqlite:${join(dir, 'gc-on.db')}`, env: {} });
    await Promise.all(Array.from({ length: 20 }, () => on.deduct({ account: 'a', feature: 'social_post' })));
    assert.ok(on.groupCommitStats().largestBatch > 1);
    await on.close();
    const off = await openLedger({
      databaseUrl: `sqlite:${join(dir, 'gc-off.db')}`,
      env: { TOKENMETER_GROUP_COMMIT: 'off' },
    });
    await Promise.all(Array.from({ length: 20 }, () => off.deduct({ account: 'a', feature: 'social_post' })));
    assert.equal(off.groupCommitStats().batches, 0);
    assert.equal((await off.getBalance('a')).balance, 80);
    await off.close();
  });

  it('refuses group-commit settings out of range, naming the variable', async () => {
    for (const env of [
      { TOKENMETER_GROUP_COMMIT: 'sometimes' },
      { TOKENMETER_BATCH_MAX: '0' },
      { TOKENMETER_BATCH_WAIT_MS: '-1' },
      { TOKENMETER_QUEUE_MAX: '100' },
      { TOKENMETER_BATCH_MAX: '1e3' },
    ]) {
      await assert.rejects(openLedger({ databaseUrl: `sqlite:${join(dir, 'gc-bad.db')}`, env }), (err: unknown) => {
        assert.ok(err instanceof TokenmeterError);
        assert.equal(err.code, 'invalid_request');
        assert.match(err.message, new RegExp(Object.keys(env)[0] as string));
        return true;
      });
    }
  });
});
