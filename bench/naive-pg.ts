// The naive baseline on PostgreSQL: one transaction per deduction (BEGIN; SELECT ... FOR UPDATE;
// UPDATE the account; INSERT the ledger row; COMMIT) on tokenmeter's own schema, through a
// node-postgres pool used as the store uses it (one checked-out client per transaction). A pool
// member's deduction takes the pool's path (naive-pooled-pg.ts) in the same transaction.
import pg from 'pg';
import { naivePooledPg } from './naive-pooled-pg.ts';
import type { Outcome } from './tally.ts';
import type { Op } from './workloads.ts';

const LOCK = 'SELECT allocation, purchased, held, pool_id FROM accounts WHERE id = $1 FOR UPDATE';
const FIND_KEY =
  "SELECT fingerprint, response FROM idempotency_keys WHERE account_id = $1 AND operation = 'deduct' AND key = $2";
const UPDATE = `UPDATE accounts SET allocation = allocation - $2, purchased = purchased - $3,
  used_this_cycle = used_this_cycle + $4, updated_at = $5, version = version + 1
  WHERE id = $1 AND allocation + purchased - held >= $4`;
const INSERT = `INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after,
  feature, quantity, idempotency_key, at, held_after, grant_moves)
  VALUES ($1, 'debit', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`;
// The bench's accounts hold an included and a paid grant: the included one is spent first.
const GRANTS = `SELECT id, remaining FROM grants WHERE account_id = $1 AND status = 'active' AND remaining > 0
  ORDER BY category = 'paid', id`;
const DRAW = 'UPDATE grants SET remaining = remaining - $1 WHERE id = $2 AND remaining >= $1';
const SAVE_KEY = `INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at)
  VALUES ($1, 'deduct', $2, $3, $4, $5)`;

export function naivePg(url: string, poolSize: number) {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', () => {});

  const deduct = async (op: Op): Promise<Outcome> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const row = (
        await client.query<{ allocation: string; purchased: string; held: string; pool_id: string | null }>(LOCK, [
          op.account,
        ])
      ).rows[0];
      if (!row) throw new Error(`no account ${op.account}`);
      const fingerprint = `${op.feature}x${op.quantity}`;
      if (op.key !== null) {
        const prior = (await client.query<{ fingerprint: string; response: string }>(FIND_KEY, [op.account, op.key]))
          .rows[0];
        if (prior) {
          await client.query('COMMIT');
          if (prior.fingerprint !== fingerprint) throw new Error(`idempotency conflict on ${op.key}`);
          JSON.parse(prior.response);
          return 'replayed';
        }
      }
      if (row.pool_id !== null) {
        const outcome = await naivePooledPg(client, op, { ...row, pool_id: row.pool_id }, fingerprint);
        await client.query('COMMIT');
        return outcome;
      }
      const allocation = Number(row.allocation);
      const purchased = Number(row.purchased);
      if (op.cost > allocation + purchased - Number(row.held)) {
        await client.query('COMMIT');
        return 'refused';
      }
      const fromAllocation = Math.min(allocation, op.cost);
      const fromPurchased = op.cost - fromAllocation;
      const now = Date.now();
      const updated = await client.query(UPDATE, [op.account, fromAllocation, fromPurchased, op.cost, now]);
      if (updated.rowCount !== 1) throw new Error(`account ${op.account} would overdraw`);
      const moves: [number, number][] = [];
      let left = op.cost;
      for (const g of (await client.query<{ id: string; remaining: string }>(GRANTS, [op.account])).rows) {
        if (left === 0) break;
        const take = Math.min(Number(g.remaining), left);
        const drawn = await client.query(DRAW, [take, g.id]);
        if (drawn.rowCount !== 1) throw new Error(`grant ${g.id} would overdraw`);
        moves.push([Number(g.id), -take]);
        left -= take;
      }
      const balance = allocation + purchased - op.cost;
      const entry = await client.query<{ id: string }>(INSERT, [
        op.account,
        -op.cost,
        -fromAllocation,
        -fromPurchased,
        balance,
        op.feature,
        op.quantity,
        op.key,
        now,
        Number(row.held),
        JSON.stringify(moves),
      ]);
      if (op.key !== null) {
        const response = {
          ok: true,
          account: op.account,
          cost: op.cost,
          balance,
          entryId: entry.rows[0]?.id,
          replayed: false,
        };
        await client.query(SAVE_KEY, [op.account, op.key, fingerprint, JSON.stringify(response), now]);
      }
      await client.query('COMMIT');
      return 'charged';
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  };

  return { deduct, close: () => pool.end() };
}
