import { randomUUID } from 'node:crypto';
import { requireAccountId } from '../../core/account-id.ts';
import { availableOf } from '../../core/account-state.ts';
import {
  type AutoTopupRequest,
  type AutoTopupSettings,
  armsBelowThreshold,
  attemptKey,
  decideIntent,
  monthName,
  monthStart,
  settingsAfterRequest,
  type TopupStatus,
  validateTopupRequest,
} from '../../core/auto-topup.ts';
import { findPlan, planLowBalanceThreshold, type TokenPackage } from '../../core/catalog.ts';
import { TokenmeterError } from '../../core/errors.ts';
import { chargeOfPackage, packageOfCharge, type TopupCharge } from '../../core/topup-charge.ts';
import type { SavedMethod } from '../../payments/payment-provider.ts';
import type { WriteTx } from '../../store/store.ts';
import type { TopupIntent } from '../../store/topup-tx.ts';
import type { LedgerContext } from '../context.ts';
import type { PaymentLedger } from '../payments/payment-ledger.ts';
import { WorkingAccount } from '../working-account.ts';

export type { TopupIntent } from '../../store/topup-tx.ts';

/** An account's auto top-up as every surface shows it. */
export interface AutoTopupView {
  account: string;
  enabled: boolean;
  threshold: number;
  packageId: string;
  monthlyLimit: number;
  /** Successful automatic top-ups this calendar month (UTC); checkouts never count. */
  usedThisMonth: number;
  status: TopupStatus;
  paymentMethod: { brand: string; last4: string } | null;
  lastError: string | null;
}

/** One attempt the worker is to make: what to charge, to which card, under which key. */
export interface TopupAttempt {
  intent: number;
  account: string;
  attempt: number;
  idempotencyKey: string;
  method: SavedMethod;
  package: TokenPackage;
  /** Stored by an earlier run of this attempt: the provider is asked about it, not charged anew. */
  paymentId: string | null;
  claim: string;
}

/** Monthly cap of a never-configured account's defaults. */
const DEFAULT_MONTHLY_LIMIT = 3;

/**
 * Automatic top-up on the ledger: settings (`get`, `put`), and the steps the background worker
 * takes for each intent the database recorded (claim, decide under the account's lock, remember
 * the provider's payment, settle through the payment event path).
 *
 * @example
 * await ledger.autoTopup.put({ account: '7', enabled: true, threshold: 50, packageId: 'tokens_500', monthlyLimit: 5 });
 */
export class AutoTopupLedger {
  private readonly ctx: LedgerContext;
  private readonly payments: PaymentLedger;

  constructor(ctx: LedgerContext, payments: PaymentLedger) {
    this.ctx = ctx;
    this.payments = payments;
  }

  /** The account's settings and state; never-configured accounts show the defaults, off. */
  async get(account: string): Promise<AutoTopupView> {
    const id = requireAccountId(account);
    return this.ctx.store.write((tx) => this.view(tx, id));
  }

  /**
   * Saves settings. Enabling needs a saved card (409 `payment_method_required`); enabling, or
   * re-enabling a suspended one, while available is already below the threshold records an
   * intent at once. Settings work at any balance.
   */
  async put(request: AutoTopupRequest): Promise<AutoTopupView> {
    const account = requireAccountId(request.account);
    const pkg = this.ctx.catalog.packages.get(request.packageId);
    if (pkg?.kind !== 'topup') {
      throw new TokenmeterError('invalid_request', `Unknown top-up package "${request.packageId}"`, 'package');
    }
    validateTopupRequest(request);
    return this.ctx.store.write(async (tx) => {
      const now = this.ctx.clock.now();
      const method = await tx.topups.savedMethod(account);
      if (request.enabled && !method) {
        throw new TokenmeterError(
          'payment_method_required',
          'Save a card with a top-up purchase (tick "save this card") before enabling automatic top-up',
        );
      }
      const working = await WorkingAccount.load(tx, account, this.ctx.catalog, now);
      if (working.changed) await working.flush(tx, 'no_overdraft');
      const before = await tx.topups.settings(account);
      const after = settingsAfterRequest(before, { ...request, account }, now);
      await tx.topups.saveSettings(after);
      if (armsBelowThreshold(before, after, availableOf(working.state))) await tx.topups.insertIntent(account, now);
      this.ctx.logger.info({ account, enabled: after.enabled, status: after.status }, 'auto top-up settings');
      return this.view(tx, account);
    });
  }

  /** The account's intents, newest first (for operators and tests). */
  intents(account: string, limit = 50): Promise<TopupIntent[]> {
    const id = requireAccountId(account);
    return this.ctx.store.write((tx) => tx.topups.intents(id, limit));
  }

  /** Claims open intents due now for one worker round; a claim lasts `leaseMs`. */
  claimDue(limit: number, leaseMs: number): Promise<TopupIntent[]> {
    const now = this.ctx.clock.now();
    return this.ctx.store.write((tx) => tx.topups.claimDue(now, now + leaseMs, randomUUID(), limit));
  }

  /** When the earliest open intent falls due, or null. */
  nextDue(): Promise<number | null> {
    return this.ctx.store.write((tx) => tx.topups.nextDue());
  }

  /**
   * Decides a claimed intent under its account's lock, against the account and settings as they
   * are now: cancelled (turned off, suspended, available back up, no card), refused by the
   * monthly cap (`topup.limit_reached`, once a month), or an attempt to make (a new one with a
   * new key, or the one under way, whose payment may already exist). Null: nothing to charge.
   */
  async begin(claimed: TopupIntent): Promise<TopupAttempt | null> {
    return this.ctx.store.write(async (tx) => {
      const now = this.ctx.clock.now();
      const working = await WorkingAccount.load(tx, claimed.account, this.ctx.catalog, now);
      const intent = await tx.topups.intent(claimed.id);
      // Another worker's claim replaced ours after our lease ran out, or it settled meanwhile.
      if (!intent || intent.claim !== claimed.claim || (intent.status !== 'pending' && intent.status !== 'charging')) {
        return null;
      }
      const settings = await tx.topups.settings(intent.account);
      const method = await tx.topups.savedMethod(intent.account);
      const decision = decideIntent({
        settings,
        available: availableOf(working.state),
        succeededThisMonth: await tx.topups.succeededSince(intent.account, monthStart(now)),
        hasMethod: method !== undefined,
        inFlight: intent.status === 'charging',
      });
      let attempt: TopupAttempt | null = null;
      if (decision.kind === 'cancel') {
        await this.close(tx, intent, 'cancelled', decision.reason, now);
      } else if (decision.kind === 'limit' && settings) {
        await this.close(tx, intent, 'limited', 'monthly_limit', now);
        const month = monthName(now);
        working.emit(
          'topup.limit_reached',
          { account: intent.account, monthly_limit: settings.monthlyLimit, month },
          `topup.limit_reached:${intent.account}:${month}`,
        );
      } else if (settings && method) {
        attempt = await this.startAttempt(tx, intent, settings, method, now);
      }
      if (working.changed) await working.flush(tx, 'no_overdraft');
      return attempt;
    });
  }

  /** Stores the provider's payment id of an attempt before it is confirmed, so a crash after it is recovered by id. */
  async remember(attempt: TopupAttempt, paymentId: string): Promise<void> {
    const now = this.ctx.clock.now();
    const stored = await this.ctx.store.write((tx) =>
      tx.topups.updateIntent(
        attempt.intent,
        { paymentId, provider: attempt.method.provider, updatedAt: now },
        { status: 'charging', attempt: attempt.attempt },
      ),
    );
    if (!stored) throw new Error(`top-up intent ${attempt.intent} is no longer charging attempt ${attempt.attempt}`);
  }

  /** The provider answered: the payment applied (credited once) or the decline recorded, through the payment event path. */
  async succeeded(attempt: TopupAttempt, paymentId: string, amount: number, currency: string): Promise<void> {
    await this.payments.applyEvent({
      provider: attempt.method.provider,
      eventId: `topup-${attempt.intent}-${attempt.attempt}-succeeded`,
      eventType: 'topup.charge_succeeded',
      command: {
        type: 'topup_paid',
        paymentId,
        intent: attempt.intent,
        attempt: attempt.attempt,
        account: attempt.account,
        packageId: attempt.package.id,
        amount,
        currency,
      },
    });
  }

  async failed(attempt: TopupAttempt, paymentId: string | null, reason: string): Promise<void> {
    await this.payments.applyEvent({
      provider: attempt.method.provider,
      eventId: `topup-${attempt.intent}-${attempt.attempt}-failed`,
      eventType: 'topup.charge_failed',
      command: { type: 'topup_failed', paymentId, intent: attempt.intent, attempt: attempt.attempt, reason },
    });
  }

  /**
   * The outcome is not known yet (the provider is processing it, or could not be reached): the
   * attempt stays under way and is asked about again `afterMs` from now, under the same key.
   */
  async later(attempt: TopupAttempt, afterMs: number): Promise<void> {
    const now = this.ctx.clock.now();
    await this.ctx.store.write((tx) =>
      tx.topups.updateIntent(
        attempt.intent,
        { claim: null, nextAttemptAt: now + afterMs, updatedAt: now },
        { status: 'charging', attempt: attempt.attempt },
      ),
    );
  }

  /**
   * A new attempt charges the package the settings name now, fixed on the intent in the update
   * that starts it; an attempt under way charges what it started with, whatever the settings say
   * since (its payment may exist at that price). One started before its charge was recorded
   * (migration 20) takes the settings' package, and the payment rules check its credit by price.
   */
  private async startAttempt(
    tx: WriteTx,
    intent: TopupIntent,
    settings: AutoTopupSettings,
    method: NonNullable<Awaited<ReturnType<WriteTx['topups']['savedMethod']>>>,
    now: number,
  ): Promise<TopupAttempt | null> {
    const fresh = intent.status === 'pending';
    const charge = (!fresh && intent.charge) || this.chargeOfSettings(settings);
    if (!charge) {
      await this.close(tx, intent, 'cancelled', 'unknown_package', now);
      return null;
    }
    const attempt = fresh ? intent.attempt + 1 : intent.attempt;
    if (fresh) {
      const started = await tx.topups.updateIntent(
        intent.id,
        {
          status: 'charging',
          attempt,
          provider: method.provider,
          paymentId: null,
          charge,
          error: null,
          updatedAt: now,
        },
        { status: 'pending', attempt: intent.attempt },
      );
      if (!started) return null;
    }
    return {
      intent: intent.id,
      account: intent.account,
      attempt,
      idempotencyKey: attemptKey(intent, attempt),
      method: {
        provider: fresh ? method.provider : (intent.provider ?? method.provider),
        methodId: method.methodId,
        brand: method.brand,
        last4: method.last4,
      },
      package: packageOfCharge(charge, this.ctx.catalog.packages.get(charge.packageId)),
      paymentId: fresh ? null : intent.paymentId,
      claim: intent.claim ?? '',
    };
  }

  /** The settings' top-up package at its price now; null when the config has no such top-up package. */
  private chargeOfSettings(settings: AutoTopupSettings): TopupCharge | null {
    const pkg = this.ctx.catalog.packages.get(settings.packageId);
    return pkg?.kind === 'topup' ? chargeOfPackage(pkg) : null;
  }

  private async close(
    tx: WriteTx,
    intent: TopupIntent,
    status: 'cancelled' | 'limited',
    reason: string,
    now: number,
  ): Promise<void> {
    await tx.topups.updateIntent(
      intent.id,
      { status, claim: null, nextAttemptAt: null, error: reason, settledAt: now, updatedAt: now },
      { status: intent.status, attempt: intent.attempt },
    );
  }

  private async view(tx: WriteTx, account: string): Promise<AutoTopupView> {
    const now = this.ctx.clock.now();
    const settings = await tx.topups.settings(account);
    const method = await tx.topups.savedMethod(account);
    const used = settings ? await tx.topups.succeededSince(account, monthStart(now)) : 0;
    const defaults = settings ?? (await this.defaults(tx, account, now));
    return {
      account,
      enabled: defaults.enabled,
      threshold: defaults.threshold,
      packageId: defaults.packageId,
      monthlyLimit: defaults.monthlyLimit,
      usedThisMonth: used,
      status: defaults.status,
      paymentMethod: method ? { brand: method.brand, last4: method.last4 } : null,
      lastError: defaults.lastError,
    };
  }

  /** Off, at the plan's low-balance threshold, buying the first top-up package. */
  private async defaults(tx: WriteTx, account: string, now: number): Promise<AutoTopupSettings> {
    const stored = await tx.lockAccount(account);
    const plan = findPlan(this.ctx.catalog, stored?.plan ?? this.ctx.catalog.defaultPlan);
    const first = [...this.ctx.catalog.packages.values()].find((p) => p.kind === 'topup');
    return {
      account,
      enabled: false,
      threshold: planLowBalanceThreshold(plan),
      packageId: first?.id ?? '',
      monthlyLimit: DEFAULT_MONTHLY_LIMIT,
      status: 'off',
      failures: 0,
      lastError: null,
      updatedAt: now,
    };
  }
}
