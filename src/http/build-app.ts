import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { Webhooks } from '../events/webhooks.ts';
import { errorBody, installErrorHandling } from './errors.ts';
import { Metrics } from './metrics.ts';
import type { AppContext, AppDeps } from './options.ts';
import { authPlugin } from './plugins/auth.ts';
import { sharedRateLimitStore } from './plugins/rate-limit-store.ts';
import { RedisFailureCounter } from './plugins/redis-failure-counter.ts';
import { adminRoutes } from './routes/admin.ts';
import { adminGrantRoutes } from './routes/admin-grants.ts';
import { adminPoolRoutes } from './routes/admin-pools.ts';
import { adminWebhookRoutes } from './routes/admin-webhooks.ts';
import { autoTopupRoutes } from './routes/auto-topup.ts';
import { deductBatchRoutes } from './routes/deduct-batch.ts';
import { demoRoutes } from './routes/demo.ts';
import { eventsFeedRoutes } from './routes/events-feed.ts';
import { featureRoutes } from './routes/features.ts';
import { healthRoutes } from './routes/health.ts';
import { paymentRoutes } from './routes/payments.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { stripeWebhookRoutes } from './routes/stripe-webhook.ts';
import { testPayRoutes } from './routes/test-pay.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { webRoutes } from './routes/web.ts';
import { installSlowClientLimits, slowClientServerOptions } from './slow-clients.ts';
import { proxyTrust } from './trusted-proxies.ts';
import { installStrictValidation } from './validation.ts';

/**
 * Builds the HTTP service without listening: tests drive it with `inject()`, `serve` binds a
 * port. Route groups are plugins; every route declares who may call it.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { options } = deps;
  const trusted = proxyTrust(options.trustProxy);
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit,
    ...slowClientServerOptions(options),
    // Our own trust function, shared with the per-address connection cap; `true` is loopback only.
    trustProxy: options.trustProxy === false ? false : (address: string) => trusted(address),
    logController: new LogController({ disableRequestLogging: true }),
    // Account ids run to 128 characters, 4 UTF-8 bytes each, percent-encoded in a path: room for
    // all of them, so the route's own schema (not the router) decides what is too long.
    routerOptions: { maxParamLength: 2048 },
    // Errors the router raises before any route runs (a malformed URL) keep the JSON error shape.
    frameworkErrors: (err, _request, reply) => {
      const r = reply as unknown as FastifyReply;
      r.status(err.statusCode === 414 ? 414 : 400).send(
        errorBody('invalid_request', `url: ${err.message.split("'")[0]?.trim() || 'is not valid'}`),
      );
    },
    // In-flight and keep-alive requests finish normally while closing; the store closes after.
    return503OnClosing: false,
  });
  installSlowClientLimits(app, options, trusted);
  const webhooks =
    deps.webhooks ??
    new Webhooks({
      outbox: deps.ledger.store.service,
      clock: deps.clock,
      allowPrivate: options.allowPrivateWebhooks === true,
    });
  const ctx: AppContext = { ...deps, webhooks, metrics: new Metrics(() => deps.ledger.groupCommitStats()) };

  // JSON only: a text body is not a silently accepted alternative. An empty JSON body (many
  // clients send the header without one) counts as no body, not as malformed JSON.
  app.removeContentTypeParser('text/plain');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') return done(null, undefined);
    return parseJson(request, text, done);
  });
  installStrictValidation(app);
  installErrorHandling(app);
  app.addHook('onResponse', async (request, reply) => {
    ctx.metrics.requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (reply.statusCode === 503) ctx.metrics.storeErrors.inc();
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'tokenmeter', version: '0.1.0', description: 'Prepaid token billing API' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key or user token' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(cookie);
  if (options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: options.corsOrigins,
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
      credentials: false,
    });
  }
  await app.register(authPlugin, {
    keys: deps.keys,
    sessions: deps.sessions,
    authFailuresPerMinute: options.rateLimits.authFailuresPerMinute,
    operatorSessions: options.demo,
    ...(deps.redis ? { failures: new RedisFailureCounter(deps.redis) } : {}),
  });
  const limits = options.rateLimits;
  await app.register(rateLimit, {
    // With Redis every process counts the same requests; without it, each counts its own.
    ...(deps.redis ? { store: sharedRateLimitStore(deps.redis) } : {}),
    hook: 'preHandler',
    timeWindow: 60_000,
    // Backends with secret keys run at full speed unless a per-key limit is configured.
    allowList: (request) =>
      request.principal?.kind !== 'user' && (limits.appKeyPerMinute === null || !request.principal),
    keyGenerator: (request) => {
      const p = request.principal;
      if (p?.kind === 'user') return `user:${p.account}`;
      return p ? `key:${p.keyName}` : `ip:${request.ip}`;
    },
    max: (request) => (request.principal?.kind === 'user' ? limits.userPerMinute : (limits.appKeyPerMinute ?? 1e9)),
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      success: false,
      code: 'rate_limited',
      error: `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(async (scope) => healthRoutes(scope, ctx));
  await app.register(async (scope) => tokenRoutes(scope, ctx));
  await app.register(async (scope) => deductBatchRoutes(scope, ctx));
  await app.register(async (scope) => featureRoutes(scope, ctx));
  await app.register(async (scope) => sessionRoutes(scope, ctx));
  await app.register(async (scope) => adminRoutes(scope, ctx));
  await app.register(async (scope) => adminGrantRoutes(scope, ctx));
  await app.register(async (scope) => adminPoolRoutes(scope, ctx));
  await app.register(async (scope) => adminWebhookRoutes(scope, ctx));
  await app.register(async (scope) => eventsFeedRoutes(scope, ctx));
  await app.register(async (scope) => paymentRoutes(scope, ctx));
  await app.register(async (scope) => autoTopupRoutes(scope, ctx));
  const stripe = deps.payments?.stripe;
  if (stripe) await app.register(async (scope) => stripeWebhookRoutes(scope, ctx, stripe));
  if (deps.payments?.testProvider) await app.register(async (scope) => testPayRoutes(scope, ctx));
  await app.register(async (scope) => webRoutes(scope, ctx));
  if (options.demo) await app.register(async (scope) => demoRoutes(scope, ctx));
  return app;
}
