// One pool membership as the "bank" workload knows it (bank-pools.ts): whether the member is in
// its pool as far as acknowledged answers say, its limit, and the most its usage may reach. The
// membership's figures are tracked like an account's (bank-model.ts): `usage.balance` stands for
// `used_this_cycle`, `usage.held` for what its holds reserve in the pool. Each member has one
// home pool; it leaves and rejoins that pool and has its limit changed, one change at a time.
import { AccountBounds } from './bank-model.ts';

/** A membership whose allowance is unbounded (no limit). */
const UNBOUNDED = Number.POSITIVE_INFINITY;

/** What a read or an operation may have seen of a membership while it was in flight. */
export interface MembershipWindow {
  /** 'in' or 'out' when the membership was the same and not changing the whole time; else null. */
  stable(): 'in' | 'out' | null;
  /** Every limit the membership had at some point in the window. */
  limits(): (number | null)[];
  /** The most `used + held` could be anywhere in the window. */
  allowance(): number;
  /** Call when the window closes. */
  close(): void;
}

interface Watcher {
  limits: Set<number | null>;
  allowance: number;
  changed: boolean;
}

export class MemberModel {
  readonly id: string;
  readonly pool: string;
  readonly usage = new AccountBounds({ balance: 0, held: 0 });
  /** The pool's part of every acknowledged use, as the answers (and holds' splits) say. */
  pooled = 0;
  private member = true;
  private changing = false;
  /** The limit a change in flight sets (undefined: none in flight, or it is a leave). */
  private pendingLimit: number | null | undefined;
  private limit: number | null;
  /**
   * The most `used + held` may be: the limit, or what the membership already had when its limit
   * was lowered below that (no write raises usage past the limit, but lowering it moves nothing).
   */
  private allowed: number;
  private readonly watchers = new Set<Watcher>();

  constructor(id: string, pool: string, limit: number | null) {
    this.id = id;
    this.pool = pool;
    this.limit = limit;
    this.allowed = limit ?? UNBOUNDED;
  }

  get inPool(): boolean {
    return this.member;
  }

  get busy(): boolean {
    return this.changing;
  }

  get currentLimit(): number | null {
    return this.limit;
  }

  get allowance(): number {
    return this.allowed;
  }

  /** Opens a window: what is seen in it must fit some moment of it. */
  watch(): MembershipWindow {
    // A change in flight may already be in the database: its limit is one the window may see.
    const limits = new Set([this.limit, ...(this.pendingLimit === undefined ? [] : [this.pendingLimit])]);
    const w: Watcher = { limits, allowance: this.allowed, changed: this.changing };
    const start = this.member;
    this.watchers.add(w);
    return {
      stable: () => (w.changed ? null : start ? 'in' : 'out'),
      limits: () => [...w.limits],
      allowance: () => w.allowance,
      close: () => {
        this.watchers.delete(w);
      },
    };
  }

  /**
   * Begins a change: joining with `limit` (or changing it), or leaving (`undefined`). Until it
   * is acknowledged the membership may be either way, and usage may reach the larger allowance.
   */
  begin(limit: number | null | undefined): void {
    if (this.changing) throw new Error(`${this.id}: a membership change is already in flight`);
    this.changing = true;
    this.pendingLimit = limit;
    const next = limit === undefined ? this.allowed : Math.max(this.allowed, limit ?? UNBOUNDED);
    for (const w of this.watchers) {
      w.changed = true;
      if (limit !== undefined) w.limits.add(limit);
      w.allowance = Math.max(w.allowance, next);
    }
    this.allowed = next;
  }

  /** The change was acknowledged: joined (with the answer's usage) or left; or it failed (null). */
  end(outcome: { limit: number | null; usedAndHeld: number } | 'left' | null): void {
    this.changing = false;
    this.pendingLimit = undefined;
    if (outcome === 'left') this.member = false;
    else if (outcome !== null) {
      this.member = true;
      this.limit = outcome.limit;
      this.allowed = outcome.limit === null ? UNBOUNDED : Math.max(outcome.limit, outcome.usedAndHeld);
    }
    for (const w of this.watchers) {
      w.limits.add(this.limit);
      w.allowance = Math.max(w.allowance, this.allowed);
    }
  }
}
