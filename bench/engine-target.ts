// The engine under test: TokenLedger.deduct, in-process, on SQLite or PostgreSQL.
import { defaultConfig } from '../src/config/default-config.ts';
import { parseConfig } from '../src/config/index.ts';
import type { Catalog } from '../src/core/catalog.ts';
import { findFeature } from '../src/core/catalog.ts';
import type { GroupCommitOptions, GroupCommitStats } from '../src/ledger/batch/group-commit-options.ts';
import { TokenLedger, type TokenLedgerOptions } from '../src/ledger/token-ledger.ts';
import type { DeductResult } from '../src/ledger/types.ts';
import type { Store } from '../src/store/store.ts';
import type { Outcome } from './tally.ts';
import { FEATURE_COSTS, type Op, type SeedAccount } from './workloads.ts';

/** The built-in catalog, checked against the costs the workloads assume. */
export function benchCatalog(): Catalog {
  const catalog = parseConfig(defaultConfig(), 'default');
  for (const [feature, cost] of Object.entries(FEATURE_COSTS)) {
    const actual = findFeature(catalog, feature).cost;
    if (actual !== cost)
      throw new Error(`bench: ${feature} costs ${actual} in the catalog, the workloads assume ${cost}`);
  }
  return catalog;
}

export function openEngine(store: Store, groupCommit: GroupCommitOptions | false): TokenLedger {
  const options: TokenLedgerOptions = { store, catalog: benchCatalog(), groupCommit };
  return new TokenLedger(options);
}

/**
 * Opens the workload's accounts with their balances, 1,000 per transaction; then pool members
 * by joining their pool through the library, as an operator would (a member is opened with no
 * tokens of its own).
 */
export async function seed(ledger: TokenLedger, accounts: readonly SeedAccount[]): Promise<void> {
  const owners = accounts.filter((a) => a.joins === undefined);
  for (let i = 0; i < owners.length; i += 1000) {
    const outcomes = await ledger.importAccounts(
      owners.slice(i, i + 1000).map((a) => ({ account: a.account, plan: 'free', balance: a.balance, reason: 'bench' })),
    );
    const failed = outcomes.find((o) => o.status !== 'imported');
    if (failed) throw new Error(`bench: seeding failed: ${JSON.stringify(failed)}`);
  }
  for (const a of accounts) {
    if (a.joins === undefined) continue;
    if (a.balance !== 0) throw new Error(`bench: member ${a.account} would need tokens of its own`);
    const m = await ledger.joinPool({ member: a.account, pool: a.joins.pool, limitPerCycle: a.joins.limitPerCycle });
    if (m.limitPerCycle !== a.joins.limitPerCycle || m.usedThisCycle !== 0) {
      throw new Error(`bench: joining ${a.account} to ${a.joins.pool} gave ${JSON.stringify(m)}`);
    }
  }
}

export function outcomeOf(r: DeductResult): Outcome {
  if (r.ok) return r.replayed ? 'replayed' : 'charged';
  if (r.code === 'insufficient_tokens') return 'refused';
  throw new Error(`${r.code}: ${r.message}`);
}

export function engineTarget(ledger: TokenLedger) {
  return {
    async deduct(op: Op): Promise<Outcome> {
      const r = await ledger.deduct({
        account: op.account,
        feature: op.feature,
        quantity: op.quantity,
        ...(op.key === null ? {} : { idempotencyKey: op.key }),
      });
      return outcomeOf(r);
    },
  };
}

export function batchStats(ledger: TokenLedger): GroupCommitStats {
  return ledger.groupCommitStats();
}
