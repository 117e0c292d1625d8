import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { AdjustResult } from '../../src/ledger/types.ts';
import { conformance } from '../helpers/suite.ts';

const RUNS = Number(process.env.TOKENMETER_PROPERTY_RUNS ?? 12);

/**
 * Account and key names chosen so that `${account}:${key}` collides across accounts (the old
 * reference scheme): `p` with `x:k` and `p:x` with `k` must stay two adjustments.
 */
const attempt = fc.record({
  account: fc.constantFrom('p', 'p:x', 'q'),
  key: fc.constantFrom('k', 'x:k', 'k2', '😀'),
  amount: fc.constantFrom(-3, 5, 11),
  repeats: fc.integer({ min: 1, max: 3 }),
});

conformance('adjust idempotency (property)', (get) => {
  it('concurrent and replayed adjustments with keys apply each (account, key) exactly once', async () => {
    const { ledger } = get();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(attempt, { minLength: 1, maxLength: 12 }), async (attempts) => {
        run++;
        const name = (account: string) => `r${run}-${account}`;
        // Every attempt is sent `repeats` times, all at once: retries racing each other.
        const sent = attempts.flatMap((a) => Array.from({ length: a.repeats }, () => a));
        const results: AdjustResult[] = await Promise.all(
          sent.map((a) =>
            ledger.adjust({
              account: name(a.account),
              amount: a.amount,
              reason: 'property',
              actor: 't',
              idempotencyKey: a.key,
            }),
          ),
        );
        const applied = new Map<string, number>();
        results.forEach((r, i) => {
          const a = sent[i];
          if (!a) throw new Error('a result without its attempt');
          const scope = `${a.account}\u0001${a.key}`;
          if (r.ok && !r.replayed) {
            assert.ok(!applied.has(scope), `(${a.account}, ${a.key}) applied twice`);
            applied.set(scope, a.amount);
          }
        });
        // Each (account, key) used was applied once; the others answered with a replay of the
        // winner's amount, or a conflict when they asked for another amount.
        const scopes = new Set(sent.map((a) => `${a.account}\u0001${a.key}`));
        assert.equal(applied.size, scopes.size);
        results.forEach((r, i) => {
          const a = sent[i];
          if (!a) throw new Error('a result without its attempt');
          const winner = applied.get(`${a.account}\u0001${a.key}`);
          if (a.amount === winner) assert.ok(r.ok, `a retry of the winning request was refused: ${JSON.stringify(r)}`);
          else assert.equal(r.ok ? 'ok' : r.code, 'idempotency_conflict');
        });
        for (const account of new Set(sent.map((a) => a.account))) {
          let expected = 100;
          for (const [scope, amount] of applied) if (scope.startsWith(`${account}\u0001`)) expected += amount;
          const entries = (await ledger.history(name(account))).entries.filter((e) => e.kind === 'adjustment');
          assert.equal(entries.length, [...applied.keys()].filter((s) => s.startsWith(`${account}\u0001`)).length);
          assert.equal((await ledger.getBalance(name(account))).balance, expected);
        }
      }),
      { numRuns: RUNS },
    );
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });
});
