// What an operator does to the pools in the "bank" workload (bank-pools.ts): moves tokens into or
// out of a pool, gives a member tokens of its own, takes a member out of its pool, and lets it
// back in or changes its limit. A membership change's answer shows the membership's usage at the
// moment of the write, which must lie within what the acknowledged answers allow, and sets how far
// its usage may go from then on (lowering a limit below what is already used moves nothing).
import { type AccountBounds, eitherNoneOr } from './bank-model.ts';
import type { MemberModel } from './bank-pool-model.ts';
import type { BankPoolsContext } from './bank-pools.ts';
import { call, type Json, num } from './server-call.ts';

/** An operator's adjustment of `account` by `amount`, expecting `expected` as its balance when given. */
export async function adjustAccount(
  c: BankPoolsContext,
  a: { server: string; account: string; bounds: AccountBounds; amount: number; key: string; expected?: number },
  what: string,
): Promise<void> {
  if (a.amount < 0) a.bounds.removedByOperator -= a.amount;
  const op = a.bounds.begin(eitherNoneOr({ balance: a.amount }));
  const r = await call(a.server, 'POST', `/api/admin/accounts/${a.account}/adjust`, {
    as: 'admin',
    headers: { 'idempotency-key': a.key },
    body: {
      amount: a.amount,
      reason: 'bank pools',
      ...(a.expected === undefined ? {} : { expected_balance: a.expected }),
    },
  });
  if (r.status === 200 && num(r.body, 'delta') === a.amount) {
    op.end({ balance: a.amount });
    c.totals.adjusted += a.amount;
    return c.count(`${what}:applied`);
  }
  if (r.status === 409 && r.body.code === 'balance_changed' && a.expected !== undefined) {
    op.end({});
    return c.count(`${what}:balance-changed`);
  }
  return c.failure(`adjust ${a.account} by ${a.amount}`, r);
}

/** Takes a member out of its pool: its next operations spend only its own tokens. */
export async function leavePool(c: BankPoolsContext, server: string, m: MemberModel): Promise<void> {
  m.begin(undefined);
  const r = await call(server, 'DELETE', `/api/admin/accounts/${m.id}/pool`, { as: 'admin' });
  const left = (r.body.membership ?? {}) as Json;
  if (r.status !== 200 || left.pool !== m.pool || left.member !== m.id) {
    m.end(null);
    return c.failure(`${m.id} leaves ${m.pool}`, r);
  }
  m.end('left');
  return c.count('pool:left');
}

/** Changes a member's limit (null: none), or lets it back into its pool with that limit. */
export async function setMemberLimit(
  c: BankPoolsContext,
  server: string,
  m: MemberModel,
  limit: number | null,
): Promise<void> {
  const joining = !m.inPool;
  const window = m.watch();
  m.begin(limit);
  const pending = m.usage.beginRead();
  const r = await call(server, 'PUT', `/api/admin/accounts/${m.id}/pool`, {
    as: 'admin',
    body: { pool: m.pool, limit_per_cycle: limit },
  });
  const ranges = pending.finish();
  window.close();
  const view = (r.body.membership ?? {}) as Json;
  const [used, held] = [num(view, 'used_this_cycle'), num(view, 'held')];
  if (r.status !== 200 || view.pool !== m.pool || view.limit_per_cycle !== limit || !(used >= 0 && held >= 0)) {
    m.end(null);
    return c.failure(`${m.id} joins ${m.pool} with limit ${limit}`, r);
  }
  const [lo, hi] = ranges.balance;
  if (used < lo || used > hi) c.violation(`${m.id} joined with used ${used} outside [${lo}, ${hi}]`);
  if (held < ranges.held[0] || held > ranges.held[1]) {
    c.violation(`${m.id} joined with held ${held} outside [${ranges.held[0]}, ${ranges.held[1]}]`);
  }
  if (used + held > window.allowance()) c.violation(`${m.id}: used ${used} + held ${held} past its limits`);
  m.end({ limit, usedAndHeld: used + held });
  return c.count(joining ? 'pool:rejoined' : 'pool:limit-changed');
}
