import { ManualClock } from '../../src/core/clock.ts';
import { WebhookDispatcher } from '../../src/events/dispatcher.ts';
import { DEFAULT_WEBHOOK_SETTINGS } from '../../src/events/webhook-env.ts';
import { silentLogger } from '../../src/log/logger.ts';
import type { DeliveryOutcome } from '../../src/store/outbox-store.ts';
import { type Service, startService } from './browser-helpers.ts';

/** A delivery attempt's outcome as recorded, with the delivery it was for. */
export type RecordedOutcome = DeliveryOutcome & { delivery: number };

export interface WebhookService extends Service {
  /** Resolves once `count` delivery outcomes in all are recorded in the outbox, with them in order. */
  outcomes(count: number): Promise<RecordedOutcome[]>;
}

/**
 * `startService` with what `serve` runs for webhooks beside the app: a dispatcher woken by each
 * commit that records events.
 * `allowPrivate` is TOKENMETER_WEBHOOK_ALLOW_PRIVATE, so a receiver on 127.0.0.1 can be the
 * endpoint. The clock is fixed at the real time of the start: signatures verify against the
 * wall clock (a five-minute tolerance), and a failed delivery never comes due by itself, so
 * only the Retry button sends it again.
 */
export async function startWebhookService(webRoot: string, allowPrivate: boolean): Promise<WebhookService> {
  const recorded: RecordedOutcome[] = [];
  const waiting: { count: number; resolve: (all: RecordedOutcome[]) => void }[] = [];
  const clock = new ManualClock(Date.now());
  const service = await startService(webRoot, {
    clock,
    allowPrivateWebhooks: allowPrivate,
    beside: (ledger, store) => {
      const dispatcher = new WebhookDispatcher({
        outbox: store.service,
        clock,
        logger: silentLogger,
        retryBaseMs: DEFAULT_WEBHOOK_SETTINGS.retryBaseMs,
        maxAgeMs: DEFAULT_WEBHOOK_SETTINGS.maxAgeMs,
        allowPrivate,
        // How soon a retried delivery is picked up: this app's Webhooks are not told to wake it.
        pollMs: 25,
        onOutcome: (delivery, outcome) => {
          recorded.push({ ...outcome, delivery: delivery.id });
          for (const w of waiting.filter((x) => recorded.length >= x.count)) {
            waiting.splice(waiting.indexOf(w), 1);
            w.resolve([...recorded]);
          }
        },
      });
      const stopSignal = ledger.onEventsCommitted(() => dispatcher.wake());
      return {
        start: () => dispatcher.start(),
        stop: async () => {
          stopSignal();
          await dispatcher.stop();
        },
      };
    },
  });
  return {
    ...service,
    outcomes(count) {
      if (recorded.length >= count) return Promise.resolve([...recorded]);
      return new Promise((resolve) => waiting.push({ count, resolve }));
    },
  };
}
