// The "bank" workload: concurrent clients send random deductions, idempotent replays, holds,
// commits, releases, credits (test-provider purchases, sometimes completed twice), operator
// adjustments, promotional grants that expire during the run (bank-grants.ts), on some accounts
// automatic top-ups (bank-topups.ts), shared pools whose members spend, hold, leave and rejoin
// (bank-pools.ts), and reads to several servers over HTTP, and check every read against what the
// acknowledged answers allow (see bank-model.ts), and the events the outbox kept (bank-events.ts).
// Nothing here asserts: violations and unexpected answers are collected for the test to report.
import { checkBankEvents } from './bank-events.ts';
import { BankGrants, type ExpiredTokens } from './bank-grants.ts';
import { AccountBounds, eitherNoneOr, type Range, within } from './bank-model.ts';
import type { PoolTally } from './bank-pool-audit.ts';
import type { BankPools, BankPoolsContext } from './bank-pools.ts';
import type { BankTopups, TopupTally } from './bank-topups.ts';
import { feedSettled } from './feed-settled.ts';
import { call, type Json, num } from './server-call.ts';
import { chooseFrom } from './weighted-mix.ts';

export interface BankOptions {
  servers: string[];
  accounts: string[];
  /** Each account's figures when the run starts (no holds). */
  opening: number;
  clients: number;
  seconds: number;
  seed: number;
  /** Feature id → cost per use. */
  costs: Record<string, number>;
  /** The test-provider package that credits, and how many tokens it credits. */
  creditPackage: { id: string; tokens: number };
  /** With it, clients also grant promotional tokens that expire during the run; it says how many expired. */
  expiredTokens?: ExpiredTokens;
  /** With it, its accounts save a card and top up automatically; its tally is in the report. */
  topups?: BankTopups;
  /** With it, some steps are its pools' and their members' operations; its tally is in the report. */
  pools?: BankPools;
  /**
   * An account id no one uses: with it, the events are checked only once the feed shows a marker
   * written on it after the run (on PostgreSQL the feed may lag behind commits, see feed-settled.ts).
   */
  feedMarker?: string;
}

export interface BankReport {
  bounds: Map<string, AccountBounds>;
  /** Acknowledged answers per operation and outcome, e.g. `deduct:charged`. */
  counts: Record<string, number>;
  totals: {
    credited: number;
    deducted: number;
    committed: number;
    adjusted: number;
    granted: number;
    expired: number;
    /** What the pools' accounts opened with (beside `opening` on each of `accounts`). */
    opened: number;
  };
  /** Holds reserved and never settled: id → account and amount. */
  openHolds: Map<number, { account: string; amount: number }>;
  /** Broken invariants seen on reads or in answers. */
  violations: string[];
  /** Answers that were neither an acknowledgement nor an expected refusal (5xx, network errors). */
  failures: string[];
  /** The automatic top-ups once every intent settled (null without `topups`, or when the run failed first). */
  topups: TopupTally | null;
  /** The pools' audit after the run (null without `pools`, or when the run failed first). */
  pools: PoolTally | null;
}

/** A small seeded generator (mulberry32): a failing run can be repeated with BANK_SEED. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// How often each operation is picked; one that cannot run yet (settling with no hold open) reads
// instead. Until each has run once, the first that can run is picked instead: a short run (the
// default, shared with the pools' operations) still does a bit of everything.
const MIX = [
  ['read', 0.29],
  ['deduct', 0.3],
  ['replay', 0.04],
  ['reserve', 0.1],
  ['commit', 0.085],
  ['release', 0.045],
  ['settle-twice', 0.01],
  ['credit', 0.01],
  ['complete-twice', 0.01],
  ['adjust', 0.09],
  ['grant', 0.02],
] as const;
type Kind = (typeof MIX)[number][0];

/** With pools, the share of steps that are pool operations (bank-pools.ts has its own mix). */
const POOL_SHARE = 0.4;

const choose = (roll: number): Kind => chooseFrom(MIX, roll, 'adjust');

export async function runBank(o: BankOptions): Promise<BankReport> {
  const report: BankReport = {
    bounds: new Map(o.accounts.map((a) => [a, new AccountBounds({ balance: o.opening, held: 0 })])),
    counts: {},
    totals: { credited: 0, deducted: 0, committed: 0, adjusted: 0, granted: 0, expired: 0, opened: 0 },
    openHolds: new Map(),
    violations: [],
    failures: [],
    topups: null,
    pools: null,
  };
  const count = (what: string) => {
    report.counts[what] = (report.counts[what] ?? 0) + 1;
  };
  const violation = (text: string) => {
    if (report.violations.length < 50) report.violations.push(text);
  };
  const failure = (what: string, r: { status: number; body: Json }) => {
    if (report.failures.length < 50) report.failures.push(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  const grants =
    o.expiredTokens === undefined
      ? null
      : new BankGrants({
          expiredTokens: o.expiredTokens,
          boundsOf: (account) => report.bounds.get(account) as AccountBounds,
          count,
          failure,
        });
  const lastBalance = new Map<string, number>();
  const features = Object.keys(o.costs);
  const topupContext = { boundsOf: (account: string) => report.bounds.get(account) as AccountBounds, count, failure };
  if (o.topups) {
    const setUp = await o.topups.setUp(o.servers, topupContext);
    report.totals.credited += setUp.credited;
    report.totals.committed += setUp.committed;
  }
  const poolContext: BankPoolsContext = {
    costs: o.costs,
    open: (account, balance) => {
      const bounds = new AccountBounds({ balance, held: 0 });
      report.bounds.set(account, bounds);
      return bounds;
    },
    count,
    failure,
    violation,
    totals: report.totals,
    openHolds: report.openHolds,
  };
  if (o.pools) report.totals.opened += await o.pools.setUp(o.servers, poolContext);
  const deadline = Date.now() + o.seconds * 1000;
  /** The kinds of operation run so far, by any client. */
  const tried = new Set<Kind>();

  const client = async (id: number) => {
    const rnd = random(o.seed * 1000 + id);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    const charged: { key: string; account: string; feature: string; quantity: number; entryId: number }[] = [];
    const holds: { id: number; account: string; amount: number }[] = [];
    const settled: number[] = [];
    const completed: string[] = [];
    let n = 0;

    const read = async (server: string, account: string) => {
      const bounds = report.bounds.get(account) as AccountBounds;
      await o.topups?.beforeRead(account);
      const pending = bounds.beginRead();
      const r = await call(server, 'GET', `/api/tokens/balance?account=${account}`);
      const ranges = pending.finish();
      if (r.status !== 200) return failure(`read ${account}`, r);
      count('read');
      const [balance, available, held] = [num(r.body, 'balance'), num(r.body, 'available'), num(r.body, 'held')];
      const seen = `${account} on ${server}: balance ${balance}, available ${available}, held ${held}`;
      const expect = (ok: boolean, what: string) => ok || violation(`${what}; ${seen}`);
      const show = ([lo, hi]: Range) => `[${lo}, ${hi}]`;
      const [allocation, purchased] = [num(r.body, 'allocation'), num(r.body, 'purchased')];
      expect(
        balance === allocation + purchased + num(r.body, 'promotional') - num(r.body, 'debt'),
        'balance ≠ allocation + purchased + promotional − debt',
      );
      expect(available === balance - held, 'available ≠ balance − held');
      expect(held >= 0, 'held below zero');
      expect(r.body.features_disabled === available <= 0, 'features_disabled disagrees with available');
      expect(
        available >= -bounds.removedByOperator - (grants?.mayExpire(account) ?? 0),
        'available below zero (beyond what operators removed and grants took when they expired)',
      );
      expect(
        within(balance, ranges.balance),
        `balance outside ${show(ranges.balance)} that acknowledged answers allow`,
      );
      expect(within(held, ranges.held), `held outside ${show(ranges.held)} that acknowledged answers allow`);
      lastBalance.set(account, balance);
    };

    const step = async () => {
      const server = pick(o.servers);
      const account = pick(o.accounts);
      const bounds = report.bounds.get(account) as AccountBounds;
      const key = `bank-${o.seed}-${id}-${n++}`;
      if (o.pools && rnd() < POOL_SHARE) return o.pools.step(server, key, { rnd, int });
      const runnable = (k: Kind) =>
        !(
          (k === 'replay' && charged.length === 0) ||
          ((k === 'commit' || k === 'release') && holds.length === 0) ||
          (k === 'settle-twice' && settled.length === 0) ||
          (k === 'complete-twice' && completed.length === 0) ||
          (k === 'grant' && grants === null)
        );
      const drawn = MIX.find(([k]) => !tried.has(k) && runnable(k))?.[0] ?? choose(rnd());
      const kind = runnable(drawn) ? drawn : 'read';
      tried.add(kind);
      if (kind === 'read') return read(server, account);
      if (kind === 'grant') return grants?.step(server, account, key, int);
      if (kind === 'deduct') {
        const feature = pick(features);
        const quantity = int(1, 3);
        const cost = (o.costs[feature] ?? 0) * quantity;
        const op = bounds.begin(eitherNoneOr({ balance: -cost }));
        const r = await call(server, 'POST', '/api/tokens/deduct', {
          body: { account, feature, quantity, idempotency_key: key },
        });
        if (r.status === 200 && num(r.body, 'cost') === cost && r.body.replayed === false) {
          op.end({ balance: -cost });
          report.totals.deducted += cost;
          charged.push({ key, account, feature, quantity, entryId: num(r.body, 'entry_id') });
          return count('deduct:charged');
        }
        if (r.status === 402 && r.body.code === 'insufficient_tokens') {
          op.end({});
          if (num(r.body, 'available') >= cost)
            violation(`deduct of ${cost} refused at available ${num(r.body, 'available')}`);
          return count('deduct:refused');
        }
        return failure(`deduct ${cost} on ${account}`, r);
      }
      if (kind === 'replay') {
        const c = pick(charged);
        const op = report.bounds.get(c.account)?.begin(eitherNoneOr({}));
        const r = await call(server, 'POST', '/api/tokens/deduct', {
          body: { account: c.account, feature: c.feature, quantity: c.quantity, idempotency_key: c.key },
        });
        op?.end({});
        if (r.status === 200 && r.body.replayed === true && num(r.body, 'entry_id') === c.entryId) {
          return count('deduct:replayed');
        }
        return failure(`replay of ${c.key} (entry ${c.entryId})`, r);
      }
      if (kind === 'reserve') {
        const amount = int(1, 20);
        const op = bounds.begin(eitherNoneOr({ held: amount }));
        const r = await call(server, 'POST', '/api/tokens/reserve', {
          body: { account, amount, ttl_seconds: 3600, idempotency_key: key },
        });
        if (r.status === 200 && num(r.body, 'amount') === amount) {
          op.end({ held: amount });
          holds.push({ id: num(r.body, 'hold_id'), account, amount });
          report.openHolds.set(num(r.body, 'hold_id'), { account, amount });
          return count('reserve:held');
        }
        if (r.status === 402) {
          op.end({});
          return count('reserve:refused');
        }
        return failure(`reserve ${amount} on ${account}`, r);
      }
      if (kind === 'commit' || kind === 'release') {
        const hold = holds.splice(int(0, holds.length - 1), 1)[0] as (typeof holds)[number];
        const holdBounds = report.bounds.get(hold.account) as AccountBounds;
        const commit = kind === 'commit';
        const actual = commit ? int(0, hold.amount + 5) : 0;
        const op = holdBounds.begin({ lo: { balance: -actual, held: -hold.amount }, hi: { balance: 0, held: 0 } });
        const r = commit
          ? await call(server, 'POST', `/api/tokens/holds/${hold.id}/commit`, { body: { amount: actual } })
          : await call(server, 'POST', `/api/tokens/holds/${hold.id}/release`);
        if (r.status !== 200 || num(r.body, 'reserved') !== hold.amount) {
          return failure(`${commit ? 'commit' : 'release'} hold ${hold.id}`, r);
        }
        // The reservation covers the cost up to its amount, even when an operator's correction has
        // since taken the balance below zero; beyond it the charge goes as far as available pays,
        // so a short one leaves nothing available, and only the reservation's part can leave it below zero.
        const [paid, after] = [num(r.body, 'charged'), num(r.body, 'available')];
        const shortOfReservation = paid < Math.min(actual, hold.amount) && holdBounds.removedByOperator === 0;
        const overdrawn = after < 0 && paid > Math.min(actual, hold.amount);
        if (paid > actual || (paid < actual && after > 0) || overdrawn || shortOfReservation) {
          violation(
            `hold ${hold.id} of ${hold.amount} committed at ${actual}: charged ${paid}, available after ${after}`,
          );
        }
        if (paid !== actual) count('hold:committed-short');
        op.end({ balance: -paid, held: -hold.amount });
        report.totals.committed += paid;
        report.openHolds.delete(hold.id);
        settled.push(hold.id);
        return count(commit ? 'hold:committed' : 'hold:released');
      }
      if (kind === 'settle-twice') {
        const holdId = pick(settled);
        const r = await call(server, 'POST', `/api/tokens/holds/${holdId}/release`);
        if (r.status === 409 && r.body.code === 'hold_not_active') return count('hold:settled-twice-refused');
        return failure(`second settlement of hold ${holdId}`, r);
      }
      if (kind === 'credit') {
        const start = await call(server, 'POST', '/api/payment/checkout', {
          body: { account, package: o.creditPackage.id },
        });
        const checkout = start.body.checkout_id;
        if (start.status !== 200 || typeof checkout !== 'string') return failure(`checkout for ${account}`, start);
        const op = bounds.begin(eitherNoneOr({ balance: o.creditPackage.tokens }));
        const r = await call(pick(o.servers), 'POST', `/pay/test/${checkout}/complete`);
        if (r.status !== 303) return failure(`complete ${checkout}`, r);
        op.end({ balance: o.creditPackage.tokens });
        report.totals.credited += o.creditPackage.tokens;
        completed.push(`${account} ${checkout}`);
        return count('credit:purchased');
      }
      if (kind === 'complete-twice') {
        const [owner, checkout] = pick(completed).split(' ') as [string, string];
        const op = report.bounds.get(owner)?.begin(eitherNoneOr({}));
        const r = await call(server, 'POST', `/pay/test/${checkout}/complete`);
        op?.end({});
        if (r.status === 303) return count('credit:completed-twice');
        return failure(`second completion of ${checkout}`, r);
      }
      // Operators take tokens away on half the accounts only: on the other half, available must
      // never go below zero and a hold's reservation must always pay for its cost.
      const takes = o.accounts.indexOf(account) % 2 === 0 && rnd() < 0.3;
      const amount = takes ? -int(1, 20) : int(1, 10);
      const expected = rnd() < 0.5 ? lastBalance.get(account) : undefined;
      if (amount < 0) bounds.removedByOperator -= amount;
      const op = bounds.begin(eitherNoneOr({ balance: amount }));
      const r = await call(server, 'POST', `/api/admin/accounts/${account}/adjust`, {
        as: 'admin',
        headers: { 'idempotency-key': key },
        body: { amount, reason: 'bank workload', ...(expected === undefined ? {} : { expected_balance: expected }) },
      });
      if (r.status === 200 && num(r.body, 'delta') === amount) {
        op.end({ balance: amount });
        report.totals.adjusted += amount;
        return count('adjust:applied');
      }
      if (r.status === 409 && r.body.code === 'balance_changed' && expected !== undefined) {
        op.end({});
        return count('adjust:balance-changed');
      }
      return failure(`adjust ${account} by ${amount}`, r);
    };

    while (Date.now() < deadline && report.failures.length === 0) {
      try {
        await step();
      } catch (err) {
        report.failures.push(`client ${id}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  const running = () => Date.now() < deadline && report.failures.length === 0;
  await Promise.all([...Array.from({ length: o.clients }, (_, i) => client(i)), grants?.resolveWhile(running)]);
  if (grants) {
    const unsettled = await grants.finish(o.servers[0] ?? '');
    if (unsettled.length > 0) report.failures.push(`grants whose expiry never settled: ${unsettled.join(', ')}`);
    report.totals.granted = grants.granted;
    report.totals.expired = grants.expired;
  }
  // Last, once nothing else writes: a write above (an expiry on record) may still cross a threshold.
  if (o.topups && report.failures.length === 0) {
    report.topups = await o.topups.settle(o.servers[0] ?? '', topupContext);
  }
  if (report.failures.length === 0 && o.feedMarker !== undefined) {
    await feedSettled(o.servers[0] ?? '', o.feedMarker);
  }
  if (report.failures.length === 0) {
    const counts = new Map([...(report.topups?.perAccount ?? [])].map(([account, c]) => [account, c.intents]));
    const topups = o.topups ? { counts, tokens: o.topups.tokens } : undefined;
    report.violations.push(...(await checkBankEvents(o.servers[0] ?? '', o.accounts, o.opening, topups)));
  }
  if (o.pools && report.failures.length === 0) {
    // A pool's own balance events follow the same rules as any account's.
    report.violations.push(...(await checkBankEvents(o.servers[0] ?? '', o.pools.pools, o.pools.opening)));
    report.pools = await o.pools.finish(o.servers[0] ?? '');
  }
  return report;
}
