// Regressions the pool model test found (pools-model.test.ts), each at its smallest: a member
// leaving after a boundary it crossed in the pool, a members list counting an expired hold, and
// answers of writes that draw nothing from the pool quoting a member's available without its
// share (or with a pool's it has left). The rules are the engine's, not a store's: one SQLite
// file each is enough.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ManualClock } from '../../src/core/clock.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { accepted, catalog, ledgerOn, refused } from '../helpers/ledger.ts';

const MONTH = 32 * 86_400_000;

describe('shared pools: regressions the model found', () => {
  let dir: string;
  let current: { ledger: TokenLedger; clock: ManualClock } | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-pool-bugs-'));
    const store = new SqliteStore({ path: join(dir, 'ledger.db'), synchronous: 'NORMAL' });
    await store.migrate();
    current = ledgerOn(store);
  });
  afterEach(async () => {
    await current?.ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = () => {
    if (!current) throw new Error('used outside a test');
    return current;
  };

  it('a member that leaves after a boundary it crossed in the pool gets no allocation for that cycle, only from its next', async () => {
    const { ledger, clock } = get();
    await ledger.createAccount({ account: 'agency' });
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: null });
    clock.advance(MONTH); // the client's own boundary passes while it is in the pool, nothing written
    await ledger.leavePool('client');
    const after = await ledger.getBalance('client');
    // The engine shows 100: the cycle begun in the pool renews on the free plan. Had any write
    // recorded the member's renewal before it left (a limit change does), it would show 0.
    assert.deepEqual([after.balance, after.allocation], [0, 0], 'nothing for the cycle begun in the pool');
    clock.advance(MONTH);
    const next = await ledger.getBalance('client');
    assert.deepEqual([next.balance, next.allocation], [100, 100], 'its own plan renews it from its next cycle');
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it("a pool's members list frees a member's expired hold at once, as the member's balance does", async () => {
    const { ledger, clock } = get();
    await ledger.createAccount({ account: 'agency' });
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 30 });
    accepted(await ledger.reserve({ account: 'client', amount: 20, ttlSeconds: 60 }));
    clock.advance(61_000);
    assert.equal((await ledger.getBalance('client')).pool?.remainingThisCycle, 30, 'the balance frees it');
    const [listed] = await ledger.poolMembers('agency');
    // The engine lists held 20, remaining 10.
    assert.deepEqual([listed?.held, listed?.remainingThisCycle], [0, 30], 'the members list');
    const changed = await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 30 });
    assert.deepEqual([changed.held, changed.remainingThisCycle], [0, 30], "joinPool's answer");
  });

  it("a pool's members list reads usage and live holds in one snapshot: a hold committed between its reads is not counted twice", async () => {
    const { ledger, clock } = get();
    await ledger.createAccount({ account: 'agency' });
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 30 });
    const hold = accepted(await ledger.reserve({ account: 'client', amount: 20, ttlSeconds: 600 }));
    // The list's first read (the pool's account) is followed, before its next, by the hold's commit.
    let between: (() => Promise<void>) | null = async () => {
      between = null;
      accepted(await ledger.commitHold(hold.holdId, 20));
    };
    const store = new Proxy(ledger.store, {
      get(target, prop) {
        if (prop === 'getAccountWithHolds') {
          return async (id: string) => {
            const read = await target.getAccountWithHolds(id);
            await between?.();
            return read;
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const reader = new TokenLedger({ store, catalog, clock });
    const [listed] = await reader.poolMembers('agency');
    // Read in two snapshots, the engine listed used 20 and held 20 (remaining 0): the committed
    // hold both as used and as still held, used + held past the limit's 30.
    assert.deepEqual([listed?.usedThisCycle, listed?.held, listed?.remainingThisCycle], [20, 0, 10]);
  });

  it("a member's credit answers its available with its share of the pool, as its balance does", async () => {
    const { ledger } = get();
    await ledger.createAccount({ account: 'agency' });
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 30 });
    const credited = accepted(await ledger.credit({ account: 'client', tokens: 1, source: 'test', reference: 'r' }));
    // The engine answers 1.
    assert.equal(credited.available, (await ledger.getBalance('client')).available);
    assert.equal(credited.available, 31);
  });

  /** A pool, and a member of it without a limit that holds 10 tokens of its own. */
  async function memberWithOwnTokens(): Promise<{ ledger: TokenLedger; standing: () => Promise<number> }> {
    const { ledger } = get();
    await ledger.createAccount({ account: 'agency' });
    await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: null });
    await ledger.credit({ account: 'client', tokens: 10, source: 'test', reference: 'own' });
    return { ledger, standing: async () => (await ledger.getBalance('client')).available };
  }

  it("settling a member's hold reserved from its own tokens alone answers its available with its pool share", async () => {
    const { ledger, standing } = await memberWithOwnTokens();
    const own = accepted(await ledger.reserve({ account: 'client', amount: 5 }));
    const committed = accepted(await ledger.commitHold(own.holdId, 5));
    assert.equal(committed.available, await standing(), 'commit'); // engine: 5; the balance: 105
    const other = accepted(await ledger.reserve({ account: 'client', amount: 5 }));
    const released = accepted(await ledger.releaseHold(other.holdId));
    assert.equal(released.available, await standing(), 'release'); // engine: 5
  });

  it("a member's hold_not_active refusal quotes its available with its pool share", async () => {
    const { ledger, standing } = await memberWithOwnTokens();
    const hold = accepted(await ledger.reserve({ account: 'client', amount: 20 })); // 10 own, 10 pooled
    accepted(await ledger.releaseHold(hold.holdId));
    const again = refused(await ledger.commitHold(hold.holdId, 5));
    assert.equal(again.code, 'hold_not_active');
    assert.equal(again.available, await standing()); // engine: 10; the balance: 110
  });

  it('a pooled hold committed after its member left answers the available of an account in no pool', async () => {
    const { ledger, standing } = await memberWithOwnTokens();
    const pooled = accepted(await ledger.reserve({ account: 'client', amount: 20 }));
    await ledger.leavePool('client');
    const late = accepted(await ledger.commitHold(pooled.holdId, 1));
    assert.equal(late.available, await standing()); // engine: 109; the balance: 9
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });
});
