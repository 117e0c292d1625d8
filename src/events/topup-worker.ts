import type { Clock } from '../core/clock.ts';
import type { AutoTopupLedger, TopupAttempt, TopupIntent } from '../ledger/topup/auto-topup-ledger.ts';
import type { Logger } from '../log/logger.ts';
import type { OffSessionResult, PaymentProvider } from '../payments/payment-provider.ts';
import { WokenLoop } from './woken-loop.ts';

export interface TopupWorkerOptions {
  autoTopup: AutoTopupLedger;
  /** The provider that holds a saved card (`stripe`, `test`); null when it is not configured here. */
  provider(name: string): PaymentProvider | null;
  clock: Clock;
  logger: Logger;
  /** How long a claim on an intent lasts: a worker that died leaves it due again after this (`TOKENMETER_TOPUP_LEASE_S`). */
  leaseMs: number;
  /** When an outcome is unknown (the provider unreachable, still processing), ask again after this. */
  recheckMs: number;
  /** How often to look for intents another process recorded, besides being woken (SQLite has no NOTIFY). */
  pollMs?: number;
  /** Intents worked on at once. */
  concurrency?: number;
}

/**
 * Charges what the database recorded as top-up intents. Woken by the commit that records one
 * (`wake()`, and PostgreSQL's NOTIFY from other processes), it claims due intents, has the
 * ledger decide each under its account's lock, charges the saved card off session under an
 * idempotency key derived from the intent and attempt, and hands the answer back to the ledger,
 * which credits once through the payment event path. It decides no money rule itself. A crash
 * anywhere leaves the intent claimed until the lease ends; the next run asks the provider again
 * with the same key, or by the payment id stored before the charge was confirmed.
 */
export class TopupWorker {
  private readonly o: Required<TopupWorkerOptions>;
  private readonly loop: WokenLoop;

  constructor(options: TopupWorkerOptions) {
    this.o = { pollMs: 5_000, concurrency: 8, ...options };
    this.loop = new WokenLoop({ round: () => this.round(), clock: this.o.clock, pollMs: this.o.pollMs });
  }

  start(): void {
    this.loop.wake();
  }

  /** Looks for due intents now. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops claiming and waits for the round in flight. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Works the intents due now; resolves with when the next one falls due. */
  private async round(): Promise<number | null> {
    try {
      const claimed = await this.o.autoTopup.claimDue(this.o.concurrency, this.o.leaseMs);
      await Promise.all(claimed.map((intent) => this.work(intent)));
      if (claimed.length === this.o.concurrency) this.loop.more();
      return await this.o.autoTopup.nextDue();
    } catch (err) {
      this.o.logger.error({ err }, 'auto top-up: could not read the intents; trying again shortly');
      return null;
    }
  }

  private async work(intent: TopupIntent): Promise<void> {
    let attempt: TopupAttempt | null = null;
    try {
      attempt = await this.o.autoTopup.begin(intent);
      if (!attempt) return;
      const provider = this.o.provider(attempt.method.provider);
      if (!provider) {
        this.o.logger.error(
          { intent: intent.id, provider: attempt.method.provider },
          'auto top-up: provider not configured',
        );
        // Nothing was sent for this attempt: a decline (the card cannot be charged here). One
        // whose payment may exist at the provider is asked about once it is configured again.
        if (attempt.paymentId === null) await this.o.autoTopup.failed(attempt, null, 'provider_unavailable');
        else await this.o.autoTopup.later(attempt, this.o.recheckMs);
        return;
      }
      const current = attempt;
      const result = await provider.chargeOffSession({
        account: current.account,
        intent: current.intent,
        attempt: current.attempt,
        idempotencyKey: current.idempotencyKey,
        method: current.method,
        package: current.package,
        paymentId: current.paymentId,
        remember: (paymentId) => this.o.autoTopup.remember(current, paymentId),
      });
      await this.settle(current, result);
    } catch (err) {
      // The outcome is unknown: the attempt stays under way and is asked about again under its key.
      this.o.logger.warn({ err, intent: intent.id }, 'auto top-up: charge outcome unknown; asking again later');
      if (attempt) {
        await this.o.autoTopup.later(attempt, this.o.recheckMs).catch(() => {});
      }
    }
  }

  private async settle(attempt: TopupAttempt, result: OffSessionResult): Promise<void> {
    const log = { intent: attempt.intent, account: attempt.account, attempt: attempt.attempt };
    if (result.status === 'succeeded') {
      await this.o.autoTopup.succeeded(attempt, result.paymentId, result.amount, result.currency);
      this.o.logger.info({ ...log, payment: result.paymentId }, 'auto top-up succeeded');
    } else if (result.status === 'failed') {
      await this.o.autoTopup.failed(attempt, result.paymentId, result.reason);
      this.o.logger.warn({ ...log, reason: result.reason }, 'auto top-up declined');
    } else {
      await this.o.autoTopup.later(attempt, this.o.recheckMs);
    }
  }
}
