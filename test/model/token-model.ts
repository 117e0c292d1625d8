// An in-memory model of the token rules, written from the issue texts alone (the seed, and
// issue 15's grants). It imports nothing from src/, so a wrong rule in the engine cannot agree
// with itself here.
import { burnOrder, DEFAULT_PRIORITY, type ModelCategory, type ModelGrant } from './model-grant.ts';
import { monthsAfter } from './months-after.ts';

export interface ModelAccount {
  id: string;
  /** In creation order. */
  grants: ModelGrant[];
  /** What exempt operations took beyond the grants; only paid grants and positive adjustments pay it. */
  debt: number;
  holds: Map<number, { amount: number; expiresAt: number }>;
  /** Holds that expired uncharged: their work may still be committed, once. */
  expired: Set<number>;
  anchor: number;
  /** The current cycle starts `cycle` months after the anchor. */
  cycle: number;
}

export type Outcome = { ok: true; balance: number } | { ok: false; message: string };

/** What a balance read shows; `grants` are the spendable ones in burn order. */
export interface ModelView {
  balance: number;
  available: number;
  held: number;
  allocation: number;
  purchased: number;
  promotional: number;
  debt: number;
  featuresDisabled: boolean;
  grants: { seq: number | null; category: ModelCategory; remaining: number; priority: number; expiresAt: number }[];
  expiringNext: { at: number; tokens: number } | null;
}

/** A top-up's payment: what it granted, and what its refunds and disputes took back so far. */
export interface ModelPayment {
  account: string;
  /** Its own paid grant. */
  grant: number;
  tokens: number;
  /** What was charged, minor units. */
  amount: number;
  /** Cumulative, as the provider reports it. */
  refunded: number;
  disputes: Map<string, { amount: number; status: 'open' | 'won' | 'lost' }>;
  takenBack: number;
  /** The debt its take-backs made and its reversals have not cancelled yet. */
  debtMade: number;
  /** Per grant, in the order first taken from: what its take-backs took and reversals have not returned. */
  taken: Map<number, number>;
}

export interface GrantRequest {
  category: 'promotional' | 'paid';
  tokens: number;
  priority?: number;
  expiresAt: number | null;
  effectiveAt?: number;
}

const MONTHLY = 100; // the free plan; rollover cap 0
const COSTS: Record<string, number> = { outbound_call_single: 1, crm_ai_agent: 2, business_collector: 5 };

export class TokenModel {
  readonly accounts = new Map<string, ModelAccount>();
  now: number;
  private nextHold = 1;
  private nextGrant = 1;
  readonly payments: ModelPayment[] = [];
  readonly holdOwner = new Map<number, string>();

  constructor(now: number) {
    this.now = now;
  }

  /** A never-seen account: the plan's allocation as an included grant ending at the first boundary. */
  private open(id: string, seq: number): ModelAccount {
    const a: ModelAccount = {
      id,
      grants: [],
      debt: 0,
      holds: new Map(),
      expired: new Set(),
      anchor: this.now,
      cycle: 0,
    };
    a.grants.push(this.included(a, seq, this.now));
    return a;
  }

  private included(a: ModelAccount, seq: number, at: number): ModelGrant {
    return {
      seq,
      account: a.id,
      category: 'included',
      tokens: MONTHLY,
      remaining: MONTHLY,
      priority: DEFAULT_PRIORITY,
      effectiveAt: at,
      expiresAt: monthsAfter(a.anchor, a.cycle + 1),
      status: 'active',
    };
  }

  private account(id: string): ModelAccount {
    let a = this.accounts.get(id);
    if (!a) {
      a = this.open(id, this.nextGrant++);
      this.accounts.set(id, a);
    }
    this.bringUpToDate(a);
    return a;
  }

  /**
   * Everything due by now, whether or not anyone wrote: cycle renewals, grants taking effect and
   * grants expiring (each at its own instant, in time order), and holds expiring.
   */
  private bringUpToDate(a: ModelAccount): void {
    for (;;) {
      const boundary = monthsAfter(a.anchor, a.cycle + 1);
      if (boundary > this.now) break;
      // Cap 0: everything unused of the cycle's allocation expires; a debt outlives the cycle.
      for (const g of a.grants) {
        if (g.category !== 'included' || g.status !== 'active') continue;
        g.remaining = 0;
        g.status = 'expired';
      }
      a.cycle += 1;
      a.grants.push(this.included(a, this.nextGrant++, boundary));
    }
    const due: { at: number; what: 'activate' | 'expire'; g: ModelGrant }[] = [];
    for (const g of a.grants) {
      if (g.category === 'included') continue;
      if (g.status === 'scheduled' && g.effectiveAt <= this.now) due.push({ at: g.effectiveAt, what: 'activate', g });
      if ((g.status === 'scheduled' || g.status === 'active') && g.expiresAt !== null && g.expiresAt <= this.now) {
        due.push({ at: g.expiresAt, what: 'expire', g });
      }
    }
    due.sort((x, y) => x.at - y.at || (x.what === y.what ? x.g.seq - y.g.seq : x.what === 'activate' ? -1 : 1));
    for (const d of due) {
      if (d.what === 'activate') this.fill(a, d.g);
      else {
        d.g.remaining = 0;
        d.g.status = 'expired';
      }
    }
    for (const [hid, h] of a.holds) {
      if (h.expiresAt > this.now) continue;
      a.holds.delete(hid);
      a.expired.add(hid);
    }
  }

  /** A grant taking effect: a paid one pays the debt first; a promotional one never does. */
  private fill(a: ModelAccount, g: ModelGrant): void {
    const pays = g.category === 'paid' ? Math.min(a.debt, g.tokens) : 0;
    a.debt -= pays;
    g.remaining = g.tokens - pays;
    g.status = 'active';
  }

  private cycleEnd(a: ModelAccount): number {
    return monthsAfter(a.anchor, a.cycle + 1);
  }

  private sum(a: ModelAccount, category: ModelCategory): number {
    let s = 0;
    for (const g of a.grants) if (g.status === 'active' && g.category === category) s += g.remaining;
    return s;
  }

  private balance(a: ModelAccount): number {
    return this.sum(a, 'included') + this.sum(a, 'paid') + this.sum(a, 'promotional') - a.debt;
  }

  private held(a: ModelAccount): number {
    let sum = 0;
    for (const h of a.holds.values()) sum += h.amount;
    return sum;
  }

  private available(a: ModelAccount): number {
    return this.balance(a) - this.held(a);
  }

  private refusal(a: ModelAccount, cost: number): string | null {
    const available = this.available(a);
    if (available <= 0) {
      return `Insufficient tokens. Your balance is ${available}. Please purchase more tokens to continue using services.`;
    }
    if (available < cost) return `Insufficient tokens. Need ${cost}, have ${available}. Please purchase more tokens.`;
    return null;
  }

  /** Draws `tokens` from the grants in burn order; what they lack becomes debt. */
  private charge(a: ModelAccount, tokens: number): void {
    let left = tokens;
    for (const g of burnOrder(a.grants, this.cycleEnd(a))) {
      const take = Math.min(g.remaining, left);
      g.remaining -= take;
      left -= take;
    }
    a.debt += left;
  }

  /** New paid tokens: they pay the debt first, the rest stays on a never-expiring paid grant. */
  private addPaid(a: ModelAccount, tokens: number, always: boolean): void {
    const pays = Math.min(a.debt, tokens);
    if (pays === tokens && !always) {
      a.debt -= pays;
      return;
    }
    const g = this.draft(a, { category: 'paid', tokens, expiresAt: null });
    this.fill(a, g);
  }

  private draft(a: ModelAccount, r: GrantRequest): ModelGrant {
    const effectiveAt = r.effectiveAt ?? this.now;
    const g: ModelGrant = {
      seq: this.nextGrant++,
      account: a.id,
      category: r.category,
      tokens: r.tokens,
      remaining: 0,
      priority: r.priority ?? DEFAULT_PRIORITY,
      effectiveAt,
      expiresAt: r.expiresAt,
      status: effectiveAt > this.now ? 'scheduled' : 'active',
    };
    a.grants.push(g);
    return g;
  }

  /** What a read would show, without provisioning. */
  peek(id: string): ModelView {
    const a = this.accounts.has(id) ? this.account(id) : this.open(id, 0);
    const known = this.accounts.has(id);
    const sums = { allocation: this.sum(a, 'included'), purchased: this.sum(a, 'paid') };
    const promotional = this.sum(a, 'promotional');
    const balance = this.balance(a);
    const held = this.held(a);
    const cycleEnd = this.cycleEnd(a);
    return {
      balance,
      available: balance - held,
      held,
      ...sums,
      promotional,
      debt: a.debt,
      featuresDisabled: balance - held <= 0,
      grants: burnOrder(a.grants, cycleEnd).map((g) => ({
        seq: known ? g.seq : null,
        category: g.category,
        remaining: g.remaining,
        priority: g.priority,
        expiresAt: g.category === 'included' ? cycleEnd : (g.expiresAt ?? Number.POSITIVE_INFINITY),
      })),
      expiringNext: expiringNext(a, cycleEnd, sums.allocation),
    };
  }

  /** Every grant of the account as a read shows it, in creation order. */
  grants(id: string): readonly ModelGrant[] {
    return this.accounts.has(id) ? this.account(id).grants : [];
  }

  /** The end of the account's current cycle (of a fresh one's first, for an unknown account). */
  cycleEndOf(id: string): number {
    return this.accounts.has(id) ? this.cycleEnd(this.account(id)) : monthsAfter(this.now, 1);
  }

  deduct(id: string, feature: string, quantity: number): Outcome {
    const known = this.accounts.has(id);
    const a = this.account(id);
    const cost = (COSTS[feature] ?? 0) * quantity;
    const message = this.refusal(a, cost);
    if (message) {
      if (!known) this.forget(id);
      return { ok: false, message };
    }
    this.charge(a, cost);
    return { ok: true, balance: this.balance(a) };
  }

  credit(id: string, tokens: number): Outcome {
    const a = this.account(id);
    this.addPaid(a, tokens, true);
    return { ok: true, balance: this.balance(a) };
  }

  /** A negative correction draws in burn order, then leaves a debt; a positive one pays the debt, the rest a paid grant. */
  adjust(id: string, amount: number): Outcome {
    const a = this.account(id);
    if (amount < 0) this.charge(a, -amount);
    else this.addPaid(a, amount, false);
    return { ok: true, balance: this.balance(a) };
  }

  /** `setBalance`: an adjustment by the difference (none when there is none). */
  setBalance(id: string, target: number): Outcome & { delta: number } {
    const a = this.account(id);
    const delta = target - this.balance(a);
    if (delta !== 0) this.adjust(id, delta);
    return { ok: true, balance: this.balance(a), delta };
  }

  /** A paid top-up: a paid grant of its tokens (which pays the debt first). Returns the payment's number. */
  purchase(id: string, tokens: number, amount: number): number {
    const a = this.account(id);
    this.addPaid(a, tokens, true);
    const grant = a.grants.at(-1)?.seq ?? 0;
    this.payments.push({
      account: id,
      grant,
      tokens,
      amount,
      refunded: 0,
      disputes: new Map(),
      takenBack: 0,
      debtMade: 0,
      taken: new Map(),
    });
    return this.payments.length - 1;
  }

  /** The provider's cumulative refunded amount for payment `n`. */
  refund(n: number, refunded: number): void {
    const p = this.payments[n];
    if (!p) throw new Error(`no payment ${n}`);
    p.refunded = refunded;
    this.takeBack(p);
  }

  /** A dispute of payment `n` opened, won or lost. */
  dispute(n: number, dispute: string, status: 'open' | 'won' | 'lost', amount: number): void {
    const p = this.payments[n];
    if (!p) throw new Error(`no payment ${n}`);
    p.disputes.set(dispute, { amount, status });
    this.takeBack(p);
  }

  /**
   * Takes back what the payment's latest facts say is gone: its tokens times the share of its
   * amount refunded or disputed (a won dispute gives its share back), rounded down. More than
   * before comes from its own grant first, then other paid grants in burn order, then is a debt;
   * less than before is a reversal: it gives back the debt its take-backs made first (cancelled
   * while still owed, a new never-expiring paid grant for what was paid since), then returns
   * tokens to the grants they came from unless those expired or were voided meanwhile.
   */
  private takeBack(p: ModelPayment): void {
    const a = this.account(p.account);
    let gone = p.refunded;
    for (const d of p.disputes.values()) if (d.status !== 'won') gone += d.amount;
    const target = Math.floor((p.tokens * Math.min(p.amount, gone)) / p.amount);
    const step = target - p.takenBack;
    p.takenBack = target;
    if (step > 0) {
      const order = burnOrder(a.grants, this.cycleEnd(a)).filter((g) => g.category === 'paid');
      const own = order.findIndex((g) => g.seq === p.grant);
      if (own > 0) order.unshift(...order.splice(own, 1));
      let left = step;
      for (const g of order) {
        const take = Math.min(g.remaining, left);
        if (take === 0) continue;
        g.remaining -= take;
        left -= take;
        p.taken.set(g.seq, (p.taken.get(g.seq) ?? 0) + take);
      }
      a.debt += left;
      p.debtMade += left;
    } else if (step < 0) {
      // The debt part comes back first: cancelled while owed, a new paid grant once paid since.
      const debtPart = Math.min(-step, p.debtMade);
      const cancel = Math.min(debtPart, a.debt);
      a.debt -= cancel;
      p.debtMade -= debtPart;
      if (debtPart > cancel) this.addPaid(a, debtPart - cancel, true);
      let left = -step - debtPart;
      for (const [seq, net] of p.taken) {
        const g = a.grants.find((x) => x.seq === seq);
        if (g?.status !== 'active' || net <= 0) continue;
        const back = Math.min(net, left, g.tokens - g.remaining);
        g.remaining += back;
        p.taken.set(seq, net - back);
        left -= back;
      }
    }
  }

  /** A caller's grant; one effective later holds nothing until then. */
  grant(id: string, r: GrantRequest): ModelGrant {
    const a = this.account(id);
    const g = this.draft(a, r);
    if (g.status === 'active') this.fill(a, g);
    return g;
  }

  /** Voids what remains of a grant; refused for an expired or voided one. */
  voidGrant(seq: number): { ok: boolean } {
    const found = [...this.accounts.keys()].flatMap((id) => this.account(id).grants).find((g) => g.seq === seq);
    if (!found || found.status === 'expired' || found.status === 'voided') return { ok: false };
    found.remaining = 0;
    found.status = 'voided';
    return { ok: true };
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
      if (!known) this.forget(id);
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
    // A live hold pays up to its reservation even when a take-back or an expiry left available
    // below zero (the tokens come from the next grants in order, or leave a debt); beyond it,
    // and for an expired hold, only what is available now.
    const available = Math.max(0, this.available(a));
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

  /** A refused first operation writes nothing: the account stays unknown (its grant numbers stay used). */
  private forget(id: string): void {
    this.accounts.delete(id);
  }
}

/** The soonest instant tokens leave by expiry; at the cycle's end only what exceeds the cap (0) counts. */
function expiringNext(a: ModelAccount, cycleEnd: number, allocation: number): { at: number; tokens: number } | null {
  const soon = new Map<number, number>();
  for (const g of a.grants) {
    if (g.category === 'included' || g.expiresAt === null || g.status !== 'active' || g.remaining === 0) continue;
    soon.set(g.expiresAt, (soon.get(g.expiresAt) ?? 0) + g.remaining);
  }
  if (allocation > 0) soon.set(cycleEnd, (soon.get(cycleEnd) ?? 0) + allocation);
  let next: { at: number; tokens: number } | null = null;
  for (const [at, tokens] of soon) if (next === null || at < next.at) next = { at, tokens };
  return next;
}
