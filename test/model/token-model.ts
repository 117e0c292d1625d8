// An in-memory model of the token rules, written from the issue text alone. It imports
// nothing from src/, so a wrong rule in the engine cannot agree with itself here.

export interface ModelAccount {
  allocation: number;
  purchased: number;
  holds: Map<number, { amount: number; expiresAt: number }>;
  /** Holds that expired uncharged: their work may still be committed, once. */
  expired: Set<number>;
  anchor: number;
  cycleStart: number;
}

export type Outcome = { ok: true; balance: number } | { ok: false; message: string };

const MONTHLY = 100; // the free plan; rollover cap 0
const COSTS: Record<string, number> = { outbound_call_single: 1, crm_ai_agent: 2, business_collector: 5 };

export class TokenModel {
  readonly accounts = new Map<string, ModelAccount>();
  now: number;
  private nextHold = 1;
  readonly holdOwner = new Map<number, string>();

  constructor(now: number) {
    this.now = now;
  }

  private account(id: string): ModelAccount {
    let a = this.accounts.get(id);
    if (!a) {
      a = {
        allocation: MONTHLY,
        purchased: 0,
        holds: new Map(),
        expired: new Set(),
        anchor: this.now,
        cycleStart: this.now,
      };
      this.accounts.set(id, a);
    }
    this.renew(a);
    for (const [hid, h] of a.holds) {
      if (h.expiresAt > this.now) continue;
      a.holds.delete(hid);
      a.expired.add(hid);
    }
    return a;
  }

  private renew(a: ModelAccount): void {
    for (let n = 1; ; n++) {
      const boundary = monthsAfter(a.anchor, n);
      if (boundary > this.now) break;
      if (boundary <= a.cycleStart) continue;
      a.allocation = MONTHLY; // cap 0: everything unused expires
      a.cycleStart = boundary;
    }
  }

  private held(a: ModelAccount): number {
    let sum = 0;
    for (const h of a.holds.values()) sum += h.amount;
    return sum;
  }

  private refusal(a: ModelAccount, cost: number): string | null {
    const available = a.allocation + a.purchased - this.held(a);
    if (available <= 0) {
      return `Insufficient tokens. Your balance is ${available}. Please purchase more tokens to continue using services.`;
    }
    if (available < cost) return `Insufficient tokens. Need ${cost}, have ${available}. Please purchase more tokens.`;
    return null;
  }

  private charge(a: ModelAccount, tokens: number): void {
    const fromAllocation = Math.min(Math.max(a.allocation, 0), tokens);
    a.allocation -= fromAllocation;
    a.purchased -= tokens - fromAllocation;
  }

  /** What a read would show, without provisioning. */
  peek(id: string): { balance: number; available: number } {
    const existing = this.accounts.get(id);
    if (!existing) return { balance: MONTHLY, available: MONTHLY };
    const a = this.account(id);
    return { balance: a.allocation + a.purchased, available: a.allocation + a.purchased - this.held(a) };
  }

  deduct(id: string, feature: string, quantity: number): Outcome {
    const known = this.accounts.has(id);
    const a = this.account(id);
    const cost = (COSTS[feature] ?? 0) * quantity;
    const message = this.refusal(a, cost);
    if (message) {
      if (!known) this.accounts.delete(id);
      return { ok: false, message };
    }
    this.charge(a, cost);
    return { ok: true, balance: a.allocation + a.purchased };
  }

  credit(id: string, tokens: number): Outcome {
    const a = this.account(id);
    a.purchased += tokens;
    return { ok: true, balance: a.allocation + a.purchased };
  }

  adjust(id: string, amount: number): Outcome {
    const a = this.account(id);
    if (amount < 0) this.charge(a, -amount);
    else a.purchased += amount;
    return { ok: true, balance: a.allocation + a.purchased };
  }

  reserve(
    id: string,
    amount: number,
    ttlSeconds: number,
  ): { ok: true; holdId: number } | { ok: false; message: string } {
    const known = this.accounts.has(id);
    const a = this.account(id);
    const message = this.refusal(a, amount);
    if (message) {
      if (!known) this.accounts.delete(id);
      return { ok: false, message };
    }
    const holdId = this.nextHold++;
    a.holds.set(holdId, { amount, expiresAt: this.now + ttlSeconds * 1000 });
    this.holdOwner.set(holdId, id);
    return { ok: true, holdId };
  }

  commit(holdId: number, actual: number): { ok: true; charged: number } | { ok: false } {
    const id = this.holdOwner.get(holdId);
    if (id === undefined) return { ok: false };
    const a = this.account(id);
    const hold = a.holds.get(holdId);
    // A live hold pays up to its reservation even when a take-back left available below zero;
    // beyond it, and for an expired hold, only what is available now.
    const available = Math.max(0, a.allocation + a.purchased - this.held(a));
    let payable: number;
    if (hold) payable = hold.amount + available;
    else if (a.expired.has(holdId)) payable = available;
    else return { ok: false };
    a.holds.delete(holdId);
    a.expired.delete(holdId);
    const charged = Math.min(actual, payable);
    this.charge(a, charged);
    return { ok: true, charged };
  }

  release(holdId: number): { ok: boolean } {
    const id = this.holdOwner.get(holdId);
    if (id === undefined) return { ok: false };
    const a = this.account(id);
    return { ok: a.holds.delete(holdId) };
  }
}

/** Calendar months after `start` in UTC, the day clamped to the month's last day. */
export function monthsAfter(start: number, months: number): number {
  const d = new Date(start);
  const totalMonths = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const year = Math.floor(totalMonths / 12);
  const month = totalMonths % 12;
  const lastDay = new Date(Date.UTC(2000, month + 1, 0)).getUTCDate(); // month length in a leap year
  const isLeap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 1 && !isLeap ? 28 : lastDay;
  const target = new Date(start);
  target.setUTCFullYear(year, month, Math.min(d.getUTCDate(), days));
  return target.getTime();
}
