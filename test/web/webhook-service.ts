import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyService } from '../../src/auth/key-service.ts';
import { SessionService } from '../../src/auth/session-service.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { WebhookDispatcher } from '../../src/events/dispatcher.ts';
import { DEFAULT_WEBHOOK_SETTINGS } from '../../src/events/webhook-env.ts';
import { buildApp } from '../../src/http/build-app.ts';
import { DEFAULT_HTTP_OPTIONS } from '../../src/http/options.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { paymentsFromEnv } from '../../src/payments/payments.ts';
import type { DeliveryOutcome } from '../../src/store/outbox-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { catalog } from '../helpers/ledger.ts';
import { ADMIN_KEY, APP_KEY } from '../http/http-helpers.ts';
import type { Service } from './browser-helpers.ts';

/** A delivery attempt's outcome as recorded, with the delivery it was for. */
export type RecordedOutcome = DeliveryOutcome & { delivery: number };

export interface WebhookService extends Service {
  /** Resolves once `count` delivery outcomes in all are recorded in the outbox, with them in order. */
  outcomes(count: number): Promise<RecordedOutcome[]>;
}

/**
 * The service as `serve` wires it for webhooks (browser-helpers' `startService` has no
 * dispatcher and no way to allow private addresses): a dispatcher woken by each commit that
 * records events, over a fresh SQLite file, on a real loopback port, serving `webRoot`.
 * `allowPrivate` is TOKENMETER_WEBHOOK_ALLOW_PRIVATE, so a receiver on 127.0.0.1 can be the
 * endpoint. The clock is fixed at the real time of the start: signatures verify against the
 * wall clock (a five-minute tolerance), and a failed delivery never comes due by itself, so
 * only the Retry button sends it again.
 */
export async function startWebhookService(webRoot: string, allowPrivate: boolean): Promise<WebhookService> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-web-hooks-'));
  const store = new SqliteStore({ path: join(dir, 'tokens.db') });
  await store.migrate();
  const clock = new ManualClock(Date.now());
  const ledger = new TokenLedger({ store, catalog, clock });
  const sessions = new SessionService({ store: store.service, clock });
  const recorded: RecordedOutcome[] = [];
  const waiting: { count: number; resolve: (all: RecordedOutcome[]) => void }[] = [];
  const dispatcher = new WebhookDispatcher({
    outbox: store.service,
    clock,
    logger: silentLogger,
    retryBaseMs: DEFAULT_WEBHOOK_SETTINGS.retryBaseMs,
    maxAgeMs: DEFAULT_WEBHOOK_SETTINGS.maxAgeMs,
    allowPrivate,
    // How soon a retried delivery is picked up: nothing wakes the dispatcher for a retry.
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
  const app = await buildApp({
    ledger,
    keys: new KeyService({ store: store.service, bootstrap: { app: APP_KEY, admin: ADMIN_KEY } }),
    sessions,
    clock,
    logger: silentLogger,
    options: { ...DEFAULT_HTTP_OPTIONS, demo: true, webRoot, allowPrivateWebhooks: allowPrivate },
    payments: await paymentsFromEnv({}, ledger, true),
  });
  dispatcher.start();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    ledger,
    call({ as = 'app', ...options }) {
      const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
      headers.authorization = `Bearer ${as === 'app' ? APP_KEY : as === 'admin' ? ADMIN_KEY : as.token}`;
      return app.inject({ ...options, headers });
    },
    async userToken(account) {
      return (await sessions.issue(account)).token;
    },
    outcomes(count) {
      if (recorded.length >= count) return Promise.resolve([...recorded]);
      return new Promise((resolve) => waiting.push({ count, resolve }));
    },
    async close() {
      stopSignal();
      await app.close();
      await dispatcher.stop();
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
