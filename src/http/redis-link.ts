import type { Redis } from 'ioredis';
import { invalid } from '../core/errors.ts';
import type { Logger } from '../log/logger.ts';

type Env = Record<string, string | undefined>;

/** How long a rate-limit command may wait for Redis before this process counts alone. */
const COMMAND_TIMEOUT_MS = 500;

/**
 * The Redis connection the rate limits share across processes (REDIS_URL), and whether it
 * currently answers. Redis is an optimisation of the limits, never a dependency of a request:
 * a command that fails makes the caller count in this process, and the outage is logged once
 * (and its end once), not per request.
 */
export class RedisLink {
  readonly client: Redis;
  /** Prepended to every key, so deployments (or test runs) sharing a Redis do not collide. */
  readonly prefix: string;
  private readonly logger: Logger;
  private down = false;

  constructor(options: { client: Redis; prefix: string; logger: Logger }) {
    this.client = options.client;
    this.prefix = options.prefix;
    this.logger = options.logger;
    // ioredis emits an error per failed reconnection; the outage is reported by failed().
    this.client.on('error', () => {});
  }

  /** A command failed: from now until one succeeds, each process counts on its own. */
  failed(err: unknown): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      'Redis unreachable: rate limits are counted per process until it answers again',
    );
  }

  /** A command succeeded. */
  ok(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info('Redis answers again: rate limits are shared across processes');
  }

  close(): void {
    this.client.disconnect();
  }
}

/**
 * Connects to REDIS_URL when it is set (TOKENMETER_REDIS_PREFIX names the key prefix, default
 * `tokenmeter:`). An unreachable Redis does not stop the start: the link reports it once and
 * keeps reconnecting in the background.
 */
export async function redisFromEnv(env: Env, logger: Logger): Promise<RedisLink | undefined> {
  const url = env.REDIS_URL?.trim();
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('REDIS_URL', 'is not a URL like redis://127.0.0.1:6379');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw invalid('REDIS_URL', 'must start with redis:// or rediss://');
  }
  // Loaded only here: a service without REDIS_URL never holds the client library in memory.
  const { Redis: RedisClient } = await import('ioredis');
  const client = new RedisClient(url, {
    lazyConnect: true,
    // Fail at once instead of queueing while disconnected, and never retry a command: a limit
    // counted locally is better than a request kept waiting.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  const link = new RedisLink({ client, prefix: env.TOKENMETER_REDIS_PREFIX ?? 'tokenmeter:', logger });
  await client.connect().then(
    () => logger.info({ redis: `${parsed.host}` }, 'rate limits shared through Redis'),
    (err: unknown) => link.failed(err),
  );
  return link;
}
