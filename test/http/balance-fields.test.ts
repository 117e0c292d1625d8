import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BalanceView } from '../../src/core/balance-view.ts';
import { aliasOf } from '../../src/http/schemas.ts';
import { accepted } from '../helpers/ledger.ts';
import { type TestApp, testApp } from './http-helpers.ts';

/**
 * The balance answer's two field sets (issue 19): the library's BalanceView and the wire's
 * canonical fields are one set. The rule, as README "Using the engine" states it: a BalanceView
 * key's wire name is its snake_case, except the names the seed app already had (below); nested
 * objects follow the same rule, times become ISO strings, and a grant's draft id (a renewal due
 * now, not yet stored) is null. Besides those, the wire carries only the `success` envelope and
 * the seed's compatibility aliases, each repeating one canonical value.
 */
const SEED_NAMES: Readonly<Record<string, string>> = {
  usedThisCycle: 'tokens_used_this_month',
  plan: 'package',
  monthlyAllocation: 'monthlyAllocation',
  rolledOver: 'tokens_rollover',
  cycleStart: 'billing_cycle_start',
  lastReset: 'last_token_reset',
  nextReset: 'next_token_reset',
};
/** alias → the canonical field whose value it repeats. */
const ALIASES: Readonly<Record<string, string>> = {
  tokens_balance: 'balance',
  usedThisMonth: 'tokens_used_this_month',
  token_package: 'package',
};
const ENVELOPE = 'success';
/** Library keys holding epoch milliseconds, at any depth. */
const TIMES = new Set(['cycleStart', 'lastReset', 'nextReset', 'expiresAt', 'at']);
/** Library keys whose value is keyed by ids (feature ids), not by field names. */
const RECORDS = new Set(['features']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const wireName = (key: string) => SEED_NAMES[key] ?? snake(key);

/** What the rule says the wire shows for one library value; an array's items are read under its key. */
function expectedWire(key: string, value: unknown): Json {
  if (value === null) return null;
  if (TIMES.has(key) && typeof value === 'number') return new Date(value).toISOString();
  if (Array.isArray(value)) return value.map((item) => expectedWire(key, item));
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) {
      if (RECORDS.has(key)) out[k] = expectedWire('', v);
      else out[wireName(k)] = expectedWire(k, v);
    }
    if (key === 'grants' && typeof out.id === 'number' && out.id <= 0) out.id = null;
    return out;
  }
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  throw new Error(`a library value the wire cannot carry under ${key}: ${String(value)}`);
}

function keys(o: object): string[] {
  return Object.keys(o).sort();
}

const DAY = 86_400_000;

describe('the balance answer: library and wire fields correspond', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  async function both(account: string): Promise<{ view: BalanceView; wire: Record<string, Json> }> {
    const view = await t.ledger.getBalance(account);
    const res = await t.call({ method: 'GET', url: `/api/tokens/balance?account=${account}` });
    assert.equal(res.statusCode, 200);
    return { view, wire: res.json() };
  }

  /** (a): the wire has exactly the canonical fields the rule names, the aliases and the envelope, with the library's values. */
  function assertCorresponds(view: BalanceView, wire: Record<string, Json>): void {
    const canonical = Object.keys(view).map(wireName);
    assert.equal(new Set(canonical).size, canonical.length, 'two library keys map to one wire name');
    for (const alias of Object.keys(ALIASES)) assert.ok(!canonical.includes(alias), `${alias} is both`);
    assert.deepEqual(keys(wire), [ENVELOPE, ...canonical, ...Object.keys(ALIASES)].sort());
    assert.equal(wire[ENVELOPE], true);
    for (const [key, value] of Object.entries(view)) {
      assert.deepEqual(wire[wireName(key)], expectedWire(key, value), `${key} ↔ ${wireName(key)}`);
    }
    for (const [alias, of] of Object.entries(ALIASES)) assert.deepEqual(wire[alias], wire[of], alias);
  }

  it('an account never written: exists is false on both sides, and the sets match', async () => {
    const { view, wire } = await both('never-seen');
    assert.equal(view.exists, false);
    assert.equal(wire.exists, false);
    assertCorresponds(view, wire);
  });

  it('an account with grants, a hold, usage, debt and an expiry coming: every figure under its wire name', async () => {
    accepted(await t.ledger.deduct({ account: '7', feature: 'crm_ai_agent', quantity: 2 }));
    await t.ledger.grant({
      account: '7',
      tokens: 30,
      category: 'promotional',
      expiresAt: t.clock.now() + 5 * DAY,
      reason: 'welcome',
      actor: 'test',
    });
    await t.ledger.grant({ account: '7', tokens: 20, category: 'paid', priority: 10, reason: 'bought', actor: 'test' });
    accepted(await t.ledger.reserve({ account: '7', amount: 7 }));
    const { view, wire } = await both('7');
    assert.equal(wire.exists, true);
    assert.ok(view.grants.length >= 3 && view.expiringNext !== null && view.held === 7 && view.usedThisCycle > 0);
    assertCorresponds(view, wire);

    accepted(await t.ledger.adjust({ account: '8', amount: -115, reason: 'chargeback', actor: 'test' }));
    const negative = await both('8');
    assert.ok(negative.view.debt > 0 && negative.view.featuresDisabled);
    assertCorresponds(negative.view, negative.wire);
  });

  it('a renewal due now (regression: the wire showed its draft id, -1, where OpenAPI and the SDK say null)', async () => {
    accepted(await t.ledger.deduct({ account: '7', feature: 'outbound_call_single' }));
    t.clock.advance(40 * DAY);
    const { view, wire } = await both('7');
    assert.ok(
      view.grants.some((g) => g.id <= 0),
      'a draft in the library',
    );
    const grants = wire.grants as { id: number | null }[];
    assert.ok(grants.some((g) => g.id === null));
    assert.ok(grants.every((g) => g.id === null || g.id > 0));
    assertCorresponds(view, wire);
  });

  it('the seed front end’s two fields stay as it reads them', async () => {
    await t.ledger.adjust({ account: '7', setBalance: 0, reason: 'r', actor: 't' });
    const { wire } = await both('7');
    assert.equal(wire.tokens_balance, 0);
    assert.equal(wire.features_disabled, true);
  });
});

describe('the balance answer in OpenAPI: canonical and alias marked', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  it('(b) documents every field sent, each alias naming its canonical field, each canonical field its library name', async () => {
    const doc = (await t.call({ as: 'none', method: 'GET', url: '/openapi.json' })).json();
    const schema = doc.paths['/api/tokens/balance'].get.responses['200'].content['application/json'].schema;
    const props = schema.properties as Record<string, { description?: string }>;
    const view = await t.ledger.getBalance('7');
    const wire = (await t.call({ method: 'GET', url: '/api/tokens/balance?account=7' })).json();
    assert.deepEqual(keys(props), keys(wire), 'the schema lists exactly the fields the answer has');

    const libraryOf = new Map(Object.keys(view).map((k) => [wireName(k), k]));
    for (const [name, prop] of Object.entries(props)) {
      const description = prop.description ?? '';
      const alias = ALIASES[name];
      const library = libraryOf.get(name);
      if (alias !== undefined) {
        assert.equal(description, aliasOf(alias), `${name} is marked as the alias of ${alias}`);
      } else if (library !== undefined) {
        assert.match(description, /^Canonical\b/, `${name} is marked canonical`);
        assert.ok(!description.includes('alias of'), `${name} is not marked as an alias`);
        assert.equal(/\[(\w+)\]\.?$/.exec(description)?.[1], library, `${name} names its library field ${library}`);
      } else {
        assert.equal(name, ENVELOPE);
        assert.doesNotMatch(description, /^Canonical|alias of/);
      }
    }
  });
});
