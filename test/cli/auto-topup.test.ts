import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { catalog } from '../helpers/ledger.ts';
import { saveCard as saveTestCard } from '../helpers/saved-card.ts';
import { assertFails, freshDb, parseJson, runCli, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();

/** Saves a card for `account` in the CLI's database, as a top-up checkout that ticked "save this card" does. */
async function saveCard(databaseUrl: string, account: string): Promise<void> {
  const store = new SqliteStore({ path: databaseUrl.slice('sqlite:'.length) });
  await store.migrate();
  const ledger = new TokenLedger({ store, catalog });
  try {
    await ledger.createAccount({ account });
    assert.equal((await saveTestCard(ledger, account)).status, 'applied');
  } finally {
    await ledger.close();
  }
}

type Settings = Record<string, unknown>;
const settingsOf = (doc: Record<string, unknown>): Settings => {
  assert.equal(doc.success, true);
  return doc.auto_topup as Settings;
};

const DEFAULTS = {
  enabled: false,
  threshold: 10,
  package: 'tokens_100',
  monthly_limit: 3,
  used_this_month: 0,
  status: 'off',
  payment_method: null,
  last_error: null,
};

describe('tokenmeter auto-topup', () => {
  it('with no flags prints the current settings (the defaults: off, no card)', () => {
    const db = freshDb(dir);
    assert.deepEqual(settingsOf(runJson(['auto-topup', '7'], db)), DEFAULTS);
    const human = runCli(['auto-topup', '7'], { databaseUrl: db });
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /^Auto top-up for account 7: off$/m);
    assert.match(human.stdout, /below 10, buy tokens_100 \(100 tokens\)/);
    assert.match(human.stdout, /card: none saved/);
    assert.doesNotMatch(human.stdout, /Saved/);
  });

  it('--enable without a saved card fails with payment_method_required and changes nothing', () => {
    const db = freshDb(dir);
    const args = [
      'auto-topup',
      '7',
      '--enable',
      '--threshold',
      '50',
      '--package',
      'tokens_500',
      '--monthly-limit',
      '5',
    ];
    assertFails(runCli(args, { databaseUrl: db }), 'card');
    const json = runCli([...args, '--json'], { databaseUrl: db });
    assert.equal(json.status, 1);
    assert.equal(parseJson(json).code, 'payment_method_required');
    assert.deepEqual(settingsOf(runJson(['auto-topup', '7'], db)), DEFAULTS);
  });

  it('enables with a saved card; --disable and a bare --enable keep the other values', async () => {
    const db = freshDb(dir);
    await saveCard(db, '7');
    const on = settingsOf(
      runJson(
        ['auto-topup', '7', '--enable', '--threshold', '50', '--package', 'tokens_500', '--monthly-limit', '5'],
        db,
      ),
    );
    const active = {
      ...DEFAULTS,
      enabled: true,
      threshold: 50,
      package: 'tokens_500',
      monthly_limit: 5,
      status: 'active',
      payment_method: { brand: 'visa', last4: '4242' },
    };
    assert.deepEqual(on, active);

    const off = settingsOf(runJson(['auto-topup', '7', '--disable'], db));
    assert.deepEqual(off, { ...active, enabled: false, status: 'off' });

    assert.deepEqual(settingsOf(runJson(['auto-topup', '7', '--enable'], db)), active);
    const moved = settingsOf(runJson(['auto-topup', '7', '--enable', '--threshold', '30'], db));
    assert.deepEqual(moved, { ...active, threshold: 30 });

    const human = runCli(['auto-topup', '7'], { databaseUrl: db });
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /^Auto top-up for account 7: active$/m);
    assert.match(human.stdout, /below 30, buy tokens_500 \(500 tokens\)/);
    assert.match(human.stdout, /at most 5 a month; 0 this month/);
    assert.match(human.stdout, /card: visa ending 4242/);
  });

  it('refuses bad values naming the option, exit 1, nothing saved', async () => {
    const db = freshDb(dir);
    await saveCard(db, '7');
    const cases: [string[], string][] = [
      [['--threshold', '-1'], 'threshold'],
      [['--threshold', 'lots'], 'threshold'],
      [['--monthly-limit', '0'], 'monthly_limit'],
      [['--monthly-limit', '101'], 'monthly_limit'],
      [['--package', 'plan_starter'], 'package'],
      [['--package', 'tokens_999'], 'package'],
      [['--disable'], '--enable or --disable'],
    ];
    for (const [flags, fragment] of cases) {
      assertFails(runCli(['auto-topup', '7', '--enable', ...flags], { databaseUrl: db }), fragment);
    }
    const json = runCli(['auto-topup', '7', '--enable', '--monthly-limit', '101', '--json'], { databaseUrl: db });
    assert.equal(json.status, 1);
    assert.equal(parseJson(json).code, 'invalid_request');
    assert.deepEqual(settingsOf(runJson(['auto-topup', '7'], db)), {
      ...DEFAULTS,
      payment_method: { brand: 'visa', last4: '4242' },
    });
  });
});
