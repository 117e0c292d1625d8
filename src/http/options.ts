import type { KeyService } from '../auth/key-service.ts';
import type { SessionService } from '../auth/session-service.ts';
import type { Clock } from '../core/clock.ts';
import type { Webhooks } from '../events/webhooks.ts';
import type { TokenLedger } from '../ledger/token-ledger.ts';
import type { Logger } from '../log/logger.ts';
import type { Payments } from '../payments/payments.ts';
import type { FeatureHandlers } from './feature-handlers.ts';
import type { Metrics } from './metrics.ts';
import type { RedisLink } from './redis-link.ts';

export interface RateLimitOptions {
  /** Failed authentications per client address per minute before 429. */
  authFailuresPerMinute: number;
  /** Requests per user token per minute. */
  userPerMinute: number;
  /** Requests per app key per minute; null (the default) means unlimited, so app backends run at full speed. */
  appKeyPerMinute: number | null;
}

export interface HttpOptions {
  /** Demo mode: demo pages, /demo/login, the offline payment provider. Loopback only. */
  demo: boolean;
  /** Origins whose pages may call the API with a user token (CORS). Empty: CORS off. */
  corsOrigins: string[];
  /**
   * Peers whose X-Forwarded-* headers are believed (TOKENMETER_TRUST_PROXY): false; the proxy
   * addresses, CIDR ranges or the names loopback, linklocal, uniquelocal, comma-separated; or
   * true, which means loopback (a proxy on this host), never "every peer".
   */
  trustProxy: boolean | string;
  rateLimits: RateLimitOptions;
  /** Largest accepted request body, bytes. */
  bodyLimit: number;
  /**
   * A request must arrive whole, headers and body, within this many ms, or it is answered 408
   * and closed: a client that sends slowly cannot hold a connection (and its partial body) forever.
   */
  requestTimeoutMs: number;
  /**
   * A connection on which nothing moves for this many ms is closed, whether it waits between
   * requests (keep-alive) or its client stops reading an answer. Above the 60 s idle timeout of
   * common load balancers, so that they close first.
   */
  idleTimeoutMs: number;
  /**
   * Connections open at once; more are closed as they arrive. With bodyLimit, this bounds the
   * memory that slow clients can hold.
   */
  maxConnections: number;
  /**
   * Connections one client address may hold at once (TOKENMETER_MAX_CONNECTIONS_PER_ADDRESS);
   * default 10% of maxConnections. Trusted proxies are exempt: they carry many clients.
   */
  maxConnectionsPerAddress?: number;
  /** Requests a connection may have unanswered at once (HTTP pipelining); a connection with more is closed. */
  maxPipelined: number;
  /** The built web front end (default: the package's `dist/web`). */
  webRoot?: string;
  /**
   * Webhook URLs may name loopback and private addresses (TOKENMETER_WEBHOOK_ALLOW_PRIVATE=true):
   * for endpoints on the operator's own network. Off by default, so the service cannot be aimed at them.
   */
  allowPrivateWebhooks?: boolean;
}

/** Everything the HTTP app is built from; `buildApp(deps)` creates no connections of its own. */
export interface AppDeps {
  ledger: TokenLedger;
  keys: KeyService;
  sessions: SessionService;
  clock: Clock;
  logger: Logger;
  options: HttpOptions;
  features?: FeatureHandlers;
  /** Payment providers; without them packages and history still answer, checkout is 503. */
  payments?: Payments;
  /** Where rate limits are counted across processes (REDIS_URL); without it, per process. */
  redis?: RedisLink;
  /** Webhook endpoints and the event feed; by default over the ledger's store. */
  webhooks?: Webhooks;
}

export const DEFAULT_HTTP_OPTIONS: HttpOptions = {
  demo: false,
  corsOrigins: [],
  trustProxy: false,
  rateLimits: { authFailuresPerMinute: 30, userPerMinute: 600, appKeyPerMinute: null },
  bodyLimit: 64 * 1024,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 72_000,
  maxConnections: 2048,
  maxPipelined: 1,
};

/** What routes receive: the deps plus the app's metrics and its webhooks. */
export type AppContext = AppDeps & { metrics: Metrics; webhooks: Webhooks };
