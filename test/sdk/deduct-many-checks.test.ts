// deductMany checks every item before sending anything, by the batch route's rules, so a
// malformed item can never be found only after earlier requests were charged. The property
// holds the SDK's check to the real service: the same items, the same verdict and words.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { checkDeductions } from '../../src/sdk/deduction-check.ts';
import { TokenMeterApiError } from '../../src/sdk/index.ts';
import { APP_KEY, type LiveService, liveService } from './sdk-helpers.ts';

/** A field left out of the item (as opposed to a field present with any value, undefined included). */
const ABSENT = Symbol('absent');

type Field = 'account' | 'feature' | 'quantity' | 'idempotency_key';

/** A well-formed item: what the service takes (a feature it knows; keys it accepts in the body). */
const valid = fc.record({
  account: fc.constantFrom<unknown>('acct-1', 'acct-2', 'ünï-3', '😀'.repeat(128), 'a b'),
  feature: fc.constantFrom<unknown>('outbound_call_single', 'crm_ai_agent', 'social_post'),
  quantity: fc.oneof(fc.constant<unknown>(ABSENT), fc.integer({ min: 1, max: 1_000_000 })),
  idempotency_key: fc.constantFrom<unknown>(ABSENT, 'k-1', 'заказ-1', '😀'.repeat(255), ' spaced ', 'k'.repeat(255)),
});

/** One thing wrong with an item: a field's value (ABSENT: left out), an unknown field, or not an object at all. */
const notString = [7, null, true, [], {}, 1.5];
const fault = fc.oneof(
  ...(
    [
      [
        'account',
        [
          ABSENT,
          undefined,
          '',
          'a'.repeat(129),
          '😀'.repeat(129),
          'a\u0001b',
          'x\ud800',
          '\u007f',
          ' lead',
          'trail ',
          'nb\u00a0',
          ...notString,
        ],
      ],
      ['feature', [ABSENT, undefined, '', 'f'.repeat(65), 'teleport', 'f'.repeat(64), 'ctl\u0001', ...notString]],
      ['quantity', [0, -0, -1, 1_000_001, 1e21, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1', null, true]],
      ['idempotency_key', ['', 'k'.repeat(256), '😀'.repeat(256), 'a\u0000', '\udc00', 5, [], false, undefined]],
    ] as [Field, unknown[]][]
  ).map(([field, values]) => ({
    weight: 4,
    arbitrary: fc.record({ field: fc.constant<string>(field), value: fc.constantFrom(...values) }),
  })),
  {
    weight: 2,
    arbitrary: fc.record({
      field: fc.constantFrom('zzz', 'Account', 'idempotencyKey', 'dropped'),
      value: fc.constantFrom<unknown>(1, 'x', undefined),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      field: fc.constant('(whole)'),
      value: fc.constantFrom<unknown>(null, 3, 'item', [1], undefined),
    }),
  },
);

const item = fc
  .tuple(valid, fc.array(fault, { maxLength: 2 }), fc.boolean())
  .map(([base, faults, extraFirst]): unknown => {
    const whole = faults.find((f) => f.field === '(whole)');
    if (whole) return whole.value;
    const fields: Record<string, unknown> = { ...base };
    const extra: Record<string, unknown> = {};
    for (const { field, value } of faults) {
      if (field in base) fields[field] = value;
      else extra[field] = value;
    }
    for (const name of Object.keys(fields)) if (fields[name] === ABSENT) delete fields[name];
    return extraFirst ? { ...extra, ...fields } : { ...fields, ...extra };
  });

describe('SDK: deductMany checks items before sending', () => {
  let live: LiveService;
  before(async () => {
    live = await liveService();
  });
  after(() => live.close());

  async function serviceVerdict(items: unknown[]): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${live.url}/api/tokens/deduct/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${APP_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deductions: items }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  function sdkVerdict(items: unknown[]): TokenMeterApiError | null {
    try {
      checkDeductions(items);
      return null;
    } catch (err) {
      assert.ok(err instanceof TokenMeterApiError, String(err));
      return err;
    }
  }

  it('property: for any list of items, the SDK refuses what the service refuses, with its status, code and words', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 4 }), async (items) => {
        const service = await serviceVerdict(items);
        const sdk = sdkVerdict(items);
        if (service.status === 400) {
          assert.ok(sdk !== null, `the service refused: ${String(service.body.error)}`);
          assert.deepEqual(
            [sdk.status, sdk.code, sdk.message, sdk.body],
            [400, service.body.code, service.body.error, service.body],
          );
        } else if (service.status === 404) {
          // Only the service knows its features; it checks them item by item, after the schema.
          // The SDK passes the list, or refuses a later item for a check that comes before the
          // catalog's within an item (an account with outer white space).
          assert.equal(service.body.code, 'unknown_feature');
          const named = Number(/^deductions\[(\d+)\]/.exec(String(service.body.error))?.[1]);
          if (sdk !== null) {
            assert.match(sdk.message, /^deductions\[(\d+)\]\.account: must not start or end with white space$/);
            assert.ok(Number(/\[(\d+)\]/.exec(sdk.message)?.[1]) > named);
          }
        } else {
          assert.equal(service.status, 200, JSON.stringify(service.body));
          assert.equal(sdk, null, `the service took the list, the SDK refused: ${sdk?.message}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a refused list sends nothing; a key left null or undefined is the SDK’s to give, not a refusal', async () => {
    let sent = 0;
    const tm = live.client({
      fetch: (input, init) => {
        sent++;
        return fetch(input, init);
      },
    });
    const bad = [
      { account: 'c', feature: 'social_post' },
      { account: 'c', feature: 'social_post', zzz: 1 },
    ];
    await assert.rejects(
      tm.deductMany(bad as never),
      /^TokenMeterApiError: deductions\[1\]\.zzz: is not a known field$/,
    );
    assert.equal(sent, 0);
    const results = await tm.deductMany([
      { account: 'c', feature: 'social_post', idempotency_key: undefined },
      { account: 'c', feature: 'social_post', idempotency_key: null as never },
    ]);
    assert.ok(results.every((r) => r.ok));
    assert.equal(sent, 1);
  });

  it('a value JSON cannot encode is a TypeError at once, not a refusal nor a connection error', async () => {
    let sent = 0;
    const tm = live.client({
      fetch: (input, init) => {
        sent++;
        return fetch(input, init);
      },
    });
    await assert.rejects(tm.deductMany([{ account: 'c', feature: 'social_post', quantity: 1n as never }]), TypeError);
    assert.equal(sent, 0);
  });
});
