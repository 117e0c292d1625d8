// The naive baseline on SQLite: one transaction per deduction, as the seed app and most billing
// code do it (lock, read, update the account and the grants it draws from, insert the ledger row,
// commit), on tokenmeter's own schema and database file, through its own node:sqlite connection.
// A pool member's deduction takes the pool's path (naive-pooled-sqlite.ts) in the same transaction.
import { DatabaseSync } from 'node:sqlite';
import { naivePooledSqlite } from './naive-pooled-sqlite.ts';
import type { Outcome } from './tally.ts';
import type { Op } from './workloads.ts';

export interface NaiveSqliteOptions {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
}

export function naiveSqlite(options: NaiveSqliteOptions) {
  const db = new DatabaseSync(options.path, { timeout: 15_000 });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${options.synchronous}`);
  db.exec('PRAGMA foreign_keys = ON');
  const lock = db.prepare('SELECT allocation, purchased, held, pool_id FROM accounts WHERE id = ?');
  const findKey = db.prepare(
    "SELECT fingerprint, response FROM idempotency_keys WHERE account_id = ? AND operation = 'deduct' AND key = ?",
  );
  const update = db.prepare(`UPDATE accounts SET allocation = allocation - ?, purchased = purchased - ?,
    used_this_cycle = used_this_cycle + ?, updated_at = ?, version = version + 1
    WHERE id = ? AND allocation + purchased - held >= ?`);
  const insert = db.prepare(`INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta,
    balance_after, feature, quantity, idempotency_key, at, held_after, grant_moves)
    VALUES (?, 'debit', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`);
  // The bench's accounts hold an included and a paid grant: the included one is spent first.
  const grants = db.prepare(`SELECT id, category, remaining FROM grants
    WHERE account_id = ? AND status = 'active' AND remaining > 0 ORDER BY category = 'paid', id`);
  const draw = db.prepare('UPDATE grants SET remaining = remaining - ? WHERE id = ? AND remaining >= ?');
  const saveKey =
    db.prepare(`INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at)
    VALUES (?, 'deduct', ?, ?, ?, ?)`);
  const pooled = naivePooledSqlite(db);

  const deductNow = (op: Op): Outcome => {
    // BEGIN IMMEDIATE takes the write lock first: the row read below cannot change under us.
    db.exec('BEGIN IMMEDIATE');
    try {
      const row = lock.get(op.account) as
        | { allocation: number; purchased: number; held: number; pool_id: string | null }
        | undefined;
      if (!row) throw new Error(`no account ${op.account}`);
      const fingerprint = `${op.feature}x${op.quantity}`;
      if (op.key !== null) {
        const prior = findKey.get(op.account, op.key) as { fingerprint: string; response: string } | undefined;
        if (prior) {
          db.exec('COMMIT');
          if (prior.fingerprint !== fingerprint) throw new Error(`idempotency conflict on ${op.key}`);
          JSON.parse(prior.response);
          return 'replayed';
        }
      }
      if (row.pool_id !== null) {
        const outcome = pooled(op, { ...row, pool_id: row.pool_id }, fingerprint);
        db.exec('COMMIT');
        return outcome;
      }
      const available = row.allocation + row.purchased - row.held;
      if (op.cost > available) {
        db.exec('COMMIT');
        return 'refused';
      }
      const fromAllocation = Math.min(row.allocation, op.cost);
      const fromPurchased = op.cost - fromAllocation;
      const now = Date.now();
      const moves: [number, number][] = [];
      let left = op.cost;
      for (const g of grants.all(op.account) as { id: number; remaining: number }[]) {
        if (left === 0) break;
        const take = Math.min(g.remaining, left);
        if (draw.run(take, g.id, take).changes !== 1) throw new Error(`grant ${g.id} would overdraw`);
        moves.push([g.id, -take]);
        left -= take;
      }
      if (update.run(fromAllocation, fromPurchased, op.cost, now, op.account, op.cost).changes !== 1) {
        throw new Error(`account ${op.account} would overdraw`);
      }
      const balance = row.allocation + row.purchased - op.cost;
      const entry = insert.get(
        op.account,
        -op.cost,
        -fromAllocation,
        -fromPurchased,
        balance,
        op.feature,
        op.quantity,
        op.key,
        now,
        row.held,
        JSON.stringify(moves),
      ) as { id: number };
      if (op.key !== null) {
        const response = { ok: true, account: op.account, cost: op.cost, balance, entryId: entry.id, replayed: false };
        saveKey.run(op.account, op.key, fingerprint, JSON.stringify(response), now);
      }
      db.exec('COMMIT');
      return 'charged';
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  };

  return {
    deduct: async (op: Op): Promise<Outcome> => deductNow(op),
    close: async () => db.close(),
  };
}
