// The "bank" workload's check of its pools after the run (bank-pools.ts), with nothing in flight:
// every membership row holds exactly the usage and holds the acknowledged answers add up to,
// within its limits; each member is in its pool exactly as the last acknowledged change left it,
// and the members list says so; what the members' entries say the pool paid is what the pool's
// entries naming them took and what the answers said (a member's use moves tokens out of the pool,
// never creates or destroys any); a member's balance events follow its own available only, and a
// pool announces each member's limit at most once (one cycle).
import type pg from 'pg';
import { eventsOf } from './bank-events.ts';
import type { AccountBounds } from './bank-model.ts';
import type { MemberModel } from './bank-pool-model.ts';
import { call, type Json } from './server-call.ts';

export interface PoolTally {
  /** Tokens the pools paid for their members, as the answers said. */
  pooled: number;
  problems: string[];
}

export interface PoolAudit {
  server: string;
  oracle: pg.Client;
  pools: readonly string[];
  members: readonly MemberModel[];
  boundsOf: (account: string) => AccountBounds;
}

/** Violations of the pools' rules once the run is over. */
export async function auditPools(a: PoolAudit): Promise<PoolTally> {
  const problems: string[] = [];
  const pooled = a.members.reduce((sum, m) => sum + m.pooled, 0);
  await auditMemberships(a, problems);
  await auditLedger(a, problems);
  await auditEvents(a, problems);
  return { pooled, problems };
}

async function auditMemberships(a: PoolAudit, problems: string[]): Promise<void> {
  const { rows } = await a.oracle.query<Record<string, string | null>>(
    `SELECT m.pool_id, m.member_id, m.limit_per_cycle, m.used_this_cycle, m.held, a.pool_id AS current
       FROM pool_members m JOIN accounts a ON a.id = m.member_id`,
  );
  const pairs = new Set(a.members.map((m) => `${m.pool}/${m.id}`));
  for (const row of rows) {
    if (!pairs.has(`${row.pool_id}/${row.member_id}`))
      problems.push(`a membership no one made: ${JSON.stringify(row)}`);
  }
  for (const m of a.members) {
    const row = rows.find((r) => r.pool_id === m.pool && r.member_id === m.id);
    if (!row) {
      problems.push(`${m.id}: no membership of ${m.pool}`);
      continue;
    }
    const final = m.usage.final();
    const [used, held] = [Number(row.used_this_cycle), Number(row.held)];
    const limit = row.limit_per_cycle === null ? null : Number(row.limit_per_cycle);
    const expected = { used: final.balance, held: final.held, limit: m.currentLimit, pool: m.inPool ? m.pool : null };
    const found = { used, held, limit, pool: row.current };
    if (JSON.stringify(found) !== JSON.stringify(expected)) {
      problems.push(`${m.id}: membership ${JSON.stringify(found)}, acknowledged ${JSON.stringify(expected)}`);
    }
    if (used !== m.pooled) problems.push(`${m.id}: used_this_cycle ${used}, but the answers drew ${m.pooled}`);
    if (used + held > m.allowance) problems.push(`${m.id}: used ${used} + held ${held} past ${m.allowance}`);
  }
  for (const pool of a.pools) {
    const r = await call(a.server, 'GET', `/api/admin/accounts/${pool}/members`, { as: 'admin' });
    const listed = ((r.body.members as Json[] | undefined) ?? []).map((x) => String(x.member)).sort();
    const inPool = a.members
      .filter((m) => m.pool === pool && m.inPool)
      .map((m) => m.id)
      .sort();
    if (r.status !== 200 || JSON.stringify(listed) !== JSON.stringify(inPool)) {
      problems.push(`members of ${pool}: ${r.status} ${JSON.stringify(listed)}, expected ${JSON.stringify(inPool)}`);
    }
  }
}

async function auditLedger(a: PoolAudit, problems: string[]): Promise<void> {
  const { rows } = await a.oracle.query<{ member_id: string; pool_id: string; recorded: string; drawn: string }>(
    `SELECT m.member_id, m.pool_id,
       (SELECT coalesce(sum(e.pooled), 0) FROM ledger_entries e
         WHERE e.account_id = m.member_id AND e.pool_id = m.pool_id) AS recorded,
       (SELECT coalesce(-sum(e.amount), 0) FROM ledger_entries e
         WHERE e.account_id = m.pool_id AND e.member_id = m.member_id) AS drawn
     FROM pool_members m`,
  );
  for (const m of a.members) {
    const row = rows.find((r) => r.member_id === m.id && r.pool_id === m.pool);
    const [recorded, drawn] = [Number(row?.recorded), Number(row?.drawn)];
    if (recorded !== m.pooled || drawn !== m.pooled) {
      problems.push(
        `${m.id}: its entries say ${m.pool} paid ${recorded}, ${m.pool}'s entries naming it took ${drawn}, the answers ${m.pooled}`,
      );
    }
  }
  const { rows: strays } = await a.oracle.query<{ account_id: string; n: string }>(
    `SELECT account_id, count(*) AS n FROM ledger_entries
      WHERE (member_id IS NOT NULL AND account_id <> ALL($1::text[]))
         OR ((pool_id IS NOT NULL OR pooled <> 0) AND account_id <> ALL($2::text[]))
      GROUP BY account_id`,
    [a.pools, a.members.map((m) => m.id)],
  );
  for (const s of strays) problems.push(`${s.account_id}: ${s.n} entries name a pool or member it is not`);
}

async function auditEvents(a: PoolAudit, problems: string[]): Promise<void> {
  for (const pool of a.pools) {
    const reached = (await eventsOf(a.server, pool, problems)).filter((e) => e.type === 'member.limit_reached');
    const members = new Set(a.members.filter((m) => m.pool === pool).map((m) => m.id));
    const seen = new Set<string>();
    for (const e of reached) {
      const who = String(e.data.member);
      if (e.data.pool !== pool || !members.has(who) || typeof e.data.limit !== 'number') {
        problems.push(`${pool}: member.limit_reached #${e.sequence} ${JSON.stringify(e.data)}`);
      }
      if (seen.has(who)) problems.push(`${pool}: ${who}'s limit announced twice in one cycle (#${e.sequence})`);
      seen.add(who);
    }
  }
  // A member opens with nothing of its own: its crossings alternate from "nothing available",
  // judged on its own available (the pool's share never shows in them), ending where it ends.
  for (const m of a.members) {
    const events = await eventsOf(a.server, m.id, problems);
    let enabled = false;
    events.forEach((e, i) => {
      if (e.sequence !== i + 1) problems.push(`${m.id}: event ${i + 1} has sequence ${e.sequence}`);
      if (e.type === 'member.limit_reached') problems.push(`${m.id}: member.limit_reached on the member's stream`);
      if (e.type !== 'balance.depleted' && e.type !== 'balance.recovered') return;
      const expected = enabled ? 'balance.depleted' : 'balance.recovered';
      if (e.type !== expected) problems.push(`${m.id}: ${e.type} #${e.sequence} where ${expected} was due`);
      enabled = e.type === 'balance.recovered';
    });
    const final = a.boundsOf(m.id).final();
    if (final.balance - final.held > 0 !== enabled) {
      problems.push(`${m.id}: own available ${final.balance - final.held} at the end, but its events say otherwise`);
    }
  }
}
