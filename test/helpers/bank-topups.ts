// Automatic top-ups in the "bank" workload (bank-workload.ts). Some accounts save a card through
// a real test checkout (an ordinary acknowledged purchase) and turn auto top-up on; from then on
// each top-up their monthly limit allows is an effect in flight, +tokens or nothing, that no
// client's answer acknowledges: a read may show it or not (only the upper bound widens). Once the
// test's own database connection sees it succeeded it is certain for every later read, which is
// sound because the credit and the intent's status commit in one transaction. After the run the
// test waits for every intent to settle and counts what happened: the intents that succeeded, the
// provider's charges, the credits and `used_this_month` must all agree.
import type pg from 'pg';
import { type AccountBounds, eitherNoneOr } from './bank-model.ts';
import { call, type Json, num } from './server-call.ts';

/** The test card that succeeds on and off session. */
const CARD = '4242424242424242';

export interface BankTopupsOptions {
  /** A connection of the test's own to the database, for this alone: what no answer says is read there. */
  oracle: pg.Client;
  /** The accounts that get auto top-up (ones operators never take tokens from). */
  accounts: readonly string[];
  /** The package a checkout saves the card with and each top-up buys. */
  package: { id: string; tokens: number };
  /** Top up when available drops below this; the set-up spends each account down to it. */
  threshold: number;
  monthlyLimit: number;
  /** How long to wait, after the run, for every open intent to settle (default 30 s). */
  settleMs?: number;
}

/** What the workload lends the set-up and the tally. */
export interface BankTopupsContext {
  boundsOf: (account: string) => AccountBounds;
  count: (what: string) => void;
  failure: (what: string, r: { status: number; body: Json }) => void;
}

/** One account's top-ups after the run, from every source that records them. */
export interface TopupCounts {
  /** `used_this_month` as the API answers it. */
  used: number;
  /** Intents that succeeded. */
  intents: number;
  /** The test provider's succeeded off-session charges. */
  charges: number;
  /** Purchase entries whose reference is one of those charges, and their tokens. */
  credits: number;
  creditedTokens: number;
  /** Succeeded intents whose payment is no succeeded charge of the provider. */
  withoutCharge: number;
  status: string;
}

export interface TopupTally {
  perAccount: Map<string, TopupCounts>;
  /** Σ used_this_month. */
  topups: number;
  /** The tokens top-ups credited: topups × the package's tokens when all is well. */
  tokens: number;
  /** Disagreements between the sources, or intents that never settled. */
  problems: string[];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The top-ups one account may still receive: each begun as +tokens or nothing, ended when known. */
interface Pending {
  ops: { end(actual: { balance: number }): void }[];
  /** How many of `ops` are ended. */
  known: number;
}

export class BankTopups {
  private readonly o: Required<BankTopupsOptions>;
  private readonly pending = new Map<string, Pending>();
  private refreshing: Promise<void> | null = null;

  constructor(options: BankTopupsOptions) {
    this.o = { settleMs: 30_000, ...options };
  }

  /** The tokens one top-up credits. */
  get tokens(): number {
    return this.o.package.tokens;
  }

  /**
   * Before the clients start: each account buys the package with the save box ticked, turns auto
   * top-up on, and spends down to the threshold with a hold committed in full, so the run's next
   * spending on it crosses the threshold. Returns the acknowledged credits and commits it made.
   */
  async setUp(servers: readonly string[], ctx: BankTopupsContext): Promise<{ credited: number; committed: number }> {
    const made = { credited: 0, committed: 0 };
    // A failure ends the set-up: the run stops at once and the test reports it.
    const fail = (what: string, r: { status: number; body: Json }) => {
      ctx.failure(what, r);
      return made;
    };
    for (const [i, account] of this.o.accounts.entries()) {
      const server = servers[i % servers.length] ?? '';
      const bounds = ctx.boundsOf(account);
      const start = await call(server, 'POST', '/api/payment/checkout', {
        body: { account, package: this.o.package.id, save_card: true },
      });
      const checkout = start.body.checkout_id;
      if (start.status !== 200 || typeof checkout !== 'string') return fail(`card checkout for ${account}`, start);
      const credit = bounds.begin(eitherNoneOr({ balance: this.o.package.tokens }));
      const paid = await call(server, 'POST', `/pay/test/${checkout}/complete`, {
        body: { card: CARD, save_card: true },
      });
      if (paid.status !== 303) return fail(`complete ${checkout} saving the card`, paid);
      credit.end({ balance: this.o.package.tokens });
      made.credited += this.o.package.tokens;
      ctx.count('topup:card-saved');

      // From the moment auto top-up may be on, every top-up it allows may show in a read.
      const ops = Array.from({ length: this.o.monthlyLimit }, () =>
        bounds.begin(eitherNoneOr({ balance: this.o.package.tokens })),
      );
      this.pending.set(account, { ops, known: 0 });
      const settings = {
        account,
        enabled: true,
        threshold: this.o.threshold,
        package: this.o.package.id,
        monthly_limit: this.o.monthlyLimit,
      };
      const on = await call(server, 'PUT', '/api/payment/auto-topup', { as: 'admin', body: settings });
      const view = (on.body.auto_topup ?? {}) as Json;
      const card = (view.payment_method ?? {}) as Json;
      if (on.status !== 200 || view.status !== 'active' || card.last4 !== CARD.slice(-4)) {
        return fail(`enable auto top-up on ${account}`, on);
      }

      const spent = await this.spendDown(server, account, ctx);
      if (spent === null) return made;
      made.committed += spent;
    }
    return made;
  }

  /** Reserves and commits all of available above the threshold (nothing else runs yet). */
  private async spendDown(server: string, account: string, ctx: BankTopupsContext): Promise<number | null> {
    const bounds = ctx.boundsOf(account);
    const now = await call(server, 'GET', `/api/tokens/balance?account=${account}`);
    const amount = num(now.body, 'available') - this.o.threshold;
    if (now.status !== 200 || !(amount > 0)) {
      ctx.failure(`balance of ${account} before spending down`, now);
      return null;
    }
    const held = bounds.begin(eitherNoneOr({ held: amount }));
    const hold = await call(server, 'POST', '/api/tokens/reserve', {
      body: { account, amount, ttl_seconds: 3600, idempotency_key: `bank-topup-spend-${account}` },
    });
    const id = num(hold.body, 'hold_id');
    if (hold.status !== 200 || num(hold.body, 'amount') !== amount) {
      ctx.failure(`reserve ${amount} on ${account}`, hold);
      return null;
    }
    held.end({ held: amount });
    const commit = bounds.begin({ lo: { balance: -amount, held: -amount }, hi: { balance: 0, held: 0 } });
    const r = await call(server, 'POST', `/api/tokens/holds/${id}/commit`, { body: { amount } });
    if (r.status !== 200 || num(r.body, 'charged') !== amount || num(r.body, 'available') !== this.o.threshold) {
      ctx.failure(`commit ${amount} of hold ${id} on ${account}`, r);
      return null;
    }
    commit.end({ balance: -amount, held: -amount });
    ctx.count('topup:spent-down');
    return amount;
  }

  /**
   * Call before a read of `account` is sent: the top-ups the database shows succeeded become
   * certain for it and every later read (the credit and the intent's status commit together).
   */
  async beforeRead(account: string): Promise<void> {
    if (!this.pending.has(account)) return;
    // One query at a time, for every account: any answer that came before the read is sent is sound.
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    await this.refreshing;
  }

  private async refresh(): Promise<void> {
    const { rows } = await this.o.oracle.query<{ account_id: string; n: string }>(
      "SELECT account_id, count(*) AS n FROM topup_intents WHERE status = 'succeeded' GROUP BY account_id",
    );
    for (const row of rows) {
      const p = this.pending.get(row.account_id);
      if (p) this.resolve(p, Number(row.n));
    }
  }

  /** Ends the top-ups now known to have succeeded, up to `succeeded` (more than the limit allows end them all). */
  private resolve(p: Pending, succeeded: number): void {
    while (p.known < Math.min(succeeded, p.ops.length)) {
      p.ops[p.known]?.end({ balance: this.o.package.tokens });
      p.known += 1;
    }
  }

  /**
   * After the run and every other write: waits until no intent is open (pending or charging),
   * then counts each account's top-ups from the API, the intents, the provider's charges and the
   * ledger, and settles the effects still in flight (the top-ups that never happened as nothing).
   */
  async settle(server: string, ctx: BankTopupsContext): Promise<TopupTally> {
    const tally: TopupTally = { perAccount: new Map(), topups: 0, tokens: 0, problems: [] };
    const deadline = Date.now() + this.o.settleMs;
    // Polled: no notification marks an intent settled (NOTIFY announces new ones only).
    for (;;) {
      const { rows } = await this.o.oracle.query<{ account_id: string; status: string; attempt: number }>(
        "SELECT account_id, status, attempt FROM topup_intents WHERE status IN ('pending', 'charging')",
      );
      if (rows.length === 0) break;
      if (Date.now() > deadline) {
        tally.problems.push(`top-up intents still open ${this.o.settleMs} ms after the run: ${JSON.stringify(rows)}`);
        return tally;
      }
      await pause(25);
    }
    const { rows: statuses } = await this.o.oracle.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM topup_intents GROUP BY status',
    );
    for (const { status, n } of statuses) for (let i = 0; i < Number(n); i++) ctx.count(`topup:intent-${status}`);

    for (const account of this.o.accounts) {
      const r = await call(server, 'GET', `/api/payment/auto-topup?account=${account}`, { as: 'admin' });
      const view = (r.body.auto_topup ?? {}) as Json;
      const counts = {
        ...(await this.recorded(account)),
        used: num(view, 'used_this_month'),
        status: String(view.status),
      };
      tally.perAccount.set(account, counts);
      tally.topups += counts.used;
      tally.tokens += counts.creditedTokens;
      const { used, intents, charges, credits, creditedTokens, withoutCharge } = counts;
      if (r.status !== 200 || counts.status !== 'active') {
        tally.problems.push(`${account}: auto top-up answered ${r.status} ${JSON.stringify(r.body)}`);
      }
      if (!(used === intents && intents === charges && charges === credits)) {
        tally.problems.push(
          `${account}: used_this_month ${used}, succeeded intents ${intents}, charges ${charges}, credits ${credits}`,
        );
      }
      if (creditedTokens !== credits * this.o.package.tokens) {
        tally.problems.push(`${account}: ${credits} top-up credits of ${creditedTokens} tokens`);
      }
      if (withoutCharge > 0) tally.problems.push(`${account}: ${withoutCharge} succeeded intents without a charge`);
      if (intents > this.o.monthlyLimit) {
        tally.problems.push(`${account}: ${intents} top-ups, over the monthly limit of ${this.o.monthlyLimit}`);
      }
      const p = this.pending.get(account);
      if (p) {
        this.resolve(p, intents);
        for (const op of p.ops.slice(p.known)) op.end({ balance: 0 });
        p.known = p.ops.length;
      }
    }
    return tally;
  }

  /** One account's top-ups as the database holds them. */
  private async recorded(account: string): Promise<Omit<TopupCounts, 'used' | 'status'>> {
    const { rows } = await this.o.oracle.query<Record<string, string>>(
      `SELECT
         (SELECT count(*) FROM topup_intents WHERE account_id = $1 AND status = 'succeeded') AS intents,
         (SELECT count(*) FROM test_charges WHERE account_id = $1 AND status = 'succeeded') AS charges,
         (SELECT count(*) FROM topup_intents i
           WHERE i.account_id = $1 AND i.status = 'succeeded' AND NOT EXISTS (
             SELECT 1 FROM test_charges c
              WHERE c.payment_id = i.payment_id AND c.account_id = $1 AND c.status = 'succeeded')) AS without_charge,
         (SELECT count(*) FROM ledger_entries e JOIN test_charges c ON c.payment_id = e.reference
           WHERE e.account_id = $1 AND e.kind = 'purchase' AND c.status = 'succeeded') AS credits,
         (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e JOIN test_charges c ON c.payment_id = e.reference
           WHERE e.account_id = $1 AND e.kind = 'purchase' AND c.status = 'succeeded') AS credited`,
      [account],
    );
    const row = rows[0] ?? {};
    return {
      intents: Number(row.intents),
      charges: Number(row.charges),
      withoutCharge: Number(row.without_charge),
      credits: Number(row.credits),
      creditedTokens: Number(row.credited),
    };
  }
}
