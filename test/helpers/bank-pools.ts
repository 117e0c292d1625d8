// Shared pools in the "bank" workload (bank-workload.ts). Pools are ordinary accounts that also
// pay for their members: each member has a home pool, some a limit per cycle, some tokens of their
// own. Clients have members deduct (with replays) and hold (reserve, commit, release) through any
// server, the pools spend their own tokens, an operator moves tokens in and out of the pools and
// gives members some, and members leave, rejoin and have their limits changed, one change at a
// time per member, while all of that runs. A member's use is an effect in flight on three figures
// (the member's own balance, its pool's, and the membership's usage), each a range until the
// answer (or, for a hold's split, which no answer says, the database) tells how it was split.
// Reads of members, pools and the members list must lie within those ranges and follow the rules
// (bank-pool-reads.ts); after the run bank-pool-audit.ts checks the memberships, the ledger and
// the events. Nothing here asserts: violations and unexpected answers are collected.
import type pg from 'pg';
import { type AccountBounds, type Effect, eitherNoneOr } from './bank-model.ts';
import { auditPools, type PoolTally } from './bank-pool-audit.ts';
import { MemberModel } from './bank-pool-model.ts';
import { adjustAccount, leavePool, setMemberLimit } from './bank-pool-operator.ts';
import { readMember, readMembers, readPool } from './bank-pool-reads.ts';
import { call, type Json, num } from './server-call.ts';
import { chooseFrom } from './weighted-mix.ts';

export interface BankPoolsOptions {
  /** A connection of the test's own to the database, for what no answer says (a hold's split). */
  oracle: pg.Client;
  pools: readonly string[];
  /** Each pool's balance when the run starts. */
  opening: number;
  /** Each member's home pool, limit per cycle (null: none) and own tokens when the run starts. */
  members: readonly { id: string; pool: string; limit: number | null; own: number }[];
}

/** What the workload lends the pools: its bookkeeping. */
export interface BankPoolsContext {
  /** Feature id → cost per use. */
  costs: Record<string, number>;
  /** Starts tracking an account (nothing in flight on it) with its opening balance. */
  open(account: string, balance: number): AccountBounds;
  count(what: string): void;
  failure(what: string, r: { status: number; body: Json }): void;
  violation(text: string): void;
  totals: { deducted: number; committed: number; adjusted: number };
  openHolds: Map<number, { account: string; amount: number }>;
}

/** The random draws a step may make (the workload's seeded generator). */
export interface Draws {
  rnd: () => number;
  int: (lo: number, hi: number) => number;
}

interface MemberHold {
  id: number;
  member: MemberModel;
  amount: number;
  /** What of `amount` the pool reserved, in its own hold `poolHold`. */
  poolAmount: number;
  poolHold: number | null;
}

interface KeyedUse {
  member: MemberModel;
  key: string;
  feature: string;
  quantity: number;
  entryId: number;
  pooled: number;
}

// How often each pool operation is picked; one that cannot run (nothing to settle, a change
// already in flight) reads a member instead. Until each has run once, the first that can run is
// picked instead, so that even a short run does a bit of everything.
const MIX = [
  ['deduct', 0.3],
  ['replay', 0.03],
  ['reserve', 0.1],
  ['settle', 0.12],
  ['pool-deduct', 0.06],
  ['pool-adjust', 0.06],
  ['gift', 0.03],
  ['leave', 0.02],
  ['limit', 0.04],
  ['read-member', 0.14],
  ['read-pool', 0.05],
  ['read-members', 0.05],
] as const;
type Kind = (typeof MIX)[number][0];

const choose = (roll: number): Kind => chooseFrom(MIX, roll, 'read-member');

const pickFrom = <T>(xs: readonly T[], d: Draws): T => xs[d.int(0, xs.length - 1)] as T;

/** A use of `cost` by a member: from its own tokens, its pool's, or both, and counted in its usage. */
const spending = (cost: number): Effect => eitherNoneOr({ balance: -cost });

export class BankPools {
  private readonly o: BankPoolsOptions;
  readonly members: MemberModel[];
  private ctx: BankPoolsContext | null = null;
  private readonly holds: MemberHold[] = [];
  private readonly keyed: KeyedUse[] = [];
  /** The kinds of operation run so far. */
  private readonly tried = new Set<Kind>();
  /** The balance each pool showed last, for an operator's `expected_balance`. */
  readonly lastBalance = new Map<string, number>();
  /** The pools' and members' figures, opened by `setUp`. */
  private readonly boundsByAccount = new Map<string, AccountBounds>();

  constructor(options: BankPoolsOptions) {
    this.o = options;
    this.members = options.members.map((m) => new MemberModel(m.id, m.pool, m.limit));
  }

  get pools(): readonly string[] {
    return this.o.pools;
  }

  get opening(): number {
    return this.o.opening;
  }

  /** Every account the pools bring: the pools, then their members. */
  get accounts(): string[] {
    return [...this.o.pools, ...this.members.map((m) => m.id)];
  }

  private get c(): BankPoolsContext {
    if (!this.ctx) throw new Error('BankPools.setUp first');
    return this.ctx;
  }

  private bounds(account: string): AccountBounds {
    return this.boundsByAccount.get(account) as AccountBounds;
  }

  /**
   * Before the clients start: opens each pool at the opening balance, makes each member a member
   * (it opens with nothing of its own) and gives it its own tokens. Returns the tokens opened with.
   */
  async setUp(servers: readonly string[], ctx: BankPoolsContext): Promise<number> {
    this.ctx = ctx;
    const server = servers[0] ?? '';
    let opened = 0;
    for (const pool of this.o.pools) {
      const r = await call(server, 'POST', `/api/admin/accounts/${pool}/adjust`, {
        as: 'admin',
        body: { balance: this.o.opening, reason: 'bank pool opening' },
      });
      if (r.status !== 200 || r.body.balance !== this.o.opening) ctx.failure(`open pool ${pool}`, r);
      this.boundsByAccount.set(pool, ctx.open(pool, this.o.opening));
      opened += this.o.opening;
    }
    for (const [i, m] of this.o.members.entries()) {
      const via = servers[i % servers.length] ?? server;
      const joined = await call(via, 'PUT', `/api/admin/accounts/${m.id}/pool`, {
        as: 'admin',
        body: { pool: m.pool, limit_per_cycle: m.limit },
      });
      if (joined.status !== 200) ctx.failure(`${m.id} joins ${m.pool}`, joined);
      if (m.own > 0) {
        const given = await call(via, 'POST', `/api/admin/accounts/${m.id}/adjust`, {
          as: 'admin',
          body: { amount: m.own, reason: 'bank member opening' },
        });
        if (given.status !== 200 || given.body.balance !== m.own) ctx.failure(`open member ${m.id}`, given);
      }
      this.boundsByAccount.set(m.id, ctx.open(m.id, m.own));
      opened += m.own;
    }
    return opened;
  }

  /** Whether `kind` can run now on member `m`. */
  private canRun(kind: Kind, m: MemberModel): boolean {
    if (kind === 'settle') return this.holds.length > 0;
    if (kind === 'replay') return this.keyed.length > 0;
    if (kind === 'leave') return m.inPool && !m.busy;
    return kind !== 'limit' || !m.busy;
  }

  /** One random pool operation by a client. */
  async step(server: string, key: string, d: Draws): Promise<void> {
    const m = pickFrom(this.members, d);
    const untried = MIX.find(([k]) => !this.tried.has(k) && this.canRun(k, m))?.[0];
    const drawn = untried ?? choose(d.rnd());
    const kind = this.canRun(drawn, m) ? drawn : 'read-member';
    this.tried.add(kind);
    switch (kind) {
      case 'deduct':
        return this.deduct(server, m, key, d);
      case 'replay':
        return this.replay(server, pickFrom(this.keyed, d));
      case 'reserve':
        return this.reserve(server, m, key, d);
      case 'settle':
        return this.settle(server, this.holds.splice(d.int(0, this.holds.length - 1), 1)[0] as MemberHold, d);
      case 'pool-deduct':
        return this.poolDeduct(server, pickFrom(this.o.pools, d), key, d);
      case 'pool-adjust':
        return this.poolAdjust(server, pickFrom(this.o.pools, d), key, d);
      case 'gift':
        return this.gift(server, m, key, d);
      case 'leave':
        return this.leave(server, m);
      case 'limit':
        return this.setLimit(server, m, d);
      case 'read-pool': {
        const pool = pickFrom(this.o.pools, d);
        const balance = await readPool(server, pool, this.bounds(pool), this.c);
        if (balance !== null) this.lastBalance.set(pool, balance);
        return;
      }
      case 'read-members': {
        const pool = pickFrom(this.o.pools, d);
        const models = this.members.filter((x) => x.pool === pool);
        return readMembers(server, pool, models, this.c);
      }
      default:
        return readMember(server, m, this.bounds(m.id), this.bounds(m.pool), this.c);
    }
  }

  private async deduct(server: string, m: MemberModel, key: string, d: Draws): Promise<void> {
    const feature = pickFrom(Object.keys(this.c.costs), d);
    const quantity = d.int(1, 3);
    const cost = (this.c.costs[feature] ?? 0) * quantity;
    const window = m.watch();
    const own = this.bounds(m.id).begin(spending(cost));
    const pool = this.bounds(m.pool).begin(spending(cost));
    const usage = m.usage.begin(eitherNoneOr({ balance: cost }));
    const r = await call(server, 'POST', '/api/tokens/deduct', {
      body: { account: m.id, feature, quantity, idempotency_key: key },
    });
    window.close();
    if (r.status === 200 && num(r.body, 'cost') === cost && r.body.replayed === false) {
      // No `pooled` in the answer: the member was in no pool when it was charged.
      const pooled = 'pooled' in r.body ? num(r.body, 'pooled') : 0;
      if (!(pooled >= 0 && pooled <= cost)) return this.c.failure(`deduct ${cost} by ${m.id}: pooled ${pooled}`, r);
      own.end({ balance: -(cost - pooled) });
      pool.end({ balance: -pooled });
      usage.end({ balance: pooled });
      if (pooled > 0 && window.stable() === 'out') this.c.violation(`${m.id} drew ${pooled} from ${m.pool} out of it`);
      m.pooled += pooled;
      this.c.totals.deducted += cost;
      this.keyed.push({ member: m, key, feature, quantity, entryId: num(r.body, 'entry_id'), pooled });
      return this.c.count(pooled > 0 ? 'pool:deduct:pooled' : 'pool:deduct:own');
    }
    if (r.status === 402 && r.body.code === 'insufficient_tokens') {
      for (const op of [own, pool, usage]) op.end({});
      if (num(r.body, 'available') >= cost)
        this.c.violation(`${m.id}: ${cost} refused at available ${r.body.available}`);
      return this.c.count('pool:deduct:refused');
    }
    return this.c.failure(`deduct ${cost} by member ${m.id}`, r);
  }

  /** A keyed use sent again: its first answer, field for field, the pool's part too; nothing charged. */
  private async replay(server: string, use: KeyedUse): Promise<void> {
    const r = await call(server, 'POST', '/api/tokens/deduct', {
      body: { account: use.member.id, feature: use.feature, quantity: use.quantity, idempotency_key: use.key },
    });
    const pooled = 'pooled' in r.body ? num(r.body, 'pooled') : 0;
    const same = num(r.body, 'entry_id') === use.entryId && pooled === use.pooled;
    if (r.status === 200 && r.body.replayed === true && same) return this.c.count('pool:deduct:replayed');
    return this.c.failure(`replay of ${use.key} (entry ${use.entryId}, pooled ${use.pooled})`, r);
  }

  private async reserve(server: string, m: MemberModel, key: string, d: Draws): Promise<void> {
    const amount = d.int(1, 15);
    const window = m.watch();
    const own = this.bounds(m.id).begin(eitherNoneOr({ held: amount }));
    const pool = this.bounds(m.pool).begin(eitherNoneOr({ held: amount }));
    const usage = m.usage.begin(eitherNoneOr({ held: amount }));
    const r = await call(server, 'POST', '/api/tokens/reserve', {
      body: { account: m.id, amount, ttl_seconds: 3600, idempotency_key: key },
    });
    window.close();
    if (r.status === 402 && r.body.code === 'insufficient_tokens') {
      for (const op of [own, pool, usage]) op.end({});
      if (num(r.body, 'available') >= amount) {
        this.c.violation(`${m.id}: a hold of ${amount} refused at available ${r.body.available}`);
      }
      return this.c.count('pool:reserve:refused');
    }
    if (r.status !== 200 || num(r.body, 'amount') !== amount) return this.c.failure(`reserve ${amount} by ${m.id}`, r);
    const hold = { id: num(r.body, 'hold_id'), member: m, amount, ...(await this.splitOf(num(r.body, 'hold_id'))) };
    if (hold.poolAmount > 0 && hold.poolAccount !== m.pool) {
      this.c.violation(`hold ${hold.id} of ${m.id} reserved ${hold.poolAmount} in ${hold.poolAccount}, not ${m.pool}`);
    }
    if (hold.poolAmount > 0 && window.stable() === 'out')
      this.c.violation(`hold ${hold.id}: ${m.id} reserved out of its pool`);
    own.end({ held: amount - hold.poolAmount });
    pool.end({ held: hold.poolAmount });
    usage.end({ held: hold.poolAmount });
    this.holds.push(hold);
    this.c.openHolds.set(hold.id, { account: m.id, amount });
    if (hold.poolHold !== null) this.c.openHolds.set(hold.poolHold, { account: m.pool, amount: hold.poolAmount });
    return this.c.count(hold.poolAmount > 0 ? 'pool:reserve:pooled' : 'pool:reserve:own');
  }

  /** How a member's hold was split: no answer says it, so the database is asked. */
  private async splitOf(id: number): Promise<{ poolAmount: number; poolHold: number | null; poolAccount: string }> {
    const { rows } = await this.o.oracle.query<{
      pool_amount: string;
      pool_hold: string | null;
      pool: string | null;
      pool_hold_amount: string;
    }>(
      `SELECT h.pool_amount, h.pool_hold, p.account_id AS pool,
              CASE WHEN p.id IS NULL THEN 0 ELSE p.amount END AS pool_hold_amount
         FROM holds h LEFT JOIN holds p ON p.id = h.pool_hold WHERE h.id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) throw new Error(`hold ${id} is not in the database`);
    const poolAmount = Number(row.pool_amount);
    if (poolAmount > 0 && row.pool_hold === null) throw new Error(`hold ${id} reserves ${poolAmount} in no pool hold`);
    if (row.pool_hold !== null && Number(row.pool_hold_amount) !== poolAmount) {
      this.c.violation(`hold ${id} reserves ${poolAmount} in pool hold ${row.pool_hold} of ${row.pool_hold_amount}`);
    }
    return { poolAmount, poolHold: row.pool_hold === null ? null : Number(row.pool_hold), poolAccount: row.pool ?? '' };
  }

  /**
   * Commits (at 0 to 5 past the reservation) or releases a member's hold. The split decided at
   * reserve stays: the member's own part first, then the pool's, and beyond the reservation only
   * the member's own available pays. Nobody takes tokens from members and the pool's part is
   * reserved in the pool, so the reservation always pays for itself.
   */
  private async settle(server: string, hold: MemberHold, d: Draws): Promise<void> {
    const m = hold.member;
    const commit = d.rnd() < 0.65;
    const actual = commit ? d.int(0, hold.amount + 5) : 0;
    const ownPart = hold.amount - hold.poolAmount;
    const poolPart = Math.min(Math.max(0, actual - ownPart), hold.poolAmount);
    const own = this.bounds(m.id).begin({
      lo: { balance: -(actual - poolPart), held: -ownPart },
      hi: { balance: 0, held: 0 },
    });
    const pool = this.bounds(m.pool).begin({
      lo: { balance: -poolPart, held: -hold.poolAmount },
      hi: { balance: 0, held: 0 },
    });
    const usage = m.usage.begin({ lo: { balance: 0, held: -hold.poolAmount }, hi: { balance: poolPart, held: 0 } });
    const r = commit
      ? await call(server, 'POST', `/api/tokens/holds/${hold.id}/commit`, { body: { amount: actual } })
      : await call(server, 'POST', `/api/tokens/holds/${hold.id}/release`);
    const charged = num(r.body, 'charged');
    if (r.status !== 200 || num(r.body, 'reserved') !== hold.amount || !(charged >= 0)) {
      return this.c.failure(`${commit ? 'commit' : 'release'} hold ${hold.id} of ${m.id}`, r);
    }
    if (charged < Math.min(actual, hold.amount) || charged > actual) {
      this.c.violation(
        `hold ${hold.id} of ${hold.amount} (${hold.poolAmount} pooled) committed at ${actual}: charged ${charged}`,
      );
    }
    own.end({ balance: -(charged - poolPart), held: -ownPart });
    pool.end({ balance: -poolPart, held: -hold.poolAmount });
    usage.end({ balance: poolPart, held: -hold.poolAmount });
    m.pooled += poolPart;
    this.c.totals.committed += charged;
    this.c.openHolds.delete(hold.id);
    if (hold.poolHold !== null) this.c.openHolds.delete(hold.poolHold);
    return this.c.count(commit ? 'pool:hold:committed' : 'pool:hold:released');
  }

  /** The pool spends its own tokens, beside its members. */
  private async poolDeduct(server: string, pool: string, key: string, d: Draws): Promise<void> {
    const feature = pickFrom(Object.keys(this.c.costs), d);
    const quantity = d.int(1, 2);
    const cost = (this.c.costs[feature] ?? 0) * quantity;
    const op = this.bounds(pool).begin(spending(cost));
    const r = await call(server, 'POST', '/api/tokens/deduct', {
      body: { account: pool, feature, quantity, idempotency_key: key },
    });
    if (r.status === 200 && num(r.body, 'cost') === cost && r.body.replayed === false && !('pooled' in r.body)) {
      op.end({ balance: -cost });
      this.c.totals.deducted += cost;
      return this.c.count('pool:pool-deduct:charged');
    }
    if (r.status === 402 && r.body.code === 'insufficient_tokens') {
      op.end({});
      if (num(r.body, 'available') >= cost)
        this.c.violation(`${pool}: ${cost} refused at available ${r.body.available}`);
      return this.c.count('pool:pool-deduct:refused');
    }
    return this.c.failure(`deduct ${cost} by pool ${pool}`, r);
  }

  /** An operator moves tokens into or out of a pool, half the time expecting the balance last seen. */
  private async poolAdjust(server: string, pool: string, key: string, d: Draws): Promise<void> {
    const amount = d.rnd() < 0.4 ? -d.int(1, 25) : d.int(1, 25);
    const expected = d.rnd() < 0.5 ? this.lastBalance.get(pool) : undefined;
    return adjustAccount(
      this.c,
      { server, account: pool, bounds: this.bounds(pool), amount, key, expected },
      'pool:adjust',
    );
  }

  /** An operator gives a member tokens of its own. */
  private async gift(server: string, m: MemberModel, key: string, d: Draws): Promise<void> {
    const gift = { server, account: m.id, bounds: this.bounds(m.id), amount: d.int(1, 8), key };
    return adjustAccount(this.c, gift, 'pool:gift');
  }

  /** A member leaves its pool: its next operations spend only its own tokens. */
  private leave(server: string, m: MemberModel): Promise<void> {
    return leavePool(this.c, server, m);
  }

  /** A member has its limit changed (null: none, sometimes 0), or rejoins its pool with one. */
  private setLimit(server: string, m: MemberModel, d: Draws): Promise<void> {
    return setMemberLimit(this.c, server, m, d.rnd() < 0.25 ? null : d.int(0, 40));
  }

  /** After the run, with nothing in flight: the memberships, the ledger and the events. */
  finish(server: string): Promise<PoolTally> {
    return auditPools({
      server,
      oracle: this.o.oracle,
      pools: this.o.pools,
      members: this.members,
      boundsOf: (account) => this.bounds(account),
    });
  }
}
