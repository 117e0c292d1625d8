import { LIVE_GRANT } from './rows.ts';

/**
 * Each account's stored figures beside what its ledger, grants and holds say (one row an
 * account; read by `figureDrift`). The same SQL on both backends.
 */
export const FIGURES_SQL = `
SELECT a.id, a.allocation, a.purchased, a.promotional, a.debt, a.held,
  coalesce(e.allocation, 0) AS ledger_allocation, coalesce(e.purchased, 0) AS ledger_purchased,
  coalesce(e.promotional, 0) AS ledger_promotional, coalesce(e.debt, 0) AS ledger_debt,
  coalesce(g.included, 0) AS grants_included, coalesce(g.paid, 0) AS grants_paid,
  coalesce(g.promotional, 0) AS grants_promotional,
  coalesce(h.held, 0) AS holds_held
FROM accounts a
LEFT JOIN (SELECT account_id, sum(allocation_delta) AS allocation, sum(purchased_delta) AS purchased,
             sum(promotional_delta) AS promotional, sum(debt_delta) AS debt
           FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id
LEFT JOIN (SELECT account_id,
             sum(CASE WHEN category = 'included' THEN remaining ELSE 0 END) AS included,
             sum(CASE WHEN category = 'paid' THEN remaining ELSE 0 END) AS paid,
             sum(CASE WHEN category = 'promotional' THEN remaining ELSE 0 END) AS promotional
           FROM grants WHERE status = 'active' GROUP BY account_id) g ON g.account_id = a.id
LEFT JOIN (SELECT account_id, sum(amount - pool_amount) AS held FROM holds WHERE status = 'active'
           GROUP BY account_id) h ON h.account_id = a.id`;

/**
 * Each pool membership's stored usage beside the pool's entries naming the member in the cycle
 * the row counts, and its held beside the pool's active holds for the member (rows read by
 * `membershipDrift`; only those that disagree).
 */
export const MEMBERSHIPS_SQL = `
SELECT * FROM (
  SELECT m.pool_id, m.member_id, m.used_this_cycle, m.held,
    coalesce((SELECT -sum(e.amount) FROM ledger_entries e
              WHERE e.account_id = m.pool_id AND e.member_id = m.member_id AND e.at >= m.cycle_start), 0) AS ledger_used,
    coalesce((SELECT sum(h.amount) FROM holds h
              WHERE h.account_id = m.pool_id AND h.member_id = m.member_id AND h.status = 'active'), 0) AS holds_held
  FROM pool_members m) x
WHERE used_this_cycle <> ledger_used OR held <> holds_held
ORDER BY member_id, pool_id`;

/** Grants whose remaining is not the sum of their moves (rows: id, account_id, remaining, moved). */
export function grantMovesSql(backend: 'sqlite' | 'postgres'): string {
  const moves =
    backend === 'sqlite'
      ? `SELECT CAST(j.value ->> 0 AS INTEGER) AS grant_id, sum(CAST(j.value ->> 1 AS INTEGER)) AS moved
         FROM ledger_entries e, json_each(e.grant_moves) j WHERE e.grant_moves <> '[]' GROUP BY 1`
      : `SELECT (m ->> 0)::bigint AS grant_id, sum((m ->> 1)::bigint) AS moved
         FROM ledger_entries e, json_array_elements(e.grant_moves::json) m WHERE e.grant_moves <> '[]' GROUP BY 1`;
  return `SELECT g.id, g.account_id, g.remaining, coalesce(m.moved, 0) AS moved
FROM grants g LEFT JOIN (${moves}) m ON m.grant_id = g.id
WHERE g.remaining <> coalesce(m.moved, 0) ORDER BY g.id`;
}

/** Live grants of one account, oldest first (reads attach them to the account). */
export const LIVE_GRANTS_OF = `SELECT * FROM grants WHERE account_id = ? AND ${LIVE_GRANT} ORDER BY id`;
