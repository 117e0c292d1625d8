import type { Membership, MembershipMove } from '../core/pool.ts';
import type { PoolTx } from './pool-tx.ts';
import { int, intOrNull, type Row, str } from './rows.ts';
import type { SqlDialect, SqlValue } from './sql-dialect.ts';
import { WriteConflictError } from './write-conflict.ts';

type Query = (sql: string, params: readonly SqlValue[]) => Promise<Row[]>;

export const MEMBERSHIP_COLUMNS =
  'pool_id, member_id, limit_per_cycle, used_this_cycle, held, cycle_start, joined_at, updated_at';

export function toMembership(row: Row): Membership {
  return {
    pool: str(row, 'pool_id'),
    member: str(row, 'member_id'),
    limitPerCycle: intOrNull(row, 'limit_per_cycle'),
    usedThisCycle: int(row, 'used_this_cycle'),
    held: int(row, 'held'),
    cycleStart: int(row, 'cycle_start'),
    joinedAt: int(row, 'joined_at'),
    updatedAt: int(row, 'updated_at'),
  };
}

/** Memberships' statements, written once for both backends (many moves in one statement). */
export class SqlPoolTx implements PoolTx {
  private readonly query: Query;
  private readonly dialect: SqlDialect;

  constructor(query: Query, dialect: SqlDialect) {
    this.query = query;
    this.dialect = dialect;
  }

  async membership(pool: string, member: string): Promise<Membership | undefined> {
    const [row] = await this.query(
      `SELECT ${MEMBERSHIP_COLUMNS} FROM pool_members WHERE pool_id = ? AND member_id = ?`,
      [pool, member],
    );
    return row ? toMembership(row) : undefined;
  }

  async memberships(pairs: readonly { pool: string; member: string }[]): Promise<Membership[]> {
    if (pairs.length === 0) return [];
    // Most batches name one pool: one lookup of its members' keys per pool, each on the primary key.
    const byPool = new Map<string, string[]>();
    for (const p of pairs) byPool.set(p.pool, [...(byPool.get(p.pool) ?? []), p.member]);
    const found: Membership[] = [];
    for (const [pool, members] of byPool) {
      const rows = await this.query(
        `SELECT ${MEMBERSHIP_COLUMNS} FROM pool_members WHERE pool_id = ? AND ${this.dialect.inJsonArray('member_id')}`,
        [pool, JSON.stringify([...new Set(members)])],
      );
      found.push(...rows.map(toMembership));
    }
    return found;
  }

  async saveMembership(m: Membership): Promise<void> {
    await this.query(
      `INSERT INTO pool_members (${MEMBERSHIP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pool_id, member_id) DO UPDATE SET limit_per_cycle = excluded.limit_per_cycle,
         joined_at = excluded.joined_at, updated_at = excluded.updated_at`,
      [m.pool, m.member, m.limitPerCycle, m.usedThisCycle, m.held, m.cycleStart, m.joinedAt, m.updatedAt],
    );
  }

  async moveMemberships(moves: readonly MembershipMove[]): Promise<void> {
    if (moves.length === 0) return;
    const rows = this.dialect.jsonRows([
      ['pool', 'text'],
      ['member', 'text'],
      ['du', 'bigint'],
      ['dh', 'bigint'],
      ['before', 'bigint'],
      ['cycle', 'bigint'],
      ['at', 'bigint'],
    ]);
    // The limit guard, in the write: a move that raises used + held may not take it above the
    // limit; one that lowers it (a release, a new cycle) always applies.
    const moved = await this.query(
      `UPDATE pool_members SET used_this_cycle = used_this_cycle + u.du, held = held + u.dh, cycle_start = u.cycle,
         updated_at = u.at
       FROM ${rows} AS u
       WHERE pool_members.pool_id = u.pool AND pool_members.member_id = u.member
         AND pool_members.cycle_start = u.before
         AND (u.du + u.dh <= 0 OR pool_members.limit_per_cycle IS NULL
              OR pool_members.used_this_cycle + u.du + pool_members.held + u.dh <= pool_members.limit_per_cycle)
       RETURNING pool_members.member_id`,
      [
        JSON.stringify(
          moves.map((m) => [m.pool, m.member, m.usedDelta, m.heldDelta, m.cycleStartBefore, m.cycleStart, m.updatedAt]),
        ),
      ],
    );
    if (moved.length !== moves.length) {
      throw new WriteConflictError(`${moves.length - moved.length} pool memberships changed or would pass their limit`);
    }
  }

  async hasMembers(account: string): Promise<boolean> {
    return (await this.query('SELECT 1 FROM accounts WHERE pool_id = ? LIMIT 1', [account])).length > 0;
  }

  async setPool(member: string, pool: string | null): Promise<void> {
    const rows = await this.query('UPDATE accounts SET pool_id = ? WHERE id = ? RETURNING id', [pool, member]);
    if (rows.length !== 1) throw new Error(`account ${member} does not exist`);
  }
}
