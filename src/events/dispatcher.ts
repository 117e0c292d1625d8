import type { Clock } from '../core/clock.ts';
import { nextAttemptAt } from '../core/webhook-retry.ts';
import type { Logger } from '../log/logger.ts';
import type { ClaimedDelivery, DeliveryOutcome, OutboxStore } from '../store/outbox-store.ts';
import { sendWebhook, type WebhookSendResult } from './webhook-sender.ts';
import { signWebhook } from './webhook-signer.ts';
import { WokenLoop } from './woken-loop.ts';

export interface DispatcherOptions {
  outbox: OutboxStore;
  clock: Clock;
  logger: Logger;
  /** First retry delay; doubles up to an hour (`TOKENMETER_WEBHOOK_RETRY_BASE_MS`, default 5,000). */
  retryBaseMs: number;
  /** Retries stop this long after the event (`TOKENMETER_WEBHOOK_MAX_AGE_S`, default 3 days). */
  maxAgeMs: number;
  /** `TOKENMETER_WEBHOOK_ALLOW_PRIVATE`. */
  allowPrivate: boolean;
  /** How long a receiver has to answer 2xx (10 s). */
  timeoutMs?: number;
  /** Sends at once, over all endpoints. */
  concurrency?: number;
  /** Sends at once to one endpoint: a slow one holds no more than these, never the others' turn. */
  perEndpoint?: number;
  /** How often to look for work another process committed (events it wrote, retries it freed). */
  pollMs?: number;
  /** Told each outcome once it is recorded (metrics, tests). */
  onOutcome?: (delivery: ClaimedDelivery, outcome: DeliveryOutcome) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** A claim outlives the send's timeout: a delivery whose sender died is due again after it. */
const LEASE_MARGIN_MS = 20_000;

/**
 * Sends what the outbox holds. Nothing sets its pace but work: `wake()` (called when this
 * process commits events) runs it at once; otherwise it sleeps until the next delivery is due,
 * or `pollMs` for what other processes commit. Each claimed delivery is sent on its own, so a
 * slow or dead endpoint holds only its own sends, never the API or other endpoints' deliveries.
 */
export class WebhookDispatcher {
  private readonly o: Required<Omit<DispatcherOptions, 'onOutcome'>> & Pick<DispatcherOptions, 'onOutcome'>;
  private inFlight = 0;
  /** Sends in flight per endpoint. */
  private readonly busy = new Map<string, number>();
  private readonly loop: WokenLoop;
  private readonly sends = new Set<Promise<void>>();
  private readonly outcomes: { delivery: ClaimedDelivery; outcome: DeliveryOutcome; resolve: () => void }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(options: DispatcherOptions) {
    this.o = { timeoutMs: DEFAULT_TIMEOUT_MS, concurrency: 32, perEndpoint: 4, pollMs: 1000, ...options };
    this.loop = new WokenLoop({ round: () => this.round(), clock: this.o.clock, pollMs: this.o.pollMs });
  }

  start(): void {
    this.loop.wake();
  }

  /** Looks for due deliveries now. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops claiming; waits for the sends in flight (each bounded by the timeout). */
  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.allSettled([...this.sends]);
  }

  /** Claims and starts what is due; resolves with when the next delivery falls due (null: poll). */
  private async round(): Promise<number | null> {
    const free = this.o.concurrency - this.inFlight;
    // A claim is a write: made for several free slots at a time, unless nothing is in flight;
    // until then the sends in flight wake the dispatcher as they finish.
    if (this.inFlight > 0 && free < Math.ceil(this.o.concurrency / 4)) return null;
    try {
      const now = this.o.clock.now();
      // Endpoints with all their slots taken are not claimed for; a claim that brings more for
      // one endpoint than it has slots gives the rest back at once, untried.
      const full = [...this.busy].filter(([, n]) => n >= this.o.perEndpoint).map(([id]) => id);
      const claimed = await this.o.outbox.claimDeliveries(now, now + this.o.timeoutMs + LEASE_MARGIN_MS, free, full);
      const back: ClaimedDelivery[] = [];
      for (const d of claimed) {
        if ((this.busy.get(d.endpointId) ?? 0) >= this.o.perEndpoint) back.push(d);
        else this.track(d.endpointId, this.deliver(d));
      }
      if (back.length > 0) await this.o.outbox.releaseDeliveries(back, now);
      // A full claim may have left more behind.
      if (claimed.length === free && back.length === 0) this.loop.more();
      // What is due for a full endpoint waits for one of its sends to finish (which wakes this).
      return full.length > 0 || back.length > 0 ? null : await this.o.outbox.nextDeliveryAt();
    } catch (err) {
      this.o.logger.error({ err }, 'webhook dispatcher: could not read the outbox; trying again shortly');
      return null;
    }
  }

  private track(endpoint: string, send: Promise<void>): void {
    this.inFlight += 1;
    this.busy.set(endpoint, (this.busy.get(endpoint) ?? 0) + 1);
    this.sends.add(send);
    void send.finally(() => {
      this.inFlight -= 1;
      const left = (this.busy.get(endpoint) ?? 1) - 1;
      if (left === 0) this.busy.delete(endpoint);
      else this.busy.set(endpoint, left);
      this.sends.delete(send);
      this.wake();
    });
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const body = JSON.stringify(d.event);
    const headers = signWebhook(d.secret, d.event.id, new Date(this.o.clock.now()), body);
    let result: WebhookSendResult;
    try {
      result = await sendWebhook({
        url: d.url,
        body,
        headers: { ...headers },
        timeoutMs: this.o.timeoutMs,
        allowPrivate: this.o.allowPrivate,
      });
    } catch (err) {
      result = { delivered: false, status: null, error: err instanceof Error ? err.message : String(err) };
    }
    const now = this.o.clock.now();
    const outcome: DeliveryOutcome = result.delivered
      ? { status: 'delivered', responseStatus: result.status, error: null, nextAttemptAt: null, deliveredAt: now }
      : this.retryOutcome(d, result, now);
    await this.record(d, outcome);
  }

  /**
   * Outcomes are recorded together: those that arrive while one write runs go in the next, so
   * a busy dispatcher writes (and syncs) once per many deliveries, not once per delivery.
   */
  private record(delivery: ClaimedDelivery, outcome: DeliveryOutcome): Promise<void> {
    return new Promise((resolve) => {
      this.outcomes.push({ delivery, outcome, resolve });
      this.flushing ??= this.flushOutcomes().finally(() => {
        this.flushing = null;
      });
    });
  }

  private async flushOutcomes(): Promise<void> {
    while (this.outcomes.length > 0) {
      const batch = this.outcomes.splice(0);
      try {
        await this.o.outbox.finishDeliveries(
          batch.map(({ delivery, outcome }) => ({ id: delivery.id, claim: delivery.claim, outcome })),
        );
        for (const { delivery, outcome } of batch) this.o.onOutcome?.(delivery, outcome);
      } catch (err) {
        // Their claims' leases run out and they are due again: sent twice at worst, never lost.
        this.o.logger.error({ err, deliveries: batch.length }, 'webhook dispatcher: could not record outcomes');
      }
      for (const { resolve } of batch) resolve();
    }
  }

  private retryOutcome(d: ClaimedDelivery, result: WebhookSendResult, now: number): DeliveryOutcome {
    const next = nextAttemptAt({
      attempts: d.attempts + 1,
      createdAt: d.recordedAt,
      now,
      baseMs: this.o.retryBaseMs,
      maxAgeMs: this.o.maxAgeMs,
      random: Math.random(),
    });
    return {
      status: next === null ? 'failed' : 'pending',
      responseStatus: result.status,
      error: result.error,
      nextAttemptAt: next,
      deliveredAt: null,
    };
  }
}
