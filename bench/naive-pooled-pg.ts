// The naive baseline's deduction by a pool member on PostgreSQL, run inside the caller's
// transaction (the member's row locked, its key lookup found nothing): lock the pool's row and
// the membership's (member first, then pool, the order the engine takes them in), draw the
// pool's grants, update the pool (guarded against an overdraft), the membership (guarded by its
// limit) and the member's used count, insert the member's entry and the pool's, and store the
// answer under the key (the member's entry alone cannot rebuild an answer that counts the pool,
// as in the engine). The bench's members hold no tokens of their own, so the pool pays the whole
// cost; a member with tokens is a bench error, not a case handled.
import type pg from 'pg';
import type { Outcome } from './tally.ts';
import type { Op } from './workloads.ts';

/** The member's row as the caller locked it (bigints as node-postgres returns them). */
export interface NaivePgMember {
  allocation: string;
  purchased: string;
  held: string;
  pool_id: string;
}

const LOCK_POOL = 'SELECT allocation, purchased, held FROM accounts WHERE id = $1 FOR UPDATE';
const LOCK_MEMBERSHIP =
  'SELECT limit_per_cycle, used_this_cycle, held FROM pool_members WHERE pool_id = $1 AND member_id = $2 FOR UPDATE';
// The pool holds an included and a paid grant, like every bench account: the included one first.
const GRANTS = `SELECT id, remaining FROM grants WHERE account_id = $1 AND status = 'active' AND remaining > 0
  ORDER BY category = 'paid', id`;
const DRAW = 'UPDATE grants SET remaining = remaining - $1 WHERE id = $2 AND remaining >= $1';
const UPDATE_POOL = `UPDATE accounts SET allocation = allocation - $2, purchased = purchased - $3,
  used_this_cycle = used_this_cycle + $4, updated_at = $5, version = version + 1
  WHERE id = $1 AND allocation + purchased - held >= $4`;
const MOVE_MEMBERSHIP = `UPDATE pool_members SET used_this_cycle = used_this_cycle + $3, updated_at = $4
  WHERE pool_id = $1 AND member_id = $2 AND (limit_per_cycle IS NULL OR used_this_cycle + held + $3 <= limit_per_cycle)`;
const TOUCH_MEMBER =
  'UPDATE accounts SET used_this_cycle = used_this_cycle + $2, updated_at = $3, version = version + 1 WHERE id = $1';
const INSERT = `INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after,
  feature, quantity, idempotency_key, at, held_after, grant_moves, pool_id, member_id, pooled)
  VALUES ($1, 'debit', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`;
const SAVE_KEY = `INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at)
  VALUES ($1, 'deduct', $2, $3, $4, $5)`;

export async function naivePooledPg(
  client: pg.PoolClient,
  op: Op,
  member: NaivePgMember,
  fingerprint: string,
): Promise<Outcome> {
  if (Number(member.allocation) + Number(member.purchased) !== 0) {
    throw new Error(`member ${op.account} holds tokens of its own`);
  }
  const poolId = member.pool_id;
  const pool = (await client.query<{ allocation: string; purchased: string; held: string }>(LOCK_POOL, [poolId]))
    .rows[0];
  if (!pool) throw new Error(`no pool ${poolId}`);
  const m = (
    await client.query<{ limit_per_cycle: string | null; used_this_cycle: string; held: string }>(LOCK_MEMBERSHIP, [
      poolId,
      op.account,
    ])
  ).rows[0];
  if (!m) throw new Error(`${op.account} has no membership of ${poolId}`);
  const allocation = Number(pool.allocation);
  const purchased = Number(pool.purchased);
  const poolAvailable = allocation + purchased - Number(pool.held);
  const room =
    m.limit_per_cycle === null ? poolAvailable : Number(m.limit_per_cycle) - Number(m.used_this_cycle) - Number(m.held);
  const share = Math.max(0, Math.min(poolAvailable, room));
  if (op.cost > share) return 'refused';
  const now = Date.now();
  const fromAllocation = Math.min(allocation, op.cost);
  const fromPurchased = op.cost - fromAllocation;
  const moves: [number, number][] = [];
  let left = op.cost;
  for (const g of (await client.query<{ id: string; remaining: string }>(GRANTS, [poolId])).rows) {
    if (left === 0) break;
    const take = Math.min(Number(g.remaining), left);
    if ((await client.query(DRAW, [take, g.id])).rowCount !== 1) throw new Error(`grant ${g.id} would overdraw`);
    moves.push([Number(g.id), -take]);
    left -= take;
  }
  const updated = await client.query(UPDATE_POOL, [poolId, fromAllocation, fromPurchased, op.cost, now]);
  if (updated.rowCount !== 1) throw new Error(`pool ${poolId} would overdraw`);
  const moved = await client.query(MOVE_MEMBERSHIP, [poolId, op.account, op.cost, now]);
  if (moved.rowCount !== 1) throw new Error(`${op.account} would pass its limit`);
  await client.query(TOUCH_MEMBER, [op.account, op.cost, now]);
  const entry = await client.query<{ id: string }>(INSERT, [
    op.account,
    0,
    0,
    0,
    0,
    op.feature,
    op.quantity,
    op.key,
    now,
    Number(member.held),
    '[]',
    poolId,
    null,
    op.cost,
  ]);
  await client.query(INSERT, [
    poolId,
    -op.cost,
    -fromAllocation,
    -fromPurchased,
    allocation + purchased - op.cost,
    op.feature,
    null,
    null,
    now,
    Number(pool.held),
    JSON.stringify(moves),
    null,
    op.account,
    0,
  ]);
  if (op.key !== null) {
    const response = {
      ok: true,
      account: op.account,
      cost: op.cost,
      balance: 0,
      available: Math.max(0, Math.min(poolAvailable - op.cost, room - op.cost)),
      entryId: entry.rows[0]?.id,
      replayed: false,
      pooled: op.cost,
    };
    await client.query(SAVE_KEY, [op.account, op.key, fingerprint, JSON.stringify(response), now]);
  }
  return 'charged';
}
