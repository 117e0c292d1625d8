import { createRequire } from 'node:module';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import type { RedisLink } from '../redis-link.ts';

type Incr = FastifyRateLimitStore['incr'];
interface PluginStore {
  incr: Incr;
}

// The plugin's own stores (its Redis store: INCR + PEXPIRE in one script, a fixed window per
// key). The package exports them by path only, without types.
const require = createRequire(import.meta.url);
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Redis,
  key: string,
) => PluginStore;
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cache?: number,
) => PluginStore;

/**
 * A store for @fastify/rate-limit that counts in Redis (the plugin's Redis store), and in this
 * process while Redis does not answer, so a Redis outage never fails a request.
 */
export function sharedRateLimitStore(link: RedisLink): FastifyRateLimitStoreCtor {
  class SharedStore implements FastifyRateLimitStore {
    private readonly shared = new RedisStore(false, false, link.client, `${link.prefix}requests:`);
    private readonly local = new LocalStore(false, false, 10_000);

    incr(...[key, callback, timeWindow, max]: Parameters<Incr>): void {
      this.shared.incr(
        key,
        (err, result) => {
          if (err) {
            link.failed(err);
            this.local.incr(key, callback, timeWindow, max);
            return;
          }
          link.ok();
          callback(null, result);
        },
        timeWindow,
        max,
      );
    }

    child(): FastifyRateLimitStore {
      return new SharedStore();
    }
  }
  return SharedStore;
}
