// Reads of pools and their members in the "bank" workload (bank-pools.ts), each judged against
// what the acknowledged answers allow while it was in flight (bank-model.ts) and against the
// rules of issue 18: a member's available is its own plus its share of the pool (the pool's
// available within what its limit leaves), a member out of its pool has no pool, nobody's usage
// passes its limit, and the members list shows exactly the members, with their usage.
import type { AccountBounds, Range } from './bank-model.ts';
import type { MemberModel, MembershipWindow } from './bank-pool-model.ts';
import { call, type Json, num } from './server-call.ts';

/** Where a read reports what it found. */
export interface ReadContext {
  count(what: string): void;
  failure(what: string, r: { status: number; body: Json }): void;
  violation(text: string): void;
}

const show = ([lo, hi]: Range) => `[${lo}, ${hi}]`;
const within = (value: number, [lo, hi]: Range) => value >= lo && value <= hi;

/** What the member may take from the pool: the pool's available within what its limit leaves. */
function share(poolAvailable: number, remaining: number | null): number {
  return Math.max(0, remaining === null ? poolAvailable : Math.min(poolAvailable, remaining));
}

/** The checks every balance answer must pass, whoever's it is. */
function checkBalanceParts(body: Json, expect: (ok: boolean, what: string) => void): void {
  const balance = num(body, 'balance');
  const parts = num(body, 'allocation') + num(body, 'purchased') + num(body, 'promotional') - num(body, 'debt');
  expect(balance === parts, 'balance ≠ allocation + purchased + promotional − debt');
  expect(num(body, 'held') >= 0, 'held below zero');
  expect(body.features_disabled === num(body, 'available') <= 0, 'features_disabled disagrees with available');
}

/** A pool's balance, as any account's; returns its balance (null when the read failed). */
export async function readPool(
  server: string,
  pool: string,
  bounds: AccountBounds,
  ctx: ReadContext,
): Promise<number | null> {
  const pending = bounds.beginRead();
  const r = await call(server, 'GET', `/api/tokens/balance?account=${pool}`);
  const ranges = pending.finish();
  if (r.status !== 200) {
    ctx.failure(`read pool ${pool}`, r);
    return null;
  }
  ctx.count('pool:read-pool');
  const [balance, available, held] = [num(r.body, 'balance'), num(r.body, 'available'), num(r.body, 'held')];
  const expect = (ok: boolean, what: string) =>
    ok || ctx.violation(`${what}; pool ${pool} on ${server}: balance ${balance}, available ${available}, held ${held}`);
  checkBalanceParts(r.body, expect);
  expect(available === balance - held, 'available ≠ balance − held');
  expect(r.body.pool === null, 'a pool shows a pool of its own');
  expect(available >= -bounds.removedByOperator, 'available below zero beyond what operators removed');
  expect(within(balance, ranges.balance), `balance outside ${show(ranges.balance)}`);
  expect(within(held, ranges.held), `held outside ${show(ranges.held)}`);
  return balance;
}

/**
 * A member's balance: its own figures within their ranges and never below zero (nobody takes
 * from members), `pool` present exactly while it is a member, and then its available exactly
 * its own plus its share as the answer's own pool figures give it, those figures within their
 * ranges, and its usage within what its limits allow.
 */
export async function readMember(
  server: string,
  m: MemberModel,
  own: AccountBounds,
  pool: AccountBounds,
  ctx: ReadContext,
): Promise<void> {
  const window = m.watch();
  const [ownRead, poolRead, usageRead] = [own.beginRead(), pool.beginRead(), m.usage.beginRead()];
  const r = await call(server, 'GET', `/api/tokens/balance?account=${m.id}`);
  const [ownRanges, poolRanges, usageRanges] = [ownRead.finish(), poolRead.finish(), usageRead.finish()];
  window.close();
  if (r.status !== 200) return ctx.failure(`read member ${m.id}`, r);
  ctx.count('pool:read-member');
  const [balance, available, held] = [num(r.body, 'balance'), num(r.body, 'available'), num(r.body, 'held')];
  const standing = r.body.pool as Json | null;
  const seen = `${m.id} on ${server}: balance ${balance}, available ${available}, held ${held}, pool ${JSON.stringify(standing)}`;
  const expect = (ok: boolean, what: string) => ok || ctx.violation(`${what}; ${seen}`);
  checkBalanceParts(r.body, expect);
  expect(balance - held >= 0, 'its own available below zero');
  expect(within(balance, ownRanges.balance), `balance outside ${show(ownRanges.balance)}`);
  expect(within(held, ownRanges.held), `held outside ${show(ownRanges.held)}`);
  const stable = window.stable();
  expect(stable !== 'in' || standing !== null, 'a member shows no pool');
  expect(stable !== 'out' || standing === null, 'a member that left shows its pool');
  if (standing === null) {
    expect(available === balance - held, 'available ≠ balance − held out of a pool');
    return;
  }
  const poolAvailable = num(standing, 'available');
  const [used, limit] = [num(standing, 'used_this_cycle'), standing.limit_per_cycle as number | null];
  const remaining = standing.remaining_this_cycle as number | null;
  expect(standing.id === m.pool, `its pool is ${m.pool}`);
  expect(available === balance - held + share(poolAvailable, remaining), 'available ≠ own available + share');
  const [[blo, bhi], [hlo, hhi]] = [poolRanges.balance, poolRanges.held];
  expect(within(poolAvailable, [blo - hhi, bhi - hlo]), `pool available outside [${blo - hhi}, ${bhi - hlo}]`);
  expect(within(used, usageRanges.balance), `used_this_cycle outside ${show(usageRanges.balance)}`);
  expect(window.limits().includes(limit), `limit ${limit} is none it had (${window.limits().join(', ')})`);
  expect(used <= window.allowance(), `used_this_cycle past its limits (${window.allowance()})`);
  if (limit === null) expect(remaining === null, 'remaining_this_cycle without a limit');
  else {
    // remaining = limit − used − what its holds reserve in the pool (not in the answer).
    const [, heldMost] = usageRanges.held;
    expect(
      remaining !== null && remaining <= Math.max(0, limit - used) && remaining >= Math.max(0, limit - used - heldMost),
      `remaining_this_cycle outside [${Math.max(0, limit - used - heldMost)}, ${Math.max(0, limit - used)}]`,
    );
  }
}

/** A pool's members list: exactly its members, each one's usage within its range and its limits. */
export async function readMembers(
  server: string,
  pool: string,
  models: readonly MemberModel[],
  ctx: ReadContext,
): Promise<void> {
  const windows = new Map<string, MembershipWindow>(models.map((m) => [m.id, m.watch()]));
  const pending = new Map(models.map((m) => [m.id, m.usage.beginRead()]));
  const r = await call(server, 'GET', `/api/admin/accounts/${pool}/members`, { as: 'admin' });
  const ranges = new Map([...pending].map(([id, p]) => [id, p.finish()]));
  for (const w of windows.values()) w.close();
  if (r.status !== 200 || !Array.isArray(r.body.members)) return ctx.failure(`members of ${pool}`, r);
  ctx.count('pool:read-members');
  const rows = r.body.members as Json[];
  for (const m of models) {
    const window = windows.get(m.id) as MembershipWindow;
    const row = rows.find((x) => x.member === m.id);
    const stable = window.stable();
    if (stable === 'in' && !row) ctx.violation(`members of ${pool} on ${server} leave out ${m.id}`);
    if (stable === 'out' && row) ctx.violation(`members of ${pool} on ${server} list ${m.id}, which left`);
    if (!row) continue;
    const [used, held, limit] = [num(row, 'used_this_cycle'), num(row, 'held'), row.limit_per_cycle as number | null];
    const range = ranges.get(m.id) as { balance: Range; held: Range };
    const seen = `${m.id} in the members of ${pool} on ${server}: ${JSON.stringify(row)}`;
    const expect = (ok: boolean, what: string) => ok || ctx.violation(`${what}; ${seen}`);
    expect(row.pool === pool, 'another pool');
    expect(within(used, range.balance), `used_this_cycle outside ${show(range.balance)}`);
    expect(within(held, range.held), `held outside ${show(range.held)}`);
    expect(window.limits().includes(limit), `limit ${limit} is none it had (${window.limits().join(', ')})`);
    expect(used + held <= window.allowance(), `used + held past its limits (${window.allowance()})`);
    expect(
      row.remaining_this_cycle === (limit === null ? null : Math.max(0, limit - used - held)),
      'remaining_this_cycle ≠ limit − used − held',
    );
  }
  const known = new Set(models.map((m) => m.id));
  for (const row of rows) {
    if (!known.has(String(row.member))) ctx.violation(`members of ${pool} list ${String(row.member)}`);
  }
}
