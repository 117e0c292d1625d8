// Promotional grants in the "bank" workload (bank-workload.ts): clients grant tokens that expire
// a moment later, during the run. A grant's tokens are an acknowledged +T; its expiry is an
// effect of its own, somewhere in [−T, 0] (whatever was still left at the instant it expired),
// in flight from the moment the grant was asked for until the test learns how much expired.
// No answer says that amount, so `ExpiredTokens` reads it from the database; until then a read
// may show any part of the expiry, as it may show any part of an operation in flight.
import { type AccountBounds, eitherNoneOr } from './bank-model.ts';
import { call, type Json, num } from './server-call.ts';

/**
 * How many tokens grant `id` lost when it expired, once that is settled: null while it is not
 * (the expiry still waits for its account's next write). Asked only after the expiry time.
 */
export type ExpiredTokens = (grant: { id: number; account: string }) => Promise<number | null>;

interface PendingExpiry {
  id: number;
  account: string;
  at: number;
  end(actual: { balance: number }): void;
}

interface Made {
  account: string;
  body: Json;
  id: number;
  at: number;
}

export interface BankGrantsOptions {
  expiredTokens: ExpiredTokens;
  boundsOf: (account: string) => AccountBounds;
  count: (what: string) => void;
  failure: (what: string, r: { status: number; body: Json }) => void;
}

/** Asks about an expiry only once its time has surely come for the servers too (same machine, same clock). */
const MARGIN_MS = 50;

/**
 * A grant answered as of the instant of the answer: all its tokens while in effect, nothing once
 * expired (under load the answer may come after the expiry).
 */
function shownAsOf(grant: Json, tokens: number, at: number | null): boolean {
  if (grant.status === 'active') return grant.remaining === tokens;
  return grant.status === 'expired' && grant.remaining === 0 && at !== null && Date.now() >= at;
}

/** A refusal of an expiry already past, which the server may give only once that time has come. */
function pastWhenAnswered(r: { status: number; body: Json }, at: number): boolean {
  return (
    r.status === 400 &&
    r.body.code === 'invalid_request' &&
    String(r.body.error).includes('expires_at') &&
    Date.now() >= at
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class BankGrants {
  granted = 0;
  expired = 0;
  private readonly pending: PendingExpiry[] = [];
  /** Per account: every token granted with an expiry, the most expiries can ever have taken. */
  private readonly expiring = new Map<string, number>();
  private readonly made: Made[] = [];

  private readonly options: BankGrantsOptions;

  constructor(options: BankGrantsOptions) {
    this.options = options;
  }

  /** How far expiries may have taken the account's available balance below zero (a hold outlives them). */
  mayExpire(account: string): number {
    return this.expiring.get(account) ?? 0;
  }

  /**
   * Promotional tokens expiring 0.3–2.5 s from now, at a random priority or the default; now and
   * then instead a replay of an earlier grant, which must answer with that grant and change nothing.
   */
  async step(server: string, account: string, key: string, int: (lo: number, hi: number) => number): Promise<void> {
    // Replays only well before the expiry: after it, the same request is bad input (already past).
    const replayable = this.made.filter((m) => m.at > Date.now() + 1000);
    if (replayable.length > 0 && int(0, 4) === 0) {
      return this.replay(server, replayable[int(0, replayable.length - 1)] as Made);
    }
    const tokens = int(5, 20);
    const at = Date.now() + int(300, 2500);
    const priority = int(-20, 100);
    const body: Json = {
      tokens,
      category: 'promotional',
      expires_at: new Date(at).toISOString(),
      reason: 'bank promotion',
      reference: key,
      ...(priority < 0 ? {} : { priority }),
    };
    return this.grant(server, account, body, at);
  }

  /** Sends one grant of `body` (expiring at `at`, or never when null) and records its effects. */
  async grant(server: string, account: string, body: Json, at: number | null): Promise<void> {
    const bounds = this.options.boundsOf(account);
    const tokens = num(body, 'tokens');
    const grantOp = bounds.begin(eitherNoneOr({ balance: tokens }));
    // The expiry may show in any read from now on: begun with the grant, resolved once known.
    const expiryOp =
      at === null ? null : bounds.begin({ lo: { balance: -tokens, held: 0 }, hi: { balance: 0, held: 0 } });
    if (at !== null) this.expiring.set(account, this.mayExpire(account) + tokens);
    const r = await call(server, 'POST', `/api/admin/accounts/${account}/grants`, { as: 'admin', body });
    const grant = (r.body.grant ?? {}) as Json;
    if (r.status !== 201 || num(grant, 'tokens') !== tokens || !shownAsOf(grant, tokens, at)) {
      grantOp.end({});
      expiryOp?.end({});
      if (at !== null && pastWhenAnswered(r, at)) return this.options.count('grant:refused-past');
      return this.options.failure(`grant of ${tokens} to ${account}`, r);
    }
    grantOp.end({ balance: tokens });
    this.granted += tokens;
    const id = num(grant, 'id');
    if (expiryOp && at !== null) {
      this.pending.push({ id, account, at, end: (actual) => expiryOp.end(actual) });
      this.made.push({ account, body, id, at });
    }
    this.options.count('grant:granted');
  }

  private async replay(server: string, prior: Made): Promise<void> {
    const op = this.options.boundsOf(prior.account).begin(eitherNoneOr({}));
    const r = await call(server, 'POST', `/api/admin/accounts/${prior.account}/grants`, {
      as: 'admin',
      body: prior.body,
    });
    op.end({});
    const grant = (r.body.grant ?? {}) as Json;
    if (r.status === 201 && num(grant, 'id') === prior.id) return this.options.count('grant:replayed');
    if (pastWhenAnswered(r, prior.at)) return this.options.count('grant:replay-refused-past');
    return this.options.failure(`replay of grant ${prior.id}`, r);
  }

  /** Resolves every expiry that is due and settled; the rest stay in flight. */
  async resolve(): Promise<void> {
    const due = this.pending.filter((p) => p.at + MARGIN_MS < Date.now());
    for (const p of due) {
      const expired = await this.options.expiredTokens({ id: p.id, account: p.account });
      if (expired === null) continue;
      p.end({ balance: -expired });
      this.expired += expired;
      this.pending.splice(this.pending.indexOf(p), 1);
      this.options.count(expired > 0 ? 'grant:expired' : 'grant:expired-used-up');
    }
  }

  /** Resolves expiries every 100 ms while `running()`. */
  async resolveWhile(running: () => boolean): Promise<void> {
    while (running()) {
      await this.resolve();
      await sleep(100);
    }
  }

  /**
   * After the run: waits until every grant has expired, then gives each account still owing an
   * expiry one more (never-expiring) token, a write that records what is due on it, and resolves
   * every expiry. Returns the grants whose expiry never settled.
   */
  async finish(server: string): Promise<number[]> {
    const last = Math.max(0, ...this.pending.map((p) => p.at));
    if (last + MARGIN_MS >= Date.now()) await sleep(last + MARGIN_MS + 1 - Date.now());
    await this.resolve();
    for (const account of new Set(this.pending.map((p) => p.account))) {
      await this.grant(
        server,
        account,
        { tokens: 1, category: 'promotional', reason: 'bank: the expiries on record' },
        null,
      );
    }
    for (let i = 0; i < 50 && this.pending.length > 0; i++) {
      await this.resolve();
      if (this.pending.length > 0) await sleep(100);
    }
    return this.pending.map((p) => p.id);
  }
}
