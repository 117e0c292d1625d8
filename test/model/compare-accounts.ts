// Compares one account as the engine shows it with the model: every balance figure, the
// spendable grants in burn order, and every grant (active or not) with its remaining and status.
// Model grants are matched to engine grants by creation order within the account (engine ids
// ascend in the order grants were made).
import assert from 'node:assert/strict';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { TokenModel } from './token-model.ts';

/** Model grant number <-> engine grant id, filled as grants appear. */
export class GrantIds {
  private readonly engineOf = new Map<number, number>();
  private readonly seqOf = new Map<number, number>();

  pair(seq: number, id: number, where: string): void {
    const known = this.engineOf.get(seq);
    assert.ok(known === undefined || known === id, `model grant ${seq} was engine ${known}, now ${id}: ${where}`);
    assert.ok(!this.seqOf.has(id) || this.seqOf.get(id) === seq, `engine grant ${id} paired twice: ${where}`);
    this.engineOf.set(seq, id);
    this.seqOf.set(id, seq);
  }

  engine(seq: number): number | undefined {
    return this.engineOf.get(seq);
  }

  /**
   * The model's number for engine grant `id`. A grant a read shows before any write stored it
   * (a due renewal's, a never-written account's) has a draft id below zero: it stands for the
   * model grant `unstored` in the same place, when that one has no stored id yet either.
   */
  model(id: number, unstored: number | null): number | null {
    if (id > 0) return this.seqOf.get(id) ?? -id;
    if (unstored === null) return null;
    return this.engineOf.has(unstored) ? Number.NaN : unstored;
  }
}

export async function compareAccount(
  ledger: TokenLedger,
  model: TokenModel,
  ids: GrantIds,
  account: string,
  where: string,
): Promise<void> {
  // A read shows the grants as of now: a renewal, a start or an expiry that is due shows at once,
  // before the write that records it (issue 15: "reads show it at once"), as balances do.
  // Creation order: stored grants by id, then those no write stored yet (draft ids -1, -2, ...).
  const rank = (id: number) => (id > 0 ? id : Number.MAX_SAFE_INTEGER / 2 - id);
  const stored = (await ledger.grants(account, { includeInactive: true })).sort((x, y) => rank(x.id) - rank(y.id));
  const mine = model.grants(account);
  const shown = stored.map((g) => ({
    category: g.category,
    status: g.status,
    remaining: g.remaining,
    priority: g.priority,
    effectiveAt: g.effectiveAt,
    expiresAt: g.expiresAt,
  }));
  const expected = mine.map((g) => ({
    category: g.category,
    status: g.status,
    remaining: g.remaining,
    priority: g.priority,
    effectiveAt: g.effectiveAt,
    expiresAt: g.expiresAt,
  }));
  assert.deepEqual(shown, expected, `grants of ${account} after ${where}`);
  stored.forEach((g, i) => {
    const m = mine[i];
    // Only stored grants have ids to pair; a draft's id changes when a write stores it.
    if (m && g.id > 0) ids.pair(m.seq, g.id, where);
  });

  const view = await ledger.getBalance(account);
  const expectedView = model.peek(account);
  assert.deepEqual(
    {
      balance: view.balance,
      available: view.available,
      held: view.held,
      allocation: view.allocation,
      purchased: view.purchased,
      promotional: view.promotional,
      debt: view.debt,
      featuresDisabled: view.featuresDisabled,
      grants: view.grants.map((g, i) => ({
        seq: ids.model(g.id, expectedView.grants[i]?.seq ?? null),
        category: g.category,
        remaining: g.remaining,
        priority: g.priority,
        expiresAt: g.expiresAt ?? Number.POSITIVE_INFINITY,
      })),
      expiringNext: view.expiringNext,
    },
    expectedView,
    `balance of ${account} after ${where}`,
  );
}
