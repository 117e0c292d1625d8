// An in-memory model of shared pools, written from issue 18's rules alone. It imports nothing
// from src/, so a wrong rule in the engine cannot agree with itself here.
//
// One pool on the free plan (100 included a month, anchored at its creation, no rollover) and
// members with tokens of their own: credits, and the included grant of their own plan while they
// are in no pool (it ends when they join; a boundary crossed in a pool grants them nothing). A
// member spends its own tokens first, then the pool's within its limit per pool cycle; holds keep
// the split decided when they were reserved. Balances only: the model keeps each account's
// included and paid tokens and its debt, which is all a balance shows of grants that never
// expire and an included grant that ends with its cycle.
import { monthsAfter } from './months-after.ts';

export const POOL = 'org';
const MONTHLY = 100;
export const FEATURE_COSTS: Readonly<Record<string, number>> = {
  outbound_call_single: 1,
  crm_ai_agent: 2,
  business_collector: 5,
};

interface Party {
  id: string;
  anchor: number;
  /** The current cycle starts `cycle` months after the anchor. */
  cycle: number;
  /** What remains of the current cycle's included grant (spent first: it ends soonest). */
  included: number;
  /** Credited tokens, never expiring. */
  paid: number;
  /** What was charged beyond the tokens; credits pay it first. */
  debt: number;
  /** What this account's own live holds reserve (a member's pool part is the pool's). */
  held: number;
}

interface Membership {
  member: string;
  limit: number | null;
  /** Drawn from the pool in the pool's current cycle. */
  used: number;
  /** What the member's live holds reserve in the pool. */
  held: number;
  joinedAt: number;
  /** Whether this is the member's pool now (a membership outlives leaving: its holds still settle). */
  active: boolean;
}

interface ModelHold {
  member: string;
  amount: number;
  /** The pool's part, decided when reserved. */
  poolAmount: number;
  expiresAt: number;
  status: 'live' | 'expired' | 'closed';
}

export interface PoolStanding {
  id: string;
  available: number;
  limitPerCycle: number | null;
  usedThisCycle: number;
  remainingThisCycle: number | null;
}

export interface PartyView {
  balance: number;
  available: number;
  held: number;
  allocation: number;
  purchased: number;
  debt: number;
  featuresDisabled: boolean;
  pool: PoolStanding | null;
}

export interface MemberRow {
  member: string;
  limitPerCycle: number | null;
  usedThisCycle: number;
  held: number;
  remainingThisCycle: number | null;
  cycleStart: number;
  joinedAt: number;
}

export type Refused = { ok: false; message: string; balance: number; available: number };
export type Spent = { ok: true; cost: number; pooled: number | undefined; balance: number; available: number };
export type Held = { ok: true; hold: number; expiresAt: number; balance: number; available: number };
export type Settled = { ok: true; charged: number; shortfall: number; balance: number; available: number };

/** The seed app's wording, quoting the figure the spender has. */
function refusal(cost: number, available: number): string | null {
  if (available <= 0) {
    return `Insufficient tokens. Your balance is ${available}. Please purchase more tokens to continue using services.`;
  }
  if (available < cost) return `Insufficient tokens. Need ${cost}, have ${available}. Please purchase more tokens.`;
  return null;
}

export class PoolModel {
  now: number;
  private readonly pool: Party;
  private readonly accounts = new Map<string, Party>();
  private readonly memberships = new Map<string, Membership>();
  private readonly holds = new Map<number, ModelHold>();
  private nextHold = 1;
  /** Tokens cycles granted and tokens that ended (cycle expiries, included grants ended by joining), since the start. */
  granted = 0;
  ended = 0;

  /** The pool opens now with its first month's 100. */
  constructor(now: number) {
    this.now = now;
    this.pool = this.open(POOL, MONTHLY);
  }

  private open(id: string, included: number): Party {
    const party = { id, anchor: this.now, cycle: 0, included, paid: 0, debt: 0, held: 0 };
    this.accounts.set(id, party);
    this.granted += included;
    return party;
  }

  private party(id: string): Party {
    const party = this.accounts.get(id);
    if (!party) throw new Error(`the model has no account ${id}`);
    return party;
  }

  knows(id: string): boolean {
    return this.accounts.has(id);
  }

  isMember(id: string): boolean {
    return this.memberships.get(id)?.active === true;
  }

  /** A plain account on the free plan, opened now (not a member). */
  createAccount(id: string): void {
    if (this.accounts.has(id)) throw new Error(`${id} exists`);
    this.open(id, MONTHLY);
  }

  /**
   * Moves the clock: every boundary passed renews its account (the pool's 100, a member's
   * nothing, an account in no pool its plan's 100; what is left of the old included grant ends),
   * the pool's boundary starts its members' usage over, and holds past their expiry free what they
   * reserved. Nothing here depends on the order of accounts: memberships change only by operations.
   */
  advance(ms: number): void {
    this.now += ms;
    for (const party of this.accounts.values()) {
      for (;;) {
        const boundary = monthsAfter(party.anchor, party.cycle + 1);
        if (boundary > this.now) break;
        party.cycle += 1;
        this.ended += party.included;
        party.included = party === this.pool || !this.isMember(party.id) ? MONTHLY : 0;
        this.granted += party.included;
        if (party === this.pool) for (const m of this.memberships.values()) m.used = 0;
      }
    }
    for (const h of this.holds.values()) {
      if (h.status !== 'live' || h.expiresAt > this.now) continue;
      h.status = 'expired';
      this.free(h);
    }
  }

  /** Gives back what a live hold reserves, on the member, the pool and the membership. */
  private free(h: ModelHold): void {
    this.party(h.member).held -= h.amount - h.poolAmount;
    if (h.poolAmount === 0) return;
    this.pool.held -= h.poolAmount;
    this.membershipOf(h.member).held -= h.poolAmount;
  }

  private membershipOf(member: string): Membership {
    const m = this.memberships.get(member);
    if (!m) throw new Error(`${member} never joined`);
    return m;
  }

  private balance(p: Party): number {
    return p.included + p.paid - p.debt;
  }

  private available(p: Party): number {
    return this.balance(p) - p.held;
  }

  private remaining(m: Membership): number | null {
    return m.limit === null ? null : Math.max(0, m.limit - m.used - m.held);
  }

  /** What the member may take from the pool now: the pool's available, within its limit. */
  private share(m: Membership): number {
    const room = this.remaining(m);
    const pool = this.available(this.pool);
    return Math.max(0, room === null ? pool : Math.min(pool, room));
  }

  /** What an account may spend now: its own available, and a member's share of its pool. */
  spendable(id: string): number {
    const own = this.available(this.party(id));
    const m = this.memberships.get(id);
    return m?.active ? own + this.share(m) : own;
  }

  /** Takes `tokens` from the included grant, then the paid tokens; what they lack is a debt. */
  private charge(p: Party, tokens: number): void {
    const fromIncluded = Math.min(p.included, tokens);
    const fromPaid = Math.min(p.paid, tokens - fromIncluded);
    p.included -= fromIncluded;
    p.paid -= fromPaid;
    p.debt += tokens - fromIncluded - fromPaid;
  }

  credit(id: string, tokens: number): { balance: number } {
    const p = this.party(id);
    const pays = Math.min(p.debt, tokens);
    p.debt -= pays;
    p.paid += tokens - pays;
    return { balance: this.balance(p) };
  }

  private refused(id: string, cost: number): Refused | null {
    const available = this.spendable(id);
    const message = refusal(cost, available);
    return message === null ? null : { ok: false, message, balance: this.balance(this.party(id)), available };
  }

  /** The part of `cost` a member pays itself (its own available, never below zero), and the pool's. */
  private split(p: Party, cost: number): { own: number; pool: number } {
    const own = Math.max(0, Math.min(cost, this.available(p)));
    return { own, pool: cost - own };
  }

  /** A feature use: a member's own tokens first, then its pool's; anyone else's from its own. */
  deduct(id: string, feature: string, quantity: number): Spent | Refused {
    const cost = (FEATURE_COSTS[feature] ?? Number.NaN) * quantity;
    const no = this.refused(id, cost);
    if (no) return no;
    const p = this.party(id);
    const m = this.memberships.get(id);
    let pooled: number | undefined;
    if (m?.active) {
      const split = this.split(p, cost);
      this.charge(p, split.own);
      this.charge(this.pool, split.pool);
      m.used += split.pool;
      pooled = split.pool;
    } else this.charge(p, cost);
    return { ok: true, cost, pooled, balance: this.balance(p), available: this.spendable(id) };
  }

  /** Reserves like a deduction: the split decided now is the hold's for good. Returns the model's hold number. */
  reserve(id: string, amount: number, ttlSeconds: number): Held | Refused {
    const no = this.refused(id, amount);
    if (no) return no;
    const p = this.party(id);
    const m = this.memberships.get(id);
    const split = m?.active ? this.split(p, amount) : { own: amount, pool: 0 };
    p.held += split.own;
    if (m && split.pool > 0) {
      this.pool.held += split.pool;
      m.held += split.pool;
    }
    const hold = this.nextHold++;
    const expiresAt = this.now + ttlSeconds * 1000;
    this.holds.set(hold, { member: id, amount, poolAmount: split.pool, expiresAt, status: 'live' });
    return { ok: true, hold, expiresAt, balance: this.balance(p), available: this.spendable(id) };
  }

  /**
   * Charges `actual` for a hold's work (live, or expired and never charged): the member's own
   * reservation first, then the pool's, and beyond the reservation only the member's own
   * available. A live reservation is payable as reserved; an expired hold's pool part only as far
   * as the pool's available and the membership's remaining limit go, its own part as far as the
   * member's available goes. The pool's part counts for the membership even after leaving.
   */
  commit(hold: number, actual: number): Settled | { ok: false } {
    const h = this.holds.get(hold);
    if (!h || h.status === 'closed') return { ok: false };
    const live = h.status === 'live';
    const p = this.party(h.member);
    const ownPart = h.amount - h.poolAmount;
    const poolWanted = Math.min(Math.max(0, actual - ownPart), h.poolAmount);
    let poolCharged = 0;
    if (h.poolAmount > 0) {
      const m = this.membershipOf(h.member);
      poolCharged = live
        ? poolWanted
        : Math.min(poolWanted, this.remaining(m) ?? poolWanted, Math.max(0, this.available(this.pool)));
    }
    const ownWanted = actual - poolWanted;
    const ownCharged = Math.min(ownWanted, (live ? ownPart : 0) + Math.max(0, this.available(p)));
    if (live) this.free(h);
    h.status = 'closed';
    this.charge(p, ownCharged);
    this.charge(this.pool, poolCharged);
    if (h.poolAmount > 0) this.membershipOf(h.member).used += poolCharged;
    const charged = ownCharged + poolCharged;
    return { ok: true, charged, shortfall: actual - charged, ...this.figures(h.member) };
  }

  /** Gives a live hold's reservation back, on the member and in the pool. */
  release(hold: number): Settled | { ok: false } {
    const h = this.holds.get(hold);
    if (h?.status !== 'live') return { ok: false };
    this.free(h);
    h.status = 'closed';
    return { ok: true, charged: 0, shortfall: 0, ...this.figures(h.member) };
  }

  holdOwner(hold: number): string | undefined {
    return this.holds.get(hold)?.member;
  }

  /** An account's balance and what it may spend now, as its answers quote them. */
  figures(id: string): { balance: number; available: number } {
    return { balance: this.balance(this.party(id)), available: this.spendable(id) };
  }

  /**
   * Joins the pool, or changes the limit of the membership it has. An account never written
   * opens as a member (nothing of its own); an account joining ends its included grant. Usage in
   * the pool's cycle and held tokens stay with the membership: leaving and rejoining resets
   * nothing; a rejoin is a new join time, a limit change keeps it.
   */
  join(member: string, limit: number | null): MemberRow {
    const known = this.accounts.get(member);
    const joining = !this.isMember(member);
    if (!known) this.open(member, 0);
    else if (joining) {
      this.ended += known.included;
      known.included = 0;
    }
    const m = this.memberships.get(member);
    if (m) {
      m.limit = limit;
      if (joining) m.joinedAt = this.now;
      m.active = true;
    } else this.memberships.set(member, { member, limit, used: 0, held: 0, joinedAt: this.now, active: true });
    return this.row(this.membershipOf(member));
  }

  /** Leaves the pool (false when in none): from now on the member spends its own tokens only. */
  leave(member: string): boolean {
    const m = this.memberships.get(member);
    if (!m?.active) return false;
    m.active = false;
    return true;
  }

  private row(m: Membership): MemberRow {
    return {
      member: m.member,
      limitPerCycle: m.limit,
      usedThisCycle: m.used,
      held: m.held,
      remainingThisCycle: this.remaining(m),
      cycleStart: monthsAfter(this.pool.anchor, this.pool.cycle),
      joinedAt: m.joinedAt,
    };
  }

  /** The pool's current members, by id. */
  members(): MemberRow[] {
    return [...this.memberships.values()]
      .filter((m) => m.active)
      .sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0))
      .map((m) => this.row(m));
  }

  view(id: string): PartyView {
    const p = this.party(id);
    const m = this.memberships.get(id);
    const available = this.spendable(id);
    return {
      balance: this.balance(p),
      available,
      held: p.held,
      allocation: p.included,
      purchased: p.paid,
      debt: p.debt,
      featuresDisabled: available <= 0,
      pool: m?.active
        ? {
            id: POOL,
            available: this.available(this.pool),
            limitPerCycle: m.limit,
            usedThisCycle: m.used,
            remainingThisCycle: this.remaining(m),
          }
        : null,
    };
  }

  /** Every account's balance, summed. */
  total(): number {
    let sum = 0;
    for (const p of this.accounts.values()) sum += this.balance(p);
    return sum;
  }
}
