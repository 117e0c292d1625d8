import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  BUILT_IN_CONFIG_SOURCE,
  checkConfigCovers,
  defaultConfig,
  type LoadedConfig,
  loadConfig,
  parseConfig,
} from '../../src/config/index.ts';
import type { Catalog } from '../../src/core/catalog.ts';
import { TokenmeterError } from '../../src/core/errors.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-config-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function writeConfig(content: unknown): string {
  fileCounter += 1;
  const file = path.join(dir, `config-${fileCounter}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

function loadFile(file: string): Promise<LoadedConfig> {
  return loadConfig({ path: file, env: {} });
}

/** Asserts a config_invalid rejection whose message contains every fragment. */
async function assertInvalid(promise: Promise<unknown>, fragments: string[]): Promise<string> {
  let message = '';
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TokenmeterError, `expected a TokenmeterError, got ${String(err)}`);
    assert.equal(err.code, 'config_invalid');
    message = err.message;
    return true;
  });
  for (const fragment of fragments) assert.ok(message.includes(fragment), `"${fragment}" not in:\n${message}`);
  return message;
}

const plan = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: id.toUpperCase(),
  monthly_allocation: 10,
  rollover_cap: 0,
  ...extra,
});

function assertDefaultCatalog(catalog: Catalog): void {
  assert.equal(catalog.defaultPlan, 'free');
  assert.deepEqual(
    [...catalog.plans.values()],
    [
      { id: 'free', name: 'Free', monthlyAllocation: 100, rolloverCap: 0 },
      { id: 'starter', name: 'Starter', monthlyAllocation: 1000, rolloverCap: 500 },
      { id: 'pro', name: 'Pro', monthlyAllocation: 5000, rolloverCap: 2500 },
    ],
  );
  assert.deepEqual(
    [...catalog.features.values()].map((f) => [f.id, f.name, f.cost]),
    [
      ['outbound_call_single', 'Outbound call', 1],
      ['crm_ai_agent', 'CRM AI agent', 2],
      ['business_collector', 'Business collector', 5],
      ['social_post', 'Social post', 1],
      ['prospect_manager', 'Prospect manager', 1],
    ],
  );
  assert.deepEqual(
    [...catalog.packages.values()].map((p) => [p.id, p.kind, p.plan, p.tokens, p.priceCents, p.currency]),
    [
      ['tokens_100', 'topup', null, 100, 500, 'usd'],
      ['tokens_500', 'topup', null, 500, 2500, 'usd'],
      ['tokens_2000', 'topup', null, 2000, 10000, 'usd'],
      ['plan_starter', 'plan', 'starter', 1000, 4900, 'usd'],
      ['plan_pro', 'plan', 'pro', 5000, 19900, 'usd'],
    ],
  );
  for (const pkg of catalog.packages.values()) {
    if (pkg.kind === 'topup') assert.equal(pkg.priceCents, pkg.tokens * 5, `${pkg.id} is $0.05 a token`);
  }
  assert.deepEqual([...catalog.plans.keys()], ['free', 'starter', 'pro']);
}

describe('loadConfig: the built-in default', () => {
  it('loads the default figures when no path or variable is given', async () => {
    const loaded = await loadConfig({ env: {} });
    assert.equal(loaded.source, BUILT_IN_CONFIG_SOURCE);
    assert.equal(loaded.source, 'built-in default');
    assertDefaultCatalog(loaded.catalog);
  });

  it('treats an empty TOKENMETER_CONFIG as unset', async () => {
    const loaded = await loadConfig({ env: { TOKENMETER_CONFIG: '' } });
    assert.equal(loaded.source, 'built-in default');
  });

  it('an empty file object takes every section from the default', async () => {
    const file = writeConfig({});
    const loaded = await loadFile(file);
    assert.equal(loaded.source, file);
    assertDefaultCatalog(loaded.catalog);
  });

  it('hands out a fresh default each time', () => {
    const first = defaultConfig();
    first.plans.length = 0;
    assert.equal(defaultConfig().plans.length, 3);
  });
});

describe('loadConfig: partial files', () => {
  it('overrides only the sections the file has', async () => {
    const file = writeConfig({ features: [{ id: 'summarise', name: 'Summarise', cost: 3 }] });
    const { catalog } = await loadFile(file);
    assert.deepEqual(
      [...catalog.features.values()],
      [{ id: 'summarise', name: 'Summarise', cost: 3, holdTtlSeconds: 120, handlerUrl: null }],
    );
    assert.deepEqual([...catalog.plans.keys()], ['free', 'starter', 'pro']);
    assert.deepEqual(
      [...catalog.packages.keys()],
      ['tokens_100', 'tokens_500', 'tokens_2000', 'plan_starter', 'plan_pro'],
    );
    assert.equal(catalog.defaultPlan, 'free');
  });

  it('reads a feature’s hold_ttl_seconds and handler_url for the token gate', async () => {
    const file = writeConfig({
      features: [
        { id: 'slow', name: 'Slow', cost: 2, hold_ttl_seconds: 900, handler_url: 'https://work.example/run?x=1' },
        { id: 'plain', name: 'Plain', cost: 1 },
      ],
    });
    const { catalog } = await loadFile(file);
    assert.deepEqual(catalog.features.get('slow'), {
      id: 'slow',
      name: 'Slow',
      cost: 2,
      holdTtlSeconds: 900,
      handlerUrl: 'https://work.example/run?x=1',
    });
    assert.equal(catalog.features.get('plain')?.holdTtlSeconds, 120);
    assert.equal(catalog.features.get('plain')?.handlerUrl, null);
  });

  it('converts to camelCase, keeps file order and lets a plan package name a plan from the file', async () => {
    const file = writeConfig({
      default_plan: 'gold',
      plans: [plan('zeta', { rollover_cap: 5 }), plan('gold', { monthly_allocation: 7 })],
      packages: [
        { id: 'gold_plan', name: 'Gold', kind: 'plan', plan: 'gold', tokens: 7, price_cents: 0, currency: 'eur' },
        { id: 'small', name: 'Small', kind: 'topup', tokens: 1, price_cents: 100_000_000, currency: 'eur' },
      ],
    });
    const { catalog } = await loadFile(file);
    assert.equal(catalog.defaultPlan, 'gold');
    assert.deepEqual([...catalog.plans.keys()], ['zeta', 'gold']);
    assert.deepEqual(catalog.plans.get('zeta'), { id: 'zeta', name: 'ZETA', monthlyAllocation: 10, rolloverCap: 5 });
    assert.deepEqual(
      [...catalog.packages.values()],
      [
        { id: 'gold_plan', name: 'Gold', tokens: 7, priceCents: 0, currency: 'eur', kind: 'plan', plan: 'gold' },
        { id: 'small', name: 'Small', tokens: 1, priceCents: 100_000_000, currency: 'eur', kind: 'topup', plan: null },
      ],
    );
    assert.equal(catalog.features.size, 5);
  });

  it('accepts the boundary values', () => {
    const catalog = parseConfig(
      {
        plans: [plan('a'.repeat(64), { name: 'n'.repeat(100), monthly_allocation: 1_000_000_000, rollover_cap: 0 })],
        default_plan: 'a'.repeat(64),
        features: [
          { id: '0.x-y_z', name: 'F', cost: 1_000_000 },
          { id: 'f', name: 'F', cost: 1 },
        ],
        packages: [{ id: 'p', name: 'P', kind: 'topup', tokens: 1_000_000_000, price_cents: 0, currency: 'usd' }],
      },
      'inline',
    );
    assert.equal(catalog.plans.size, 1);
    assert.equal(catalog.features.size, 2);
  });

  it('reads a file that starts with a byte-order mark', async () => {
    const file = writeConfig(`\uFEFF${JSON.stringify({ default_plan: 'pro' })}`);
    assert.equal((await loadFile(file)).catalog.defaultPlan, 'pro');
  });
});

describe('loadConfig: invalid files', () => {
  const cases: { name: string; config: unknown; expect: string[] }[] = [
    {
      name: 'a string cost',
      config: { features: [{ id: 'f', name: 'F', cost: '2' }] },
      expect: ['features[0].cost', 'expected an integer', '"2"'],
    },
    {
      name: 'a fractional allocation',
      config: { plans: [plan('free'), plan('b', { monthly_allocation: 1.5 })] },
      expect: ['plans[1].monthly_allocation: expected an integer, got 1.5'],
    },
    {
      name: 'a negative rollover cap',
      config: { plans: [plan('free', { rollover_cap: -1 })] },
      expect: ['plans[0].rollover_cap', 'at least 0', '-1'],
    },
    {
      name: 'a duplicate id',
      config: {
        features: [
          { id: 'f', name: 'F', cost: 1 },
          { id: 'g', name: 'G', cost: 1 },
          { id: 'f', name: 'F2', cost: 2 },
        ],
      },
      expect: ['features[2].id', 'duplicate id "f"', 'features[0]'],
    },
    {
      name: 'an unknown key',
      config: { plans: [plan('free', { colour: 'red' })] },
      expect: ['plans[0].colour: unknown key'],
    },
    {
      name: 'an unknown top-level key',
      config: { plan: [] },
      expect: ['plan: unknown key'],
    },
    {
      name: 'a plan package naming a missing plan',
      config: {
        packages: [{ id: 'p', name: 'P', kind: 'plan', plan: 'gold', tokens: 1, price_cents: 1, currency: 'usd' }],
      },
      expect: ['packages[0].plan', 'plan "gold" is not configured'],
    },
    {
      name: 'a plan package without a plan',
      config: { packages: [{ id: 'p', name: 'P', kind: 'plan', tokens: 1, price_cents: 1, currency: 'usd' }] },
      expect: ['packages[0].plan', 'missing'],
    },
    {
      name: 'a top-up naming a plan',
      config: {
        packages: [{ id: 'p', name: 'P', kind: 'topup', plan: 'free', tokens: 1, price_cents: 1, currency: 'usd' }],
      },
      expect: ['packages[0].plan', 'not allowed on a "topup" package'],
    },
    {
      name: 'an unknown package kind',
      config: { packages: [{ id: 'p', name: 'P', kind: 'gift', tokens: 1, price_cents: 1, currency: 'usd' }] },
      expect: ['packages[0].kind', '"topup" or "plan"', '"gift"'],
    },
    {
      name: 'a default_plan that is not configured',
      config: { default_plan: 'gold' },
      expect: ['default_plan', 'plan "gold" is not configured'],
    },
    {
      name: 'plans that drop the built-in default_plan',
      config: { plans: [plan('solo')], packages: [] },
      expect: ['default_plan', 'missing', '"free"'],
    },
    {
      name: 'plans that orphan the built-in plan packages',
      config: { plans: [plan('free')] },
      expect: ['packages', 'plan_starter', '"starter"', 'plan_pro', 'define "packages"'],
    },
    {
      name: 'empty features',
      config: { features: [] },
      expect: ['features: must not be empty'],
    },
    {
      name: 'empty plans',
      config: { plans: [] },
      expect: ['plans: must not be empty'],
    },
    {
      name: 'a hold_ttl_seconds of zero',
      config: { features: [{ id: 'f', name: 'F', cost: 1, hold_ttl_seconds: 0 }] },
      expect: ['features[0].hold_ttl_seconds', 'at least 1'],
    },
    {
      name: 'a handler_url that is not an http(s) URL',
      config: { features: [{ id: 'f', name: 'F', cost: 1, handler_url: 'file:///etc/passwd' }] },
      expect: ['features[0].handler_url', 'http:// or https:// URL'],
    },
    {
      name: 'a bad id',
      config: { features: [{ id: 'Big Feature', name: 'F', cost: 1 }] },
      expect: ['features[0].id', '"Big Feature"'],
    },
    {
      name: 'an over-long name',
      config: { features: [{ id: 'f', name: 'x'.repeat(101), cost: 1 }] },
      expect: ['features[0].name', 'at most 100 characters'],
    },
    {
      name: 'a zero cost',
      config: { features: [{ id: 'f', name: 'F', cost: 0 }] },
      expect: ['features[0].cost', 'at least 1'],
    },
    {
      name: 'an uppercase currency',
      config: { packages: [{ id: 'p', name: 'P', kind: 'topup', tokens: 1, price_cents: 1, currency: 'USD' }] },
      expect: ['packages[0].currency', 'three lowercase letters', '"USD"'],
    },
    {
      name: 'a price over the limit',
      config: {
        packages: [{ id: 'p', name: 'P', kind: 'topup', tokens: 1, price_cents: 100_000_001, currency: 'usd' }],
      },
      expect: ['packages[0].price_cents', 'at most 100000000'],
    },
    {
      name: 'a missing required field',
      config: { features: [{ id: 'f', name: 'F' }] },
      expect: ['features[0].cost', 'missing'],
    },
    {
      name: 'a top-level array',
      config: [],
      expect: ['JSON object'],
    },
  ];

  for (const testCase of cases) {
    it(`rejects ${testCase.name}, naming the file`, async () => {
      const file = writeConfig(testCase.config);
      await assertInvalid(loadFile(file), [`Invalid config ${file}: `, ...testCase.expect]);
    });
  }

  it('reports a huge number once, against its own limit', async () => {
    const file = writeConfig(
      '{"plans": [{"id": "free", "name": "F", "monthly_allocation": 1e20, "rollover_cap": 0}], "packages": []}',
    );
    const message = await assertInvalid(loadFile(file), ['plans[0].monthly_allocation: must be at most 1000000000']);
    assert.equal(message.split('\n').length, 1, message);
  });

  it('reports a number too large for JSON.parse as Infinity', async () => {
    const file = writeConfig('{"features": [{"id": "f", "name": "F", "cost": 1e400}]}');
    await assertInvalid(loadFile(file), [
      `Invalid config ${file}: features[0].cost: expected an integer, got Infinity`,
    ]);
  });

  it('reports malformed JSON with the parser message', async () => {
    const file = writeConfig('{"plans": [');
    let parserMessage = '';
    try {
      JSON.parse('{"plans": [');
    } catch (err) {
      parserMessage = err instanceof Error ? err.message : '';
    }
    assert.ok(parserMessage.length > 0);
    await assertInvalid(loadFile(file), [`Invalid config ${file}: `, 'not valid JSON', parserMessage]);
  });

  it('reports a missing file', async () => {
    const file = path.join(dir, 'does-not-exist.json');
    await assertInvalid(loadFile(file), [`Invalid config ${file}: `, 'cannot read', 'ENOENT']);
  });

  it('reports a directory given as the file', async () => {
    await assertInvalid(loadFile(dir), [`Invalid config ${dir}: `, 'cannot read']);
  });

  it('lists every problem, one per line', async () => {
    const file = writeConfig({
      default_plan: 'gold',
      plans: [plan('free', { rollover_cap: -5 }), plan('free', { monthly_allocation: '9' })],
      features: [],
      packages: [{ id: 'p', name: 'P', kind: 'plan', plan: 'nope', tokens: 1.5, price_cents: 1, currency: 'usd' }],
      extra: true,
    });
    const message = await assertInvalid(loadFile(file), [`Invalid config ${file}: 8 problems:\n`]);
    assert.deepEqual(message.split('\n').slice(1), [
      '  - default_plan: plan "gold" is not configured',
      '  - plans[0].rollover_cap: must be at least 0, got -5',
      '  - plans[1].monthly_allocation: expected an integer, got the string "9"',
      '  - plans[1].id: duplicate id "free" (also plans[0])',
      '  - features: must not be empty',
      '  - packages[0].tokens: expected an integer, got 1.5',
      '  - packages[0].plan: plan "nope" is not configured',
      '  - extra: unknown key',
    ]);
  });
});

describe('loadConfig: choosing the file', () => {
  it('honours TOKENMETER_CONFIG', async () => {
    const file = writeConfig({ default_plan: 'starter' });
    const loaded = await loadConfig({ env: { TOKENMETER_CONFIG: file } });
    assert.equal(loaded.source, file);
    assert.equal(loaded.catalog.defaultPlan, 'starter');
  });

  it('prefers options.path over TOKENMETER_CONFIG', async () => {
    const fromEnv = writeConfig({ default_plan: 'starter' });
    const fromOption = writeConfig({ default_plan: 'pro' });
    const loaded = await loadConfig({ path: fromOption, env: { TOKENMETER_CONFIG: fromEnv } });
    assert.equal(loaded.source, fromOption);
    assert.equal(loaded.catalog.defaultPlan, 'pro');
  });

  it('names the file from TOKENMETER_CONFIG when it is invalid', async () => {
    const file = writeConfig({ default_plan: 7 });
    await assertInvalid(loadConfig({ env: { TOKENMETER_CONFIG: file } }), [
      `Invalid config ${file}: default_plan: expected a string, got 7`,
    ]);
  });
});

describe('parseConfig', () => {
  it('names the source it is given', () => {
    assert.throws(
      () => parseConfig({ features: [] }, 'built-in default'),
      (err: unknown) =>
        err instanceof TokenmeterError &&
        err.code === 'config_invalid' &&
        err.message === 'Invalid config built-in default: features: must not be empty',
    );
  });

  it('accepts the built-in default after a JSON round trip', () => {
    assertDefaultCatalog(parseConfig(JSON.parse(JSON.stringify(defaultConfig())), 'copy'));
  });
});

describe('checkConfigCovers', () => {
  const catalog = parseConfig({}, 'built-in default');

  it('passes when every used plan and feature is configured', () => {
    checkConfigCovers(catalog, { plans: ['free', 'pro', 'free'], features: ['crm_ai_agent', 'social_post'] }, 'x.json');
    checkConfigCovers(catalog, { plans: [], features: [] }, 'x.json');
  });

  it('names every dropped plan and feature', () => {
    assert.throws(
      () =>
        checkConfigCovers(
          catalog,
          { plans: ['free', 'gold', 'silver', 'gold'], features: ['social_post', 'fax'] },
          'x.json',
        ),
      (err: unknown) => {
        assert.ok(err instanceof TokenmeterError);
        assert.equal(err.code, 'config_invalid');
        assert.equal(
          err.message,
          [
            'Invalid config x.json: 3 problems:',
            '  - plan "gold" is used by accounts or the ledger but is not configured',
            '  - plan "silver" is used by accounts or the ledger but is not configured',
            '  - feature "fax" is used by the ledger but is not configured',
          ].join('\n'),
        );
        return true;
      },
    );
  });

  it('uses a single line for a single dropped id', () => {
    assert.throws(() => checkConfigCovers(catalog, { plans: ['gold'], features: [] }, 'x.json'), {
      code: 'config_invalid',
      message: 'Invalid config x.json: plan "gold" is used by accounts or the ledger but is not configured',
    });
  });
});
