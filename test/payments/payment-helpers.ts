import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import Stripe from 'stripe';
import { KeyService } from '../../src/auth/key-service.ts';
import { SessionService } from '../../src/auth/session-service.ts';
import type { Catalog } from '../../src/core/catalog.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { buildApp } from '../../src/http/build-app.ts';
import { DEFAULT_HTTP_OPTIONS } from '../../src/http/options.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { customerDirectory, type Payments } from '../../src/payments/payments.ts';
import { StripeProvider } from '../../src/payments/stripe-provider.ts';
import { TestProvider } from '../../src/payments/test-provider.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { catalog } from '../helpers/ledger.ts';
import { APP_KEY } from '../http/http-helpers.ts';

export const WEBHOOK_SECRET = 'whsec_test_secret_for_tokenmeter';
const FIXTURES = new URL('../../../shared/fixtures/stripe/', import.meta.url);

/** A Stripe object from the published fixtures, with the fields a test sets. */
export function fixture(name: 'checkout.session' | 'charge' | 'invoice', over: Record<string, unknown> = {}) {
  const base = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as Record<string, unknown>;
  return { ...base, ...over };
}

let eventSeq = 0;
/** A Stripe event envelope around an object. */
export function stripeEvent(type: string, object: Record<string, unknown>, id = `evt_${++eventSeq}_${Date.now()}`) {
  return JSON.stringify({
    id,
    object: 'event',
    api_version: '2025-03-31.basil',
    created: Math.floor(Date.now() / 1000),
    type,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  });
}

const signer = new Stripe('sk_test_signer');
/** The Stripe-Signature header for a body, as Stripe computes it. */
export function sign(payload: string, options: { secret?: string; timestamp?: number } = {}) {
  return signer.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? WEBHOOK_SECRET,
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
}

export interface PaymentApp {
  app: FastifyInstance;
  ledger: TokenLedger;
  clock: ManualClock;
  call(options: InjectOptions & { as?: 'app' | { token: string } | 'none' }): Promise<LightMyRequestResponse>;
  userToken(account: string): Promise<string>;
  /** Posts a signed (or deliberately mis-signed) webhook body. */
  webhook(body: string, signature?: string | null): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** The service over a fresh SQLite file with the test provider and Stripe's webhook (outbound calls go to `stripeApi`). */
export async function paymentApp(
  options: { testProvider?: boolean; stripeApi?: { host: string; port: number }; catalog?: Catalog } = {},
): Promise<PaymentApp> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-pay-'));
  const store = new SqliteStore({ path: join(dir, 'tokens.db') });
  await store.migrate();
  const clock = new ManualClock('2026-03-10T12:00:00Z');
  const ledger = new TokenLedger({ store, catalog: options.catalog ?? catalog, clock });
  const sessions = new SessionService({ store: store.service, clock });
  const stripe = new StripeProvider({
    secretKey: 'sk_test_tokenmeter',
    webhookSecret: WEBHOOK_SECRET,
    customers: customerDirectory(ledger, 'stripe'),
    host: options.stripeApi?.host ?? '127.0.0.1',
    port: options.stripeApi?.port ?? 9,
    protocol: 'http',
  });
  const testProvider = options.testProvider ?? true;
  const payments: Payments = {
    checkout: testProvider ? new TestProvider({ charges: ledger.payments.testCharges }) : stripe,
    stripe,
    testProvider,
    publicUrl: 'http://billing.example',
  };
  const app = await buildApp({
    ledger,
    keys: new KeyService({ store: store.service, bootstrap: { app: APP_KEY } }),
    sessions,
    clock,
    logger: silentLogger,
    options: DEFAULT_HTTP_OPTIONS,
    payments,
  });
  return {
    app,
    ledger,
    clock,
    call({ as = 'app', ...rest }) {
      const headers: Record<string, string> = { ...(rest.headers as Record<string, string> | undefined) };
      if (as === 'app') headers.authorization = `Bearer ${APP_KEY}`;
      else if (typeof as === 'object') headers.authorization = `Bearer ${as.token}`;
      return app.inject({ ...rest, headers });
    },
    async userToken(account) {
      return (await sessions.issue(account)).token;
    },
    webhook(body, signature = sign(body)) {
      return app.inject({
        method: 'POST',
        url: '/api/payment/webhook/stripe',
        headers: {
          'content-type': 'application/json',
          ...(signature === null ? {} : { 'stripe-signature': signature }),
        },
        payload: body,
      });
    },
    async close() {
      await app.close();
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
