import { parseIntStrict } from '../core/amounts.ts';
import { invalid } from '../core/errors.ts';
import { DEFAULT_HTTP_OPTIONS, type HttpOptions } from './options.ts';
import { parseTrustProxy } from './trusted-proxies.ts';

type Env = Record<string, string | undefined>;

/**
 * HTTP options from the environment (TOKENMETER_CORS_ORIGINS, TOKENMETER_TRUST_PROXY,
 * TOKENMETER_RATE_LIMIT_*, TOKENMETER_REQUEST_TIMEOUT_MS, TOKENMETER_IDLE_TIMEOUT_MS,
 * TOKENMETER_MAX_CONNECTIONS, TOKENMETER_MAX_CONNECTIONS_PER_ADDRESS).
 */
export function httpOptionsFromEnv(env: Env, demo: boolean): HttpOptions {
  const origins = (env.TOKENMETER_CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw invalid('TOKENMETER_CORS_ORIGINS', `"${origin}" is not an origin like https://app.example.com`);
    }
  }
  const trust = env.TOKENMETER_TRUST_PROXY?.trim() ?? '';
  const d = DEFAULT_HTTP_OPTIONS.rateLimits;
  const perMinute = (name: string, fallback: number | null) => {
    const text = env[name]?.trim();
    return text ? parseIntStrict(name, text) : fallback;
  };
  const positive = (name: string, fallback: number) => {
    const text = env[name]?.trim();
    const value = text ? parseIntStrict(name, text) : fallback;
    if (value < 1) throw invalid(name, `must be a positive integer (got ${value})`);
    return value;
  };
  const maxConnections = positive('TOKENMETER_MAX_CONNECTIONS', DEFAULT_HTTP_OPTIONS.maxConnections);
  return {
    ...DEFAULT_HTTP_OPTIONS,
    requestTimeoutMs: positive('TOKENMETER_REQUEST_TIMEOUT_MS', DEFAULT_HTTP_OPTIONS.requestTimeoutMs),
    idleTimeoutMs: positive('TOKENMETER_IDLE_TIMEOUT_MS', DEFAULT_HTTP_OPTIONS.idleTimeoutMs),
    maxConnections,
    maxConnectionsPerAddress: positive('TOKENMETER_MAX_CONNECTIONS_PER_ADDRESS', defaultPerAddress(maxConnections)),
    demo,
    corsOrigins: origins,
    trustProxy: parseTrustProxy(trust === 'true' ? true : trust === 'false' ? false : trust),
    rateLimits: {
      authFailuresPerMinute:
        perMinute('TOKENMETER_RATE_LIMIT_AUTH_FAILURES', d.authFailuresPerMinute) ?? d.authFailuresPerMinute,
      userPerMinute: perMinute('TOKENMETER_RATE_LIMIT_USER', d.userPerMinute) ?? d.userPerMinute,
      appKeyPerMinute: perMinute('TOKENMETER_RATE_LIMIT_APP_KEY', null),
    },
  };
}

/** The default per-address connection cap: 10% of all connections, at least 1. */
export function defaultPerAddress(maxConnections: number): number {
  return Math.max(1, Math.floor(maxConnections / 10));
}

/** Loopback hosts: demo mode lets anyone sign in as anyone, so it listens on nothing else. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
