// The naive baseline's deduction by a pool member on SQLite, run inside the caller's
// BEGIN IMMEDIATE transaction once its key lookup found nothing: read the pool and the
// membership, draw the pool's grants, update the pool (guarded against an overdraft), the
// membership (guarded by its limit) and the member's used count, insert the member's entry and
// the pool's, and store the answer under the key (the member's entry alone cannot rebuild an
// answer that counts the pool, as in the engine). The bench's members hold no tokens of their
// own, so the pool pays the whole cost; a member with tokens is a bench error, not a case handled.
import type { DatabaseSync } from 'node:sqlite';
import type { Outcome } from './tally.ts';
import type { Op } from './workloads.ts';

/** The member's row as the caller locked it. */
export interface NaiveMember {
  allocation: number;
  purchased: number;
  held: number;
  pool_id: string;
}

export function naivePooledSqlite(db: DatabaseSync) {
  const readPool = db.prepare('SELECT allocation, purchased, held FROM accounts WHERE id = ?');
  const readMembership = db.prepare(
    'SELECT limit_per_cycle, used_this_cycle, held FROM pool_members WHERE pool_id = ? AND member_id = ?',
  );
  // The pool holds an included and a paid grant, like every bench account: the included one first.
  const grants = db.prepare(`SELECT id, remaining FROM grants
    WHERE account_id = ? AND status = 'active' AND remaining > 0 ORDER BY category = 'paid', id`);
  const draw = db.prepare('UPDATE grants SET remaining = remaining - ? WHERE id = ? AND remaining >= ?');
  const updatePool = db.prepare(`UPDATE accounts SET allocation = allocation - ?, purchased = purchased - ?,
    used_this_cycle = used_this_cycle + ?, updated_at = ?, version = version + 1
    WHERE id = ? AND allocation + purchased - held >= ?`);
  const moveMembership = db.prepare(`UPDATE pool_members SET used_this_cycle = used_this_cycle + ?, updated_at = ?
    WHERE pool_id = ? AND member_id = ? AND (limit_per_cycle IS NULL OR used_this_cycle + held + ? <= limit_per_cycle)`);
  const touchMember = db.prepare(
    'UPDATE accounts SET used_this_cycle = used_this_cycle + ?, updated_at = ?, version = version + 1 WHERE id = ?',
  );
  const insert = db.prepare(`INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta,
    balance_after, feature, quantity, idempotency_key, at, held_after, grant_moves, pool_id, member_id, pooled)
    VALUES (?, 'debit', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`);
  const saveKey =
    db.prepare(`INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at)
    VALUES (?, 'deduct', ?, ?, ?, ?)`);

  return (op: Op, member: NaiveMember, fingerprint: string): Outcome => {
    if (member.allocation + member.purchased !== 0) throw new Error(`member ${op.account} holds tokens of its own`);
    const pool = readPool.get(member.pool_id) as { allocation: number; purchased: number; held: number } | undefined;
    if (!pool) throw new Error(`no pool ${member.pool_id}`);
    const m = readMembership.get(member.pool_id, op.account) as
      | { limit_per_cycle: number | null; used_this_cycle: number; held: number }
      | undefined;
    if (!m) throw new Error(`${op.account} has no membership of ${member.pool_id}`);
    const poolAvailable = pool.allocation + pool.purchased - pool.held;
    const room = m.limit_per_cycle === null ? poolAvailable : m.limit_per_cycle - m.used_this_cycle - m.held;
    const share = Math.max(0, Math.min(poolAvailable, room));
    if (op.cost > share) return 'refused';
    const now = Date.now();
    const fromAllocation = Math.min(pool.allocation, op.cost);
    const fromPurchased = op.cost - fromAllocation;
    const moves: [number, number][] = [];
    let left = op.cost;
    for (const g of grants.all(member.pool_id) as { id: number; remaining: number }[]) {
      if (left === 0) break;
      const take = Math.min(g.remaining, left);
      if (draw.run(take, g.id, take).changes !== 1) throw new Error(`grant ${g.id} would overdraw`);
      moves.push([g.id, -take]);
      left -= take;
    }
    if (updatePool.run(fromAllocation, fromPurchased, op.cost, now, member.pool_id, op.cost).changes !== 1) {
      throw new Error(`pool ${member.pool_id} would overdraw`);
    }
    if (moveMembership.run(op.cost, now, member.pool_id, op.account, op.cost).changes !== 1) {
      throw new Error(`${op.account} would pass its limit`);
    }
    touchMember.run(op.cost, now, op.account);
    const entry = insert.get(
      op.account,
      0,
      0,
      0,
      0,
      op.feature,
      op.quantity,
      op.key,
      now,
      member.held,
      '[]',
      member.pool_id,
      null,
      op.cost,
    ) as { id: number };
    const poolBalance = pool.allocation + pool.purchased - op.cost;
    insert.get(
      member.pool_id,
      -op.cost,
      -fromAllocation,
      -fromPurchased,
      poolBalance,
      op.feature,
      null,
      null,
      now,
      pool.held,
      JSON.stringify(moves),
      null,
      op.account,
      0,
    );
    if (op.key !== null) {
      const available = Math.max(0, Math.min(poolAvailable - op.cost, room - op.cost));
      const response = {
        ok: true,
        account: op.account,
        cost: op.cost,
        balance: 0,
        available,
        entryId: entry.id,
        replayed: false,
        pooled: op.cost,
      };
      saveKey.run(op.account, op.key, fingerprint, JSON.stringify(response), now);
    }
    return 'charged';
  };
}
