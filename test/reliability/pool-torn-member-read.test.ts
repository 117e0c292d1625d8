// A member's balance read while its pooled hold is committed (issue 18; found reading getBalance
// for the bank workload's pool checks: the bank's per-figure ranges cannot see it). A read that
// took the member's usage from one snapshot and its pool's holds from another could count a hold
// committed in between as neither held nor used: a member at its limit would show its whole limit
// available and its features enabled, a state that never existed. Made deterministic as in
// torn-balance-read.test.ts: the commit runs right after the reader's k-th store read returns,
// for every k the read makes, so whatever reads a balance takes, none may straddle the commit.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { accepted, catalog } from '../helpers/ledger.ts';

/** Wraps every method of `target` so that the `pauseAt`-th call made through it runs `between` once it has returned. */
function pausing<T extends object>(
  target: T,
  counter: { calls: number; pauseAt: number },
  between: () => Promise<void>,
): T {
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result: unknown = await value.apply(t, args);
        if (++counter.calls === counter.pauseAt) await between();
        return result;
      };
    },
  });
}

/** The store, whose `pauseAt`-th read (of its own or its service's) runs `between` once it returned. */
function pausingStore(
  store: Store,
  pauseAt: number,
  between: () => Promise<void>,
): { store: Store; reads: () => number } {
  const counter = { calls: 0, pauseAt };
  const service = pausing(store.service, counter, between);
  const wrapped = pausing(store, counter, between);
  return {
    store: new Proxy(wrapped, { get: (t, prop) => (prop === 'service' ? service : Reflect.get(t, prop)) }),
    reads: () => counter.calls,
  };
}

describe("a member's balance read concurrent with the commit of its pooled hold", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-pool-torn-'));
  const store = new SqliteStore({ path: join(dir, 'tokens.db') });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a state that existed, wherever among its reads the commit lands: a member at its limit stays at it', async () => {
    await store.migrate();
    const writer = new TokenLedger({ store, catalog, groupCommit: false });
    let reads = Number.POSITIVE_INFINITY;
    for (let pauseAt = 1; pauseAt <= reads; pauseAt++) {
      const [pool, member] = [`agency-${pauseAt}`, `client-${pauseAt}`];
      accepted(await writer.adjust({ account: pool, setBalance: 100, reason: 'setup', actor: 'test' }));
      await writer.joinPool({ member, pool, limitPerCycle: 20 });
      // Its whole limit reserved in the pool: nothing more available, before or after the commit.
      const hold = accepted(await writer.reserve({ account: member, amount: 20 }));
      const before = await writer.getBalance(member);
      assert.deepEqual([before.available, before.featuresDisabled], [0, true]);

      let committed = false;
      const paused = pausingStore(store, pauseAt, async () => {
        accepted(await writer.commitHold(hold.holdId, 20));
        committed = true;
      });
      const reader = new TokenLedger({ store: paused.store, catalog, groupCommit: false });
      const view = await reader.getBalance(member);
      reads = paused.reads();
      assert.ok(committed, `the commit ran after read ${pauseAt} of ${reads}`);
      const afterCommit = await writer.getBalance(member);
      assert.deepEqual([afterCommit.available, afterCommit.featuresDisabled], [0, true]);
      assert.deepEqual(
        {
          available: view.available,
          featuresDisabled: view.featuresDisabled,
          remaining: view.pool?.remainingThisCycle,
        },
        { available: 0, featuresDisabled: true, remaining: 0 },
        `the commit after read ${pauseAt} of ${reads}`,
      );
    }
  });
});
