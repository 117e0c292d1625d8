import type { Redis } from 'ioredis';
import type { RedisLink } from '../redis-link.ts';
import { FAILURE_WINDOW_MS, type FailureCounter, LocalFailureCounter } from './failure-counter.ts';

// A fixed window: the first failure starts it and sets its expiry, later ones only count.
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
`;

type WithHit = Redis & { tokenmeterAuthFailure(key: string, windowMs: number): Promise<number> };

/**
 * Failed authentications counted in Redis, on the link's client, so every process sees the
 * same count; while Redis does not answer, this process counts alone.
 */
export class RedisFailureCounter implements FailureCounter {
  private readonly link: RedisLink;
  private readonly client: WithHit;
  private readonly local = new LocalFailureCounter();

  constructor(link: RedisLink) {
    this.link = link;
    if (!('tokenmeterAuthFailure' in link.client)) {
      link.client.defineCommand('tokenmeterAuthFailure', { numberOfKeys: 1, lua: HIT });
    }
    this.client = link.client as WithHit;
  }

  async hit(key: string): Promise<number> {
    try {
      const count = await this.client.tokenmeterAuthFailure(
        `${this.link.prefix}auth-failures:${key}`,
        FAILURE_WINDOW_MS,
      );
      this.link.ok();
      return count;
    } catch (err) {
      this.link.failed(err);
      return this.local.hit(key);
    }
  }
}
