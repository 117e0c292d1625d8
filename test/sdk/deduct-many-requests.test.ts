// deductMany over more than one request (1,000 items or 512 KiB each), against the real service
// on a real SQLite file. Whatever fails, and wherever, the caller learns what was charged: the
// call throws only when nothing was, and otherwise every item has a result and the key it was
// sent with, so what is unknown can be retried with its key and charged once.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import type { LedgerEntry } from '../../src/core/entry.ts';
import {
  type DeductManyResult,
  type DeductRequest,
  TokenMeterApiError,
  TokenMeterConnectionError,
} from '../../src/sdk/index.ts';
import { type LiveService, liveService, UUID_V7 } from './sdk-helpers.ts';

/** What a call of the fetch below does instead of (or after) reaching the service. */
type Fault = 'refuse' | 'lose' | '503' | '401';

interface Sent {
  bytes: number;
  deductions: { account: string; feature: string; quantity?: number; idempotency_key: string }[];
}

/**
 * A fetch to the real service that records each body and applies `faultFor(n)` to the nth call:
 * `refuse`, a connection refused (nothing sent); `lose`, the service answers and the answer is
 * lost; `503` and `401`, that answer without reaching the service.
 */
function faultyFetch(faultFor: (n: number) => Fault | null = () => null) {
  const sent: Sent[] = [];
  const fetcher: typeof fetch = async (input, init) => {
    const text = String(init?.body);
    sent.push({ bytes: Buffer.byteLength(text), ...JSON.parse(text) });
    const fault = faultFor(sent.length);
    if (fault === 'refuse') {
      const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1'), { code: 'ECONNREFUSED' });
      throw new TypeError('fetch failed', { cause });
    }
    if (fault === '503' || fault === '401') {
      const code = fault === '503' ? 'unavailable' : 'unauthorized';
      return Response.json({ success: false, code, error: `injected ${fault}` }, { status: Number(fault) });
    }
    const res = await fetch(input, init);
    const answer = await res.text();
    if (fault === 'lose') throw new TypeError('fetch failed (the answer was lost on the way back)');
    return new Response(answer, { status: res.status, headers: res.headers });
  };
  return { sent, fetcher };
}

async function debitsOf(live: LiveService, account: string): Promise<LedgerEntry[]> {
  const all: LedgerEntry[] = [];
  let cursor: string | null = null;
  do {
    const page = await live.t.ledger.history(account, { limit: 1000, cursor });
    all.push(...page.entries.filter((e) => e.kind === 'debit'));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return all;
}

async function fund(live: LiveService, accounts: readonly string[], balance: number): Promise<void> {
  for (const account of accounts) await live.t.ledger.adjust({ account, setBalance: balance, reason: 'r', actor: 't' });
}

const calls = (n: number, account: string): DeductRequest[] =>
  Array.from({ length: n }, () => ({ account, feature: 'outbound_call_single' }));

/** Every ok result is the ledger's one debit under its key, for its item; every other result has none. */
async function assertMatchesLedger(
  live: LiveService,
  items: readonly DeductRequest[],
  results: readonly DeductManyResult[],
): Promise<void> {
  const accounts = [...new Set(items.map((i) => i.account))];
  const debits = (await Promise.all(accounts.map((a) => debitsOf(live, a)))).flat();
  const byKey = new Map<string, LedgerEntry[]>();
  for (const d of debits) {
    const k = `${d.account}\u0000${d.idempotencyKey}`;
    byKey.set(k, [...(byKey.get(k) ?? []), d]);
  }
  const charged = new Set<string>();
  results.forEach((r, i) => {
    const item = items[i] as DeductRequest;
    if (item.idempotency_key !== undefined) assert.equal(r.idempotency_key, item.idempotency_key);
    else assert.match(r.idempotency_key, UUID_V7);
    const k = `${item.account}\u0000${r.idempotency_key}`;
    const entries = byKey.get(k) ?? [];
    assert.ok(entries.length <= 1, `item ${i}: charged ${entries.length} times`);
    if (r.ok) {
      charged.add(k);
      assert.equal(entries.length, 1, `item ${i} is ok, so the ledger has its debit`);
      assert.equal(r.entry_id, entries[0]?.id, `item ${i}: its result is that debit`);
      assert.equal(entries[0]?.feature, item.feature);
      assert.equal(entries[0]?.quantity, item.quantity ?? 1);
    }
  });
  results.forEach((r, i) => {
    const k = `${(items[i] as DeductRequest).account}\u0000${r.idempotency_key}`;
    if (!r.ok && !charged.has(k)) assert.equal(byKey.get(k), undefined, `item ${i} (${r.code}) was charged`);
  });
  assert.equal(debits.length, charged.size, 'every debit is an ok result');
}

/** Sends the items whose result is `unavailable` again with their keys (no faults now); answers every item's final result. */
async function settleUnavailable(
  live: LiveService,
  items: readonly DeductRequest[],
  results: readonly DeductManyResult[],
): Promise<DeductManyResult[]> {
  const again = results.flatMap((r, i) => (!r.ok && r.code === 'unavailable' ? [i] : []));
  const retried = await live.app.deductMany(
    again.map((i) => ({
      ...(items[i] as DeductRequest),
      idempotency_key: (results[i] as DeductManyResult).idempotency_key,
    })),
  );
  const final = [...results];
  again.forEach((i, n) => {
    final[i] = retried[n] as DeductManyResult;
  });
  assert.ok(
    final.every((r) => r.ok || r.code !== 'unavailable'),
    'a retry with the keys settles every item',
  );
  return final;
}

describe('SDK: deductMany over several requests', () => {
  let live: LiveService;
  beforeEach(async () => {
    live = await liveService();
    await fund(live, ['big'], 100_000);
  });
  afterEach(() => live.close());

  it('a malformed item in a later request is refused before anything is sent, named by its index in the list', async () => {
    const { sent, fetcher } = faultyFetch();
    const items = calls(1001, 'big');
    items[1000] = { account: 'big', feature: 'outbound_call_single', quantity: 0 };
    await assert.rejects(live.client({ fetch: fetcher }).deductMany(items), (err: unknown) => {
      assert.ok(err instanceof TokenMeterApiError);
      assert.deepEqual(
        [err.status, err.code, err.message],
        [400, 'invalid_request', 'deductions[1000].quantity: must be >= 1'],
      );
      return true;
    });
    assert.equal(sent.length, 0);
    assert.equal((await debitsOf(live, 'big')).length, 0);
  });

  it('an unknown feature, in the first request or a later one, is that item’s result; every other item is charged', async () => {
    const { sent, fetcher } = faultyFetch();
    const items = calls(1500, 'big');
    items[3] = { account: 'big', feature: 'teleport' };
    items[1200] = { account: 'big', feature: 'teleport' };
    const results = await live.client({ fetch: fetcher }).deductMany(items);
    assert.equal(results.length, 1500);
    for (const i of [3, 1200]) {
      const r = results[i];
      assert.equal(r?.ok, false);
      assert.deepEqual(
        [r?.ok === false && r.code, r?.ok === false && r.error],
        ['unknown_feature', 'feature: Unknown feature "teleport"'],
      );
    }
    assert.ok(results.every((r, i) => r.ok === (i !== 3 && i !== 1200)));
    // Each refused request charged nothing and was sent again without the item it named.
    assert.deepEqual(
      sent.map((s) => s.deductions.length),
      [1000, 999, 500, 499],
    );
    assert.equal(
      sent[1]?.deductions.some((d) => d.feature === 'teleport'),
      false,
    );
    await assertMatchesLedger(live, items, results);
    assert.equal((await debitsOf(live, 'big')).length, 1498);
  });

  it('a later request with no answer: the first request’s results are kept, the rest are unavailable with keys that charge each once', async () => {
    // Calls 2 to 5 (the second request and its three retries) reach the service; their answers are lost.
    const { sent, fetcher } = faultyFetch((n) => (n >= 2 && n <= 5 ? 'lose' : null));
    const items = calls(2500, 'big');
    const results = await live.client({ fetch: fetcher }).deductMany(items);
    assert.equal(sent.length, 5, 'the third request is not sent');
    assert.ok(results.slice(0, 1000).every((r) => r.ok && !r.replayed));
    for (const r of results.slice(1000)) {
      assert.equal(r.ok, false);
      assert.equal(r.ok === false && r.code, 'unavailable');
    }
    assert.deepEqual(
      results.slice(1000, 2000).map((r) => r.idempotency_key),
      sent[1]?.deductions.map((d) => d.idempotency_key),
    );
    assert.equal((await debitsOf(live, 'big')).length, 2000, 'the lost request was charged');

    const final = await settleUnavailable(live, items, results);
    assert.ok(final.slice(1000, 2000).every((r) => r.ok && r.replayed));
    assert.ok(final.slice(2000).every((r) => r.ok && !r.replayed));
    await assertMatchesLedger(live, items, final);
    assert.equal((await debitsOf(live, 'big')).length, 2500);
  });

  it('a later request refused whole: its items and the later ones get the refusal; nothing after it is sent', async () => {
    const { sent, fetcher } = faultyFetch((n) => (n === 2 ? '401' : null));
    const items = calls(2500, 'big');
    const results = await live.client({ fetch: fetcher }).deductMany(items);
    assert.equal(sent.length, 2);
    assert.ok(results.slice(0, 1000).every((r) => r.ok));
    assert.ok(results.slice(1000).every((r) => !r.ok && r.code === 'unauthorized' && r.error === 'injected 401'));
    await assertMatchesLedger(live, items, results);
    assert.equal((await debitsOf(live, 'big')).length, 1000);
  });

  it('the first request refused whole or never sent throws, nothing charged; after a lost answer it answers unavailable results', async () => {
    const refused = faultyFetch((n) => (n === 1 ? '401' : null));
    await assert.rejects(live.client({ fetch: refused.fetcher }).deductMany(calls(1500, 'big')), (err: unknown) => {
      assert.ok(err instanceof TokenMeterApiError);
      assert.equal(err.status, 401);
      return true;
    });
    const down = faultyFetch(() => 'refuse');
    await assert.rejects(live.client({ fetch: down.fetcher }).deductMany(calls(10, 'big')), TokenMeterConnectionError);
    assert.equal(down.sent.length, 4);
    assert.equal((await debitsOf(live, 'big')).length, 0);

    // The first attempt is charged and its answer lost; the retry is refused (a key revoked, a
    // rate limit). The refusal does not say what the lost attempt did, so nothing is thrown.
    const lost = faultyFetch((n) => (n === 1 ? 'lose' : n === 2 ? '401' : null));
    const items = calls(20, 'big');
    const results = await live.client({ fetch: lost.fetcher }).deductMany(items);
    assert.ok(results.every((r) => !r.ok && r.code === 'unavailable'));
    assert.equal((await debitsOf(live, 'big')).length, 20);
    const final = await settleUnavailable(live, items, results);
    assert.ok(final.every((r) => r.ok && r.replayed));
    await assertMatchesLedger(live, items, final);
  });

  it('items too long for 1,000 in 512 KiB go in smaller requests: 1,000 with 255-character Cyrillic keys', async () => {
    const { sent, fetcher } = faultyFetch();
    const items = Array.from({ length: 1000 }, (_, i) => ({
      account: 'big',
      feature: 'outbound_call_single',
      idempotency_key: `${i}-`.padEnd(255, 'ж'),
    }));
    const results = await live.client({ fetch: fetcher }).deductMany(items);
    assert.ok(sent.length >= 2);
    assert.ok(sent.every((s) => s.bytes <= 512 * 1024));
    assert.equal(
      sent.reduce((n, s) => n + s.deductions.length, 0),
      1000,
    );
    assert.ok(results.every((r) => r.ok));
    await assertMatchesLedger(live, items, results);
  });
});

describe('SDK: deductMany property over the real service', () => {
  let live: LiveService;
  before(async () => {
    live = await liveService();
  });
  after(() => live.close());

  it('for any items, refusals and failed requests: a throw means nothing was charged, else every result matches the ledger', async () => {
    let run = 0;
    const special = fc.record({ at: fc.nat(), kind: fc.constantFrom('unknown', 'poor', 'mine') });
    // A fault on `times` calls from the `call`th: enough of them outlast the client's retries.
    const fault = fc.record({
      call: fc.integer({ min: 1, max: 6 }),
      times: fc.integer({ min: 1, max: 4 }),
      fault: fc.constantFrom<Fault>('refuse', 'lose', '503', '401'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 995, max: 2100 })),
        fc.array(special, { maxLength: 6 }),
        fc.array(fault, { maxLength: 3 }),
        fc.integer({ min: 0, max: 2 }),
        async (n, specials, faults, retries) => {
          const r = ++run;
          const accounts = [0, 1, 2].map((a) => `r${r}-a${a}`);
          await fund(live, accounts, 100_000);
          await fund(live, [`r${r}-poor`], 3);
          const items: DeductRequest[] = Array.from({ length: n }, (_, i) => ({
            account: accounts[i % 3] as string,
            feature: i % 2 === 0 ? 'outbound_call_single' : 'crm_ai_agent',
          }));
          for (const { at, kind } of specials) {
            const i = at % n;
            if (kind === 'unknown') items[i] = { account: accounts[0] as string, feature: 'teleport' };
            if (kind === 'poor') items[i] = { account: `r${r}-poor`, feature: 'crm_ai_agent' };
            // A key of the caller's, maybe repeated: the same parameters replay, others conflict.
            if (kind === 'mine') {
              items[i] = {
                account: accounts[0] as string,
                feature: 'social_post',
                quantity: 1 + (at % 2),
                idempotency_key: `r${r}-mine-${at % 3}`,
              };
            }
          }
          const plan = new Map(faults.flatMap((f) => Array.from({ length: f.times }, (_, t) => [f.call + t, f.fault])));
          const { fetcher } = faultyFetch((c) => plan.get(c) ?? null);
          let outcome: DeductManyResult[] | unknown;
          try {
            outcome = await live.client({ fetch: fetcher, retries }).deductMany(items);
          } catch (err) {
            outcome = err;
          }
          if (!Array.isArray(outcome)) {
            assert.ok(
              outcome instanceof TokenMeterApiError || outcome instanceof TokenMeterConnectionError,
              String(outcome),
            );
            for (const account of [...accounts, `r${r}-poor`]) {
              assert.equal((await debitsOf(live, account)).length, 0, `threw "${outcome.message}" after charging`);
            }
            return;
          }
          assert.equal(outcome.length, n);
          const final = await settleUnavailable(live, items, outcome);
          await assertMatchesLedger(live, items, final);
          final.forEach((res, i) => {
            if (res.ok) return;
            const expected = ['insufficient_tokens', 'unknown_feature', 'idempotency_conflict', 'unauthorized'];
            assert.ok(expected.includes(res.code), `item ${i}: ${res.code}`);
            if (res.code === 'unknown_feature') assert.equal(items[i]?.feature, 'teleport');
            if (res.code === 'insufficient_tokens') assert.equal(items[i]?.account, `r${r}-poor`);
          });
        },
      ),
      { numRuns: 30 },
    );
  });
});
