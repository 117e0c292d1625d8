import type { FastifyInstance } from 'fastify';
import { KeyService } from '../auth/key-service.ts';
import { SessionService } from '../auth/session-service.ts';
import { systemClock } from '../core/clock.ts';
import { TokenmeterError } from '../core/errors.ts';
import { WebhookDispatcher } from '../events/dispatcher.ts';
import { DueWorkScheduler } from '../events/due-work.ts';
import { topupWorkerSettingsFromEnv } from '../events/topup-env.ts';
import { TopupWorker } from '../events/topup-worker.ts';
import { webhookSettingsFromEnv } from '../events/webhook-env.ts';
import { Webhooks } from '../events/webhooks.ts';
import { openLedger } from '../ledger/open-ledger.ts';
import type { TokenLedger } from '../ledger/token-ledger.ts';
import type { Logger } from '../log/logger.ts';
import type { PaymentProvider } from '../payments/payment-provider.ts';
import { type Payments, paymentsFromEnv } from '../payments/payments.ts';
import { bootstrapSecretsFromEnv } from './bootstrap-secrets.ts';
import { buildApp } from './build-app.ts';
import { httpOptionsFromEnv, isLoopback } from './http-env.ts';
import { type RedisLink, redisFromEnv } from './redis-link.ts';
import { startupLines } from './startup-urls.ts';

export interface ServeOptions {
  port: number;
  host: string;
  demo: boolean;
  configPath?: string;
  env: Record<string, string | undefined>;
  logger: Logger;
}

export interface RunningServer {
  app: FastifyInstance;
  ledger: TokenLedger;
  url: string;
  /** Stops accepting, finishes in-flight requests, closes the store. */
  close(): Promise<void>;
}

/** Opens the ledger (migrating it), builds the app and listens. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  if (options.demo && !isLoopback(options.host)) {
    throw new TokenmeterError(
      'invalid_request',
      `demo mode lets anyone sign in as anyone, so it only listens on loopback (got --host ${options.host})`,
    );
  }
  const { env, logger } = options;
  // Refused before anything opens: a key that could never match is a typo, not a choice.
  const secrets = bootstrapSecretsFromEnv(env);
  const httpOptions = httpOptionsFromEnv(env, options.demo);
  const webhookSettings = webhookSettingsFromEnv(env);
  const topupSettings = topupWorkerSettingsFromEnv(env);
  const ledger = await openLedger({ env, logger, ...(options.configPath ? { configPath: options.configPath } : {}) });
  let redis: RedisLink | undefined;
  let stopDelivery: () => Promise<void> = async () => {};
  try {
    redis = await redisFromEnv(env, logger);
    const store = ledger.store.service;
    // Delivery and time-driven work run in the server process; delivery is woken by each commit
    // that records events.
    const dispatcher = new WebhookDispatcher({ outbox: store, clock: systemClock, logger, ...webhookSettings });
    const dueWork = new DueWorkScheduler({
      ledger,
      outbox: store,
      clock: systemClock,
      logger,
      noticeMs: webhookSettings.expiringNoticeMs,
    });
    const payments = await paymentsFromEnv(env, ledger, options.demo);
    // Automatic top-ups are charged by a worker woken by the commit that records an intent.
    const topups = new TopupWorker({
      autoTopup: ledger.autoTopup,
      provider: (name) => providerNamed(payments, name),
      clock: systemClock,
      logger,
      ...topupSettings,
    });
    const stopSignal = ledger.onEventsCommitted(() => dispatcher.wake());
    const stopTopupSignal = ledger.onTopupIntents(() => topups.wake());
    // Another process's commits: PostgreSQL tells (LISTEN/NOTIFY); on SQLite the workers poll.
    const stopWatching = (await ledger.store.watchEvents?.(() => dispatcher.wake())) ?? (async () => {});
    const stopWatchingTopups = (await ledger.store.watchTopups?.(() => topups.wake())) ?? (async () => {});
    stopDelivery = async () => {
      stopSignal();
      stopTopupSignal();
      await stopWatching();
      await stopWatchingTopups();
      await topups.stop();
      await dueWork.stop();
      await dispatcher.stop();
    };
    const app = await buildApp({
      ledger,
      keys: new KeyService({ store, bootstrap: { app: secrets.app, admin: secrets.admin } }),
      sessions: new SessionService({ store, clock: systemClock, secret: secrets.sessionSecret }),
      clock: systemClock,
      logger,
      options: httpOptions,
      payments,
      webhooks: new Webhooks({
        outbox: store,
        clock: systemClock,
        allowPrivate: webhookSettings.allowPrivate,
        retried: () => dispatcher.wake(),
      }),
      ...(redis ? { redis } : {}),
    });
    dispatcher.start();
    dueWork.start();
    topups.start();
    await app.listen({ port: options.port, host: options.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const url = `http://${host}:${port}`;
    logger.info({ url, store: ledger.store.location, demo: options.demo }, `tokenmeter serving ${url}`);
    if (env.TOKENMETER_TRUST_PROXY?.trim() === 'true') {
      logger.info(
        'TOKENMETER_TRUST_PROXY=true trusts a proxy on this host only (loopback); list the addresses of a proxy elsewhere',
      );
    }
    for (const line of startupLines(url, options.demo)) logger.info(line);
    let closing: Promise<void> | null = null;
    return {
      app,
      ledger,
      url,
      close() {
        closing ??= app
          .close()
          .then(stopDelivery)
          .then(() => {
            redis?.close();
            return ledger.close();
          });
        return closing;
      },
    };
  } catch (err) {
    await stopDelivery();
    redis?.close();
    await ledger.close();
    throw err;
  }
}

/** The configured provider of a saved card's name, if it runs here. */
function providerNamed(payments: Payments, name: string): PaymentProvider | null {
  if (payments.stripe?.name === name) return payments.stripe;
  return payments.checkout?.name === name ? payments.checkout : null;
}
