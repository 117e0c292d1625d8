// The benchmark's workloads: a seeded stream of deductions with a model of exactly what the
// ledger must accept. The stream is built so that the outcome does not depend on the order in
// which concurrent deductions commit, only on which ones were issued:
//   - a regular account holds more than every deduction the stream could ever send it, so
//     each of its deductions is accepted (once per idempotency key);
//   - a "dry" account holds a few tokens and is only charged 1 token at a time, so exactly
//     min(balance, distinct charges) are accepted whatever the order;
//   - a "too big" deduction costs more than any account ever holds, so it is always refused;
//   - a repeat reuses a recent idempotency key with the same feature and quantity: it is
//     replayed when its twin was charged, never charged twice;
//   - a pool member holds no tokens of its own and its pool holds more than every deduction the
//     stream could send all its members, so each member's deduction is accepted and paid in full
//     by the pool (an entry on the member and one on the pool, the membership's usage moved).
import { Random, Zipf } from './random.ts';

export type WorkloadName = 'hot' | 'pool' | 'uniform' | 'zipf' | 'accounts200';

export const WORKLOAD_LABELS: Record<WorkloadName, string> = {
  hot: 'one hot account',
  pool: 'one pool, 100 members',
  uniform: '10,000 accounts, uniform',
  zipf: '10,000 accounts, Zipf (s=0.99)',
  accounts200: '200 accounts, uniform',
};

export type OpClass = 'regular' | 'dry' | 'too_big';

/** One deduction request. */
export interface Op {
  account: string;
  feature: string;
  quantity: number;
  cost: number;
  key: string | null;
  cls: OpClass;
  /** Reuses the key of an earlier op (same account, feature and quantity). */
  repeat: boolean;
}

export interface SeedAccount {
  account: string;
  balance: number;
  /** Opened by joining this pool, with this limit per pool cycle (null: none); `balance` is then 0. */
  joins?: { pool: string; limitPerCycle: number | null };
}

const ACCOUNTS = 10_000;
/** The pool workload's pool, whose members take every deduction. */
const POOL_ACCOUNT = 'pool';
const POOL_MEMBERS = 100;

/** How many accounts a workload spreads its deductions over (the pool's: its members). */
function accountCount(workload: WorkloadName): number {
  if (workload === 'hot') return 1;
  if (workload === 'pool') return POOL_MEMBERS;
  return workload === 'accounts200' ? 200 : ACCOUNTS;
}
const REGULAR_BALANCE = 4_000_000;
/**
 * Each member's limit: the pool's whole opening balance, so it never binds (the pool runs out
 * first) while every write still checks it, as a limited membership's would.
 */
const POOL_MEMBER_LIMIT = REGULAR_BALANCE;
const DRY_BALANCE = 1;
/** Regular ops cost at most 2, so even this many on one account stay within its balance. */
export const MAX_OPS = 1_900_000;
/** Costs 5 × 1,000,000 = 5,000,000 tokens: more than any account ever holds. */
const TOO_BIG = { feature: 'business_collector', quantity: 1_000_000 };
const SHARE_TOO_BIG = 0.02;
const SHARE_REPEAT = 0.03;
const SHARE_UNKEYED = 0.2;

/** Feature costs as the catalog prices them (checked against the real catalog by the caller). */
export const FEATURE_COSTS: Record<string, number> = {
  outbound_call_single: 1,
  crm_ai_agent: 2,
  business_collector: 5,
};

function isDry(workload: WorkloadName, index: number): boolean {
  if (workload === 'hot' || workload === 'pool') return false;
  // Zipf: never among the 100 hottest ranks, so the dry accounts stay a few percent of the load.
  if (workload === 'zipf' && index < 100) return false;
  return index % 50 === 7;
}

const NAME_PREFIX: Record<WorkloadName, string> = { hot: 'hot', pool: 'pm', uniform: 'u', zipf: 'z', accounts200: 'a' };

function accountName(workload: WorkloadName, index: number): string {
  return workload === 'hot' ? 'hot' : `${NAME_PREFIX[workload]}-${index}`;
}

/** The accounts a workload needs, with their opening balances (a pool before its members). */
export function seedAccounts(workload: WorkloadName): SeedAccount[] {
  const n = accountCount(workload);
  if (workload === 'pool') {
    const joins = { pool: POOL_ACCOUNT, limitPerCycle: POOL_MEMBER_LIMIT };
    return [
      { account: POOL_ACCOUNT, balance: REGULAR_BALANCE },
      ...Array.from({ length: n }, (_, i) => ({ account: accountName(workload, i), balance: 0, joins })),
    ];
  }
  return Array.from({ length: n }, (_, i) => ({
    account: accountName(workload, i),
    balance: isDry(workload, i) ? DRY_BALANCE : REGULAR_BALANCE,
  }));
}

interface AccountModel {
  dry: boolean;
  initial: number;
  /** The pool that pays this member's charges (null: the account pays its own). */
  pool: string | null;
  /** Distinct charges sent: unkeyed ops and first uses of a key. */
  units: number;
  /** Their total cost. */
  cost: number;
}

/** What the ledger must have done with the ops issued so far. */
export class Expectation {
  private readonly accounts = new Map<string, AccountModel>();
  issued = 0;
  tooBig = 0;
  regularUnits = 0;
  regularRepeats = 0;
  dryOps = 0;
  dryRepeats = 0;
  /** Charges by pool members: each also writes a debit on the pool. */
  pooledUnits = 0;

  constructor(seed: readonly SeedAccount[], dry: (account: string) => boolean) {
    for (const a of seed) {
      const pool = a.joins?.pool ?? null;
      this.accounts.set(a.account, { dry: dry(a.account), initial: a.balance, pool, units: 0, cost: 0 });
    }
  }

  note(op: Op): void {
    this.issued++;
    if (op.cls === 'too_big') {
      this.tooBig++;
      return;
    }
    const model = this.accounts.get(op.account);
    if (!model) throw new Error(`bench: op on unseeded account ${op.account}`);
    if (op.cls === 'dry') {
      this.dryOps++;
      if (op.repeat) this.dryRepeats++;
    } else if (op.repeat) this.regularRepeats++;
    else this.regularUnits++;
    if (op.repeat) return;
    model.units++;
    if (model.pool === null) {
      model.cost += op.cost;
      return;
    }
    // A member holds nothing of its own: the pool pays all of it.
    const payer = this.accounts.get(model.pool);
    if (!payer) throw new Error(`bench: ${op.account}'s pool ${model.pool} is not seeded`);
    payer.cost += op.cost;
    this.pooledUnits++;
  }

  /** Deductions that must have been charged (not replayed): exact. */
  dryCharged(): number {
    let n = 0;
    for (const m of this.accounts.values()) if (m.dry) n += Math.min(m.initial, m.units);
    return n;
  }

  charged(): number {
    return this.regularUnits + this.dryCharged();
  }

  /** Debit entries the ledger must hold: one per charge, and a second on the pool for a member's. */
  debits(): number {
    return this.charged() + this.pooledUnits;
  }

  /** Every account's balance as it must be now. */
  balances(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, m] of this.accounts) {
      out.set(id, m.dry ? m.initial - Math.min(m.initial, m.units) : m.initial - m.cost);
    }
    return out;
  }
}

/** A seeded, lazily drawn stream of ops for one workload, with its expectation. */
export class WorkloadStream {
  readonly workload: WorkloadName;
  readonly seed: SeedAccount[];
  readonly expectation: Expectation;
  private readonly random: Random;
  private readonly zipf: Zipf | null;
  private readonly recent: Op[] = [];
  private readonly dry: Set<string>;
  private readonly keyPrefix: string;
  private keys = 0;

  constructor(workload: WorkloadName, seed: number, keyPrefix = 'k') {
    this.workload = workload;
    this.seed = seedAccounts(workload);
    this.random = new Random(seed);
    this.zipf = workload === 'zipf' ? new Zipf(ACCOUNTS, 0.99) : null;
    this.keyPrefix = keyPrefix;
    const n = accountCount(workload);
    this.dry = new Set(
      Array.from({ length: n }, (_, i) => i)
        .filter((i) => isDry(workload, i))
        .map((i) => accountName(workload, i)),
    );
    this.expectation = new Expectation(this.seed, (a) => this.dry.has(a));
  }

  /** The next op, already counted in the expectation; undefined past MAX_OPS. */
  next(): Op | undefined {
    if (this.expectation.issued >= MAX_OPS) return undefined;
    const op = this.draw();
    this.expectation.note(op);
    return op;
  }

  private draw(): Op {
    const u = this.random.next();
    if (u < SHARE_TOO_BIG) {
      return {
        account: this.pickAccount(),
        ...TOO_BIG,
        cost: this.cost(TOO_BIG.feature) * TOO_BIG.quantity,
        key: null,
        cls: 'too_big',
        repeat: false,
      };
    }
    if (u < SHARE_TOO_BIG + SHARE_REPEAT && this.recent.length > 0) {
      const twin = this.recent[this.random.below(this.recent.length)];
      if (twin) return { ...twin, repeat: true };
    }
    const account = this.pickAccount();
    const cls: OpClass = this.dry.has(account) ? 'dry' : 'regular';
    const feature = cls === 'dry' || this.random.next() < 0.7 ? 'outbound_call_single' : 'crm_ai_agent';
    const keyed = u >= SHARE_TOO_BIG + SHARE_REPEAT + SHARE_UNKEYED;
    const op: Op = {
      account,
      feature,
      quantity: 1,
      cost: this.cost(feature),
      key: keyed ? `${this.keyPrefix}-${this.keys++}` : null,
      cls,
      repeat: false,
    };
    if (keyed) {
      // Recent keys, so a repeat often races its twin still in flight (or in the same batch).
      if (this.recent.length < 4096) this.recent.push(op);
      else this.recent[this.random.below(4096)] = op;
    }
    return op;
  }

  private pickAccount(): string {
    if (this.workload === 'hot') return 'hot';
    const index = this.zipf ? this.zipf.draw(this.random) : this.random.below(accountCount(this.workload));
    return accountName(this.workload, index);
  }

  private cost(feature: string): number {
    const cost = FEATURE_COSTS[feature];
    if (cost === undefined) throw new Error(`bench: no cost for ${feature}`);
    return cost;
  }
}
